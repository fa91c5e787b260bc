// Moving a unit's clear identity.key and pairing.json into its keystore,
// at every fault point: after each, the unit loads (the next start
// finishes the move), with its own key and verifier record, and once the
// move was acknowledged no clear file is left.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "keystore/file_backend.h"
#include "platform/crash_testing.h"
#include "platform/file.h"
#include "provision/maker.h"
#include "provision/provision.h"
#include "provision/sealed_device.h"

namespace warden::provision {
namespace {

using platform::Env;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;

Result<std::unique_ptr<keystore::Keystore>> OpenStore(Env& env,
                                                      const std::string& root) {
  keystore::FileBackendOptions options;
  options.kek_path = root + "/unit/keystore.kek";
  WARDEN_ASSIGN_OR_RETURN(auto backend,
                          keystore::FileBackend::Open(env, options));
  return keystore::Keystore::Open(env, root + "/unit/keystore",
                                  std::move(backend));
}

// What the unit was provisioned with, from setup to every check.
struct Original {
  std::optional<crypto::PublicKey> key;
  Bytes w0;
};

TEST(SealedDeviceCrashTest, MovingTheSecretsIntoTheKeystoreNeverLosesThem) {
  FakeClock clock;
  auto original = std::make_shared<Original>();
  CrashTest t;
  t.setup = [&clock, original](const std::string& root) {
    MakerSettings s;
    s.name = "Example Devices";
    s.contact = "mailto:security@example.com";
    s.policy_url = "https://example.com/security";
    ASSERT_TRUE(InitMaker(root + "/maker", s, clock).ok());
    ProvisionRequest req{"SN-0001", "Thermostat T1"};
    ASSERT_TRUE(
        ProvisionUnit(root + "/maker", req, root + "/unit", clock, SystemRng())
            .ok());
    auto clear = LoadDevice(root + "/unit");
    ASSERT_TRUE(clear.ok());
    original->key = clear->key.public_key();
    original->w0 = Bytes(clear->w0.view().begin(), clear->w0.view().end());
  };
  t.workload = [](Env& env, const std::string& root) -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
    return LoadSealedDevice(root + "/unit", *store, env).status();
  };
  t.check = [original](Env& env, const std::string& root, bool acknowledged) {
    if (acknowledged) {
      EXPECT_FALSE(platform::Exists(env, root + "/unit/identity.key"));
      EXPECT_FALSE(platform::Exists(env, root + "/unit/pairing.json"));
    }
    auto store = OpenStore(env, root);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto unit = LoadSealedDevice(root + "/unit", **store, env);
    ASSERT_TRUE(unit.ok()) << unit.status().ToString();
    EXPECT_TRUE(unit->key.public_key() == *original->key);
    EXPECT_TRUE(std::ranges::equal(unit->w0.view(), original->w0));
    auto sig = unit->key.Sign(ToBytes("check"));
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(original->key->Verify(ToBytes("check"), *sig).ok());
  };
  auto report = RunCrashTest(t);
  EXPECT_GT(report.power_cuts, 5);
}

}  // namespace
}  // namespace warden::provision
