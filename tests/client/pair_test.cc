// Pairing and the owner verbs end to end against the real device: the
// device's pairing code, throttle, owner store and authentication are the
// ones wardend runs.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "api/testing/test_device.h"
#include "base/clock.h"
#include "base/rng.h"
#include "client/connection.h"
#include "client/owner.h"
#include "schema/json.h"

namespace warden::client {
namespace {

using api::testing::TestDevice;
using api::testing::TestDeviceOptions;

class PairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    root_ = ::testing::TempDir() + "warden-pair-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    home_ = root_ + "/home";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void StartDevice(TestDeviceOptions options = {}) {
    auto device = TestDevice::Start(std::move(options));
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
  }

  Result<PairResult> PairWith(uint32_t passcode, std::string_view name = "",
                              std::optional<std::string> pw = std::nullopt,
                              const std::string& home = "") {
    return PairDevice(home.empty() ? home_ : home, device_->url(), passcode,
                      name, name, std::move(pw), clock_, SystemRng());
  }

  uint32_t WrongCode() const {
    return device_->passcode() == 12345670 ? 12345671 : 12345670;
  }

  size_t Registered() { return Registry::Load(home_).value().devices().size(); }

  FakeClock clock_{std::chrono::system_clock::now()};
  std::string root_;
  std::string home_;
  std::unique_ptr<TestDevice> device_;
};

TEST_F(PairTest, PairsPinsAndIsRecognisedByItsCertificate) {
  StartDevice();
  Result<PairResult> r =
      PairWith(device_->passcode(), "", std::string("seven orange kites"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->serial, device_->serial());
  EXPECT_EQ(r->name, device_->serial());  // the name defaults to the serial
  EXPECT_EQ(r->model, "Thermo Test");
  EXPECT_EQ(r->fingerprint, device_->fingerprint());
  EXPECT_TRUE(device_->IsPaired().value());
  EXPECT_EQ(device_->CountEvents("paired"), 1);

  // The registry pins the certificate the pairing connection presented.
  DeviceRecord rec =
      Registry::Load(home_).value().Find(device_->serial()).value();
  EXPECT_EQ(rec.fingerprint, device_->fingerprint());
  EXPECT_EQ(rec.url.port, device_->port());

  // Mutual TLS: the device knows the owner by the key it registered. An
  // owner-only call without the app gets as far as "app not running".
  {
    Result<DeviceSession> s = DeviceSession::Open(home_, device_->serial());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    Result<int64_t> until = s->OpenPairing(5);
    ASSERT_TRUE(until.ok()) << until.status().ToString();
    EXPECT_GT(*until, UnixSeconds(std::chrono::system_clock::now()));
    EXPECT_EQ(s->State().status().code(), Code::kUnavailable);
  }
  // Another owner key on a pinned connection is a stranger.
  {
    OwnerIdentity stranger =
        LoadOrCreateOwnerIdentity(root_ + "/stranger", clock_).value();
    ConnectOptions o;
    o.pinned_fingerprint = device_->fingerprint();
    o.client_key = &stranger.key;
    o.client_certificate = &stranger.certificate;
    Result<Connection> conn = Connection::Open(rec.url, o);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    Result<web::Response> state = conn->Request(http::verb::get, "/v1/state");
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_EQ(state->result(), http::status::unauthorized);
  }
  // The password set at pairing logs in.
  {
    Result<Connection> conn =
        Connection::Open(rec.url, {.pinned_fingerprint = rec.fingerprint});
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    Result<web::Response> login = conn->Request(
        http::verb::post, "/v1/login",
        schema::Json{{"owner", r->owner}, {"password", "seven orange kites"}});
    ASSERT_TRUE(login.ok()) << login.status().ToString();
    EXPECT_EQ(login->result(), http::status::ok) << login->body();
  }

  ASSERT_TRUE(ResetDevice(home_, device_->serial()).ok());
  EXPECT_FALSE(device_->IsPaired().value());
  EXPECT_EQ(Registered(), 0u);
}

TEST_F(PairTest, AWrongCodeIsSentToTheDeviceRefusedAndCounted) {
  TestDeviceOptions options;
  options.service.pairing.guard.max_failures = 2;
  StartDevice(options);

  for (int i = 0; i < 2; ++i) {
    Result<PairResult> r = PairWith(WrongCode(), "", std::string("a password"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated)
        << r.status().ToString();
    EXPECT_NE(r.status().message().find("the setup code is wrong"),
              std::string::npos)
        << r.status().message();
    // Our check failed first, and the device refused our proof too.
    EXPECT_NE(r.status().message().find("the device refused it too"),
              std::string::npos)
        << r.status().message();
  }
  EXPECT_FALSE(device_->IsPaired().value());
  EXPECT_EQ(Registered(), 0u);
  // The device counted both, so now even the right code waits.
  Result<PairResult> right = PairWith(device_->passcode());
  EXPECT_EQ(right.status().code(), Code::kResourceExhausted)
      << right.status().ToString();
  EXPECT_NE(right.status().message().find("retry after"), std::string::npos);
  EXPECT_FALSE(device_->IsPaired().value());
}

TEST_F(PairTest, AnAlreadyPairedDeviceIsAFailedPrecondition) {
  StartDevice();
  ASSERT_TRUE(PairWith(device_->passcode()).ok());
  Result<PairResult> r =
      PairWith(device_->passcode(), "", std::nullopt, root_ + "/other");
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("already paired"), std::string::npos);
}

TEST_F(PairTest, ATakenNameStopsBeforeTheKeyIsSent) {
  StartDevice();
  ASSERT_TRUE(EnsureHomeDir(home_).ok());
  Registry registry = Registry::Load(home_).value();
  DeviceRecord taken{
      .name = device_->serial(),
      .url = web::ParseUrl("https://127.0.0.1:1").value(),
      .fingerprint = std::string(64, 'a'),
      .serial = "SN-ELSE",
      .model = "M",
      .paired_at = "2024-01-01T00:00:00Z",
  };
  ASSERT_TRUE(registry.Add(taken).ok());
  ASSERT_TRUE(registry.Save().ok());

  // The default name (the serial) is known only after begin; it is taken.
  Result<PairResult> r = PairWith(device_->passcode());
  EXPECT_EQ(r.status().code(), Code::kAlreadyExists) << r.status().ToString();
  EXPECT_FALSE(device_->IsPaired().value());
  EXPECT_EQ(device_->CountEvents("pairing_failed"), 0);
  // With a free name it pairs.
  ASSERT_TRUE(PairWith(device_->passcode(), "kitchen").ok());
  EXPECT_EQ(Registered(), 2u);
}

TEST_F(PairTest, ARegisteredDeviceWithANewCertificateIsRefused) {
  StartDevice();
  ASSERT_TRUE(PairWith(device_->passcode(), "hall").ok());
  // Another unit takes the registered address.
  TestDeviceOptions swapped;
  swapped.serial = "SN-SWAPPED";
  auto other = TestDevice::Start(swapped);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  Registry reg = Registry::Load(home_).value();
  DeviceRecord rec = reg.Find("hall").value();
  ASSERT_TRUE(reg.Remove("hall").ok());
  rec.url.port = (*other)->port();
  ASSERT_TRUE(reg.Add(rec).ok());
  ASSERT_TRUE(reg.Save().ok());

  Result<DeviceSession> s = DeviceSession::Open(home_, "hall");
  EXPECT_EQ(s.status().code(), Code::kUnauthenticated) << s.status().ToString();
  ASSERT_TRUE((*other)->WaitForIdle());
  EXPECT_EQ((*other)->wire().client_certificates, 0);
  EXPECT_EQ((*other)->wire().application_records, 0);
}

}  // namespace
}  // namespace warden::client
