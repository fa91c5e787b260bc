// Moving a clear CA key into the file keystore at every fault point: after
// each, the maker directory loads and its CA key opens and signs for
// ca.crt (the clear one or the keystore's, never neither), and once the
// move is acknowledged the clear file is gone.
#include <gtest/gtest.h>

#include "base/clock.h"
#include "platform/crash_testing.h"
#include "platform/file.h"
#include "provision/ca_key.h"
#include "provision/maker.h"
#include "provision/testing/legacy_maker.h"

namespace warden::provision {
namespace {

using platform::Env;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;

MakerSettings Settings() {
  MakerSettings s;
  s.name = "Example Devices";
  s.contact = "mailto:security@example.com";
  s.policy_url = "https://example.com/security";
  return s;
}

TEST(CaKeyCrashTest, AnImportLeavesTheOldKeyOrTheNewOneUsable) {
  FakeClock clock;
  CrashTest t;
  t.setup = [&](const std::string& root) {
    ASSERT_TRUE(
        testing::MakeLegacyMaker(root + "/maker", Settings(), clock).ok());
  };
  t.workload = [&](Env& env, const std::string& root) {
    return ImportCaKey(root + "/maker", CaKeyLocation{}, {}, env);
  };
  t.check = [&](Env& env, const std::string& root, bool acknowledged) {
    auto maker = LoadMaker(root + "/maker", env);
    ASSERT_TRUE(maker.ok()) << maker.status().ToString();
    {
      auto key = OpenMakerCaKey(*maker, {}, env);
      ASSERT_TRUE(key.ok()) << "no usable CA key ("
                            << CaKeyBackendName(maker->ca_key_location.backend)
                            << "): " << key.status().ToString();
      auto sig = key->key.Sign(AsBytes(std::string_view("challenge")));
      ASSERT_TRUE(sig.ok());
      EXPECT_TRUE(maker->ca_cert.public_key()
                      .Verify(AsBytes(std::string_view("challenge")), *sig)
                      .ok());
    }
    if (acknowledged) {
      EXPECT_EQ(maker->ca_key_location.backend, CaKeyBackend::kFile);
      EXPECT_FALSE(platform::Exists(env, root + "/maker/ca.key"))
          << "an acknowledged import left the clear key";
    }
    // Whatever happened, running it again finishes it.
    Status again = ImportCaKey(root + "/maker", CaKeyLocation{}, {}, env);
    EXPECT_TRUE(again.ok() || again.code() == Code::kAlreadyExists)
        << again.ToString();
    EXPECT_FALSE(platform::Exists(env, root + "/maker/ca.key"));
  };
  auto report = RunCrashTest(t);
  EXPECT_GT(report.fault_points, 10);
  EXPECT_GT(report.power_cuts, 10);
}

}  // namespace
}  // namespace warden::provision
