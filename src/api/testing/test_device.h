// Test-only (target warden_api_testing): a real device in the test's own
// process. A freshly provisioned unit (maker CA, identity, setup code, as
// `warden mfg provision` makes them) served by wardend's own api::Server
// and api::DeviceService on 127.0.0.1 with an ephemeral port, on a
// background thread, so that the owner's client and the `warden` tool are
// tested against the device code that ships, not a stand-in.
//
// Besides the device itself it records what a test needs to see from the
// device's side: the events it published, and what the TLS layer received
// from clients (client certificates, application data), so that a test can
// show that nothing was sent.
#ifndef WARDEN_API_TESTING_TEST_DEVICE_H_
#define WARDEN_API_TESTING_TEST_DEVICE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/device_service.h"
#include "api/server.h"
#include "base/status.h"

namespace warden::api::testing {

// The service's defaults with the cheapest password hash, so that logins in
// tests stay fast.
ServiceOptions FastServiceOptions();

struct TestDeviceOptions {
  std::string serial = "SN-TEST-0001";
  ServiceOptions service = FastServiceOptions();
  ServerOptions server;
};

// What the device's TLS layer received from clients, over every connection.
struct WireCounts {
  int client_certificates = 0;  // TLS Certificate messages from clients
  int application_records = 0;  // TLS 1.3 application data records
};

class TestDevice {
 public:
  // Provisions a unit into a new temporary directory and starts serving it
  // (the app is not run: state endpoints answer 503). Errors from
  // provisioning, loading the unit, or binding the socket.
  static Result<std::unique_ptr<TestDevice>> Start(
      TestDeviceOptions options = {});
  // Stops serving, joins the thread and removes the directory.
  ~TestDevice();
  TestDevice(const TestDevice&) = delete;
  TestDevice& operator=(const TestDevice&) = delete;

  uint16_t port() const;
  std::string url() const;  // "https://127.0.0.1:PORT"
  uint32_t passcode() const;
  const std::string& manual_code() const;  // 11 digits
  const std::string& serial() const;
  // Hex SHA-256 of the unit's certificate DER: what an owner pins.
  const std::string& fingerprint() const;
  const std::string& state_dir() const;

  // The kind names of the events published so far, oldest first.
  std::vector<std::string> EventNames() const;
  int CountEvents(const std::string& kind) const;
  WireCounts wire() const;
  // Waits until the device has closed every connection, so that all it
  // received is counted. False when `timeout` passes first.
  bool WaitForIdle(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

  // Whether the device has an owner, read on the device's thread.
  Result<bool> IsPaired();

  // Stops accepting and closes every connection; later connections are
  // refused. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit TestDevice(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::api::testing

#endif  // WARDEN_API_TESTING_TEST_DEVICE_H_
