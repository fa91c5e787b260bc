// wardend's keystore as the configuration opens it: the file backend by
// default under the state directory, the PKCS#11 PIN from the environment
// only, the TPM through its TCTI.
#include "daemon/keystore_setup.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "keystore/testing/swtpm.h"
#include "platform/file.h"

namespace warden::daemon {
namespace {

namespace fs = std::filesystem;

class KeystoreSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-kssetup-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string root_;
};

TEST_F(KeystoreSetupTest, FileBackendDefaultsUnderTheStateDirectory) {
  KeystoreConfig config;
  {
    auto store = OpenKeystore(config, root_, platform::DefaultEnv());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->backend_name(), "file");
    ASSERT_TRUE((*store)->Seal("item", ToBytes("sealed")).ok());
  }
  struct stat kek;
  ASSERT_EQ(::stat((root_ + "/keystore.kek").c_str(), &kek), 0);
  EXPECT_EQ(kek.st_mode & 0777, 0600u);
  EXPECT_TRUE(platform::IsDirectory(root_ + "/keystore"));
  // Reopened as at the next start: the same KEK opens the item.
  auto store = OpenKeystore(config, root_, platform::DefaultEnv());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto item = (*store)->Unseal("item");
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_EQ(ToString(item->view()), "sealed");
}

TEST_F(KeystoreSetupTest, Pkcs11WithoutThePinInTheEnvironmentIsRefused) {
  KeystoreConfig config;
  config.backend = KeystoreConfig::Backend::kPkcs11;
  config.module = "/usr/lib/softhsm/libsofthsm2.so";
  config.token = "unit";
  config.pin_env = "UNIT_PIN";
  const char* asked = nullptr;
  auto store =
      OpenKeystore(config, root_, platform::DefaultEnv(),
                   [&](const char* name) -> std::optional<std::string> {
                     asked = name;
                     return std::nullopt;
                   });
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("$UNIT_PIN"), std::string::npos)
      << store.status().ToString();
  ASSERT_NE(asked, nullptr);
  EXPECT_STREQ(asked, "UNIT_PIN");
}

TEST_F(KeystoreSetupTest, TpmBackendReachesTheConfiguredTpm) {
  auto tpm = keystore::testing::TestSwtpm::Start(root_ + "/swtpm");
  ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
  KeystoreConfig config;
  config.backend = KeystoreConfig::Backend::kTpm;
  config.tcti = (*tpm)->tcti();
  auto store = OpenKeystore(config, root_, platform::DefaultEnv());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->backend_name(), "tpm");
  auto key = (*store)->CreateSigningKey("identity");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(platform::Exists(root_ + "/keystore.tpm"));
  auto loaded = (*store)->SigningKey("identity");
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->exportable());
}

// The NV budget the operator configures is the one the backend keeps: a
// TPM whose NV is shared with other users must not be filled by wardend.
TEST_F(KeystoreSetupTest, TheConfiguredNvBudgetIsKept) {
  auto tpm = keystore::testing::TestSwtpm::Start(root_ + "/swtpm");
  ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
  KeystoreConfig config;
  config.backend = KeystoreConfig::Backend::kTpm;
  config.tcti = (*tpm)->tcti();
  config.max_nv_indices = 1;
  auto store = OpenKeystore(config, root_, platform::DefaultEnv());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->CreateSigningKey("identity").ok());
  const Bytes secret(32, 7);
  Status second = (*store)->Seal("data-key", secret);
  EXPECT_EQ(second.code(), Code::kResourceExhausted) << second.ToString();
}

}  // namespace
}  // namespace warden::daemon
