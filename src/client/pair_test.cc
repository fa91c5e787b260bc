// Pairing and owner verbs against a stand-in device (fake_device.h) whose
// pairing side is the device's own code.
#include <gtest/gtest.h>

#include <csignal>

#include "base/clock.h"
#include "base/rng.h"
#include "client/fake_device.h"
#include "client/owner.h"
#include "client/tls_test_server.h"

namespace warden::client {
namespace {

using testing::FakeDevice;
using testing::kPasscode;
using testing::kSerial;
using testing::MakeServerIdentity;
using testing::TestRequest;
using testing::TestResponse;
using testing::TlsTestServer;

class PairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/warden_pair_test_XXXXXX";
    home_ = std::string(mkdtemp(tmpl)) + "/home";
  }
  void TearDown() override {
    std::system(("rm -rf '" + home_.substr(0, home_.size() - 5) + "'").c_str());
  }

  std::unique_ptr<TlsTestServer> Serve(int connections) {
    auto server =
        std::make_unique<TlsTestServer>(device_.ServerOptions(connections),
                                        [this](const TestRequest& r, SSL* ssl) {
                                          return device_.Handle(r, ssl);
                                        });
    port_ = server->Start();
    url_ = "https://127.0.0.1:" + std::to_string(port_);
    return server;
  }

  Result<PairResult> PairWith(uint32_t passcode, std::string_view name = "",
                              std::optional<std::string> pw = std::nullopt) {
    return PairDevice(home_, url_, passcode, name, std::move(pw), clock_,
                      SystemRng());
  }

  size_t Registered() { return Registry::Load(home_).value().devices().size(); }

  FakeDevice device_;
  FakeClock clock_{std::chrono::system_clock::now()};
  std::string home_;
  uint16_t port_ = 0;
  std::string url_;
};

TEST_F(PairTest, PairsPinsAndThenActsAsOwner) {
  auto server = Serve(3);
  ASSERT_NE(port_, 0);
  Result<PairResult> r = PairWith(kPasscode, "", std::string("hunter2 is bad"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->serial, kSerial);
  EXPECT_EQ(r->name, kSerial);  // the name defaults to the serial
  EXPECT_EQ(r->model, "Thermostat T1");
  EXPECT_EQ(r->fingerprint, device_.identity_.cert.Fingerprint());

  // The device registered our key and password.
  OwnerIdentity me = LoadOwnerIdentity(home_).value();
  EXPECT_EQ(device_.owner_key_, me.key.public_key().Fingerprint());
  EXPECT_EQ(device_.password_, "hunter2 is bad");
  EXPECT_EQ(device_.owner_name_, kSerial);

  // The registry pins the certificate.
  DeviceRecord rec = Registry::Load(home_).value().Find(kSerial).value();
  EXPECT_EQ(rec.fingerprint, device_.identity_.cert.Fingerprint());
  EXPECT_EQ(rec.url.port, port_);
  EXPECT_EQ(rec.model, "Thermostat T1");

  {
    Result<DeviceSession> s = DeviceSession::Open(home_, kSerial);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    Result<schema::Json> refused = s->Set("setpoint", schema::Json(40));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(refused.status().message(),
              "device refused setpoint: /value: 40 is greater than the "
              "maximum 30 (maximum)");
    Result<schema::Json> ok = s->Set("setpoint", schema::Json(21));
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_EQ((*ok)["value"], 21);
    EXPECT_EQ(s->Get("humidity").status().code(), Code::kNotFound);
  }

  ASSERT_TRUE(ResetDevice(home_, kSerial).ok());
  EXPECT_FALSE(device_.owner_key_.has_value());
  EXPECT_EQ(Registered(), 0u);
  server->Stop();
}

TEST_F(PairTest, WrongCodeIsUnauthenticatedAndLeavesNothing) {
  auto server = Serve(1);
  Result<PairResult> r = PairWith(12345670);
  server->Stop();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << r.status().ToString();
  EXPECT_FALSE(device_.owner_key_.has_value());
  EXPECT_EQ(device_.confirms_, 0);  // we stopped at the device's MAC
  EXPECT_EQ(Registered(), 0u);
}

TEST_F(PairTest, AlreadyPairedDeviceIsAFailedPrecondition) {
  device_.owner_key_ = "someone else";
  auto server = Serve(1);
  Result<PairResult> r = PairWith(kPasscode);
  server->Stop();
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("already paired"), std::string::npos);
  EXPECT_EQ(Registered(), 0u);
}

TEST_F(PairTest, ThrottlingCarriesTheRetryDelay) {
  device_.throttle_ = true;
  auto server = Serve(1);
  Result<PairResult> r = PairWith(kPasscode);
  server->Stop();
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted);
  EXPECT_NE(r.status().message().find("retry after 30 s"), std::string::npos)
      << r.status().message();
}

TEST_F(PairTest, ATakenNameStopsBeforeTheKeyIsSent) {
  auto server = Serve(2);
  ASSERT_TRUE(PairWith(kPasscode, "kitchen").ok());
  device_.owner_key_.reset();  // as if reset by its button
  Result<PairResult> r = PairWith(kPasscode);
  // Defaulted name = serial, not taken: pairs. Then the same name again:
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  server->Stop();
  EXPECT_EQ(Registered(), 2u);

  device_.owner_key_.reset();
  auto server2 = Serve(1);
  int confirms = device_.confirms_;
  Result<PairResult> again = PairWith(kPasscode);
  server2->Stop();
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(device_.confirms_, confirms);
  EXPECT_FALSE(device_.owner_key_.has_value());
}

TEST_F(PairTest, ADeviceReportingAnotherCertificateIsRefused) {
  device_.lie_about_fingerprint_ = true;
  auto server = Serve(1);
  Result<PairResult> r = PairWith(kPasscode);
  server->Stop();
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(Registered(), 0u);
}

TEST_F(PairTest, ARegisteredDeviceWithANewCertificateIsRefused) {
  auto server = Serve(1);
  ASSERT_TRUE(PairWith(kPasscode).ok());
  server->Stop();
  device_.identity_ = MakeServerIdentity(kSerial);  // swapped unit
  TlsTestServer other(device_.ServerOptions(1),
                      [this](const TestRequest& r, SSL* ssl) {
                        return device_.Handle(r, ssl);
                      });
  uint16_t port = other.Start();
  // Point the registry entry at the new server.
  Registry reg = Registry::Load(home_).value();
  DeviceRecord rec = reg.Find(kSerial).value();
  ASSERT_TRUE(reg.Remove(kSerial).ok());
  rec.url.port = port;
  ASSERT_TRUE(reg.Add(rec).ok());
  ASSERT_TRUE(reg.Save().ok());

  Result<DeviceSession> s = DeviceSession::Open(home_, kSerial);
  other.Stop();
  EXPECT_EQ(s.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(other.app_bytes_received(), 0u);
}

}  // namespace
}  // namespace warden::client
