// Online keys in a PKCS#11 token: a SoftHSM token the test makes with the
// token's own tools (as a maker would), the repository signing through it,
// the device's client accepting what it signed.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "crypto/testing/softhsm.h"
#include "platform/file.h"
#include "release/repository.h"
#include "release/testing/dir_fetcher.h"
#include "tuf/updater.h"

namespace warden::release {
namespace {

namespace fs = std::filesystem;
using platform::DefaultEnv;

constexpr const char* kModule = crypto::testing::SoftHsmToken::kModule;
constexpr char kToken[] = "release-keys";
constexpr const char* kPin = crypto::testing::SoftHsmToken::kPin;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ReleasePkcs11Test : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-release-pkcs11-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto token = crypto::testing::SoftHsmToken::Make(dir_, kToken);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    int id = 1;
    for (const char* label :
         {"targets", "snapshot", "timestamp", "targets-2"}) {
      Status made = token->GenerateKeyPair("EC:prime256v1", label,
                                           "0" + std::to_string(id++));
      ASSERT_TRUE(made.ok()) << made.ToString();
    }
    repo_ = dir_ + "/repo";
    out_ = dir_ + "/out";
    access_.root_keys_dir = dir_ + "/root-keys";
    access_.pkcs11_pin = kPin;
    std::ofstream(dir_ + "/image") << "#!/bin/sh\necho token-signed\n";
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Status Add(const std::string& version, const KeyAccess& access) {
    TargetSpec spec;
    spec.hardware_model = "thermostat-v1";
    spec.version = version;
    return AddTarget(DefaultEnv(), clock_, repo_, dir_ + "/image", spec,
                     access);
  }

  // A device that trusts the first root refreshes and downloads.
  Status DeviceUpdates() {
    const std::string md = dir_ + "/client";
    if (!fs::exists(md)) {
      WARDEN_TRY(tuf::Updater::Initialize(
          DefaultEnv(), md, Slurp(out_ + "/metadata/1.root.json")));
    }
    testing::DirFetcher fetcher(DefaultEnv());
    WARDEN_ASSIGN_OR_RETURN(
        auto u, tuf::Updater::Open(DefaultEnv(), clock_, fetcher, md,
                                   out_ + "/metadata", out_ + "/targets"));
    WARDEN_TRY(u->Refresh());
    WARDEN_ASSIGN_OR_RETURN(tuf::TargetInfo info,
                            u->GetTargetInfo("thermostat-v1.img"));
    return u->DownloadTargetToFile(info, dir_ + "/downloaded");
  }

  std::string dir_, repo_, out_;
  KeyAccess access_;
  FakeClock clock_{FromUnixSeconds(1'800'000'000)};
};

TEST_F(ReleasePkcs11Test, OnlineRolesSignInTheTokenAndDevicesAccept) {
  InitOptions options;
  for (const char* role : {"targets", "snapshot", "timestamp"}) {
    options.pkcs11[role] = Pkcs11Key{kModule, kToken, role};
  }
  Status st = Init(DefaultEnv(), clock_, repo_, options, access_);
  ASSERT_TRUE(st.ok()) << st.ToString();
  // No private key of an online role outside the token: only references.
  for (const auto& e : fs::directory_iterator(repo_ + "/keys")) {
    EXPECT_EQ(e.path().string().find(".pem"), std::string::npos) << e.path();
    EXPECT_EQ(Slurp(e.path()).find("PRIVATE"), std::string::npos);
    EXPECT_EQ(Slurp(e.path()).find(kPin), std::string::npos);
  }
  ASSERT_TRUE(Add("1.0.0", access_).ok());
  ASSERT_TRUE(Publish(DefaultEnv(), repo_, out_).ok());
  st = DeviceUpdates();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Slurp(dir_ + "/downloaded"), "#!/bin/sh\necho token-signed\n");
  const std::string root = Slurp(out_ + "/metadata/root.json");
  EXPECT_NE(root.find("ecdsa-sha2-nistp256"), std::string::npos);

  // Without the PIN, or with a wrong one, nothing is signed.
  KeyAccess no_pin = access_;
  no_pin.pkcs11_pin.clear();
  EXPECT_EQ(Add("1.1.0", no_pin).code(), Code::kFailedPrecondition);
  KeyAccess wrong = access_;
  wrong.pkcs11_pin = "135792";
  EXPECT_EQ(Add("1.1.0", wrong).code(), Code::kUnauthenticated);
}

TEST_F(ReleasePkcs11Test, ATargetsKeyIsRotatedToAnotherTokenKey) {
  InitOptions options;
  options.pkcs11["targets"] = Pkcs11Key{kModule, kToken, "targets"};
  ASSERT_TRUE(Init(DefaultEnv(), clock_, repo_, options, access_).ok());
  ASSERT_TRUE(Add("1.0.0", access_).ok());
  ASSERT_TRUE(Publish(DefaultEnv(), repo_, out_).ok());
  ASSERT_TRUE(DeviceUpdates().ok());

  RotateOptions rotate;
  rotate.role = "targets";
  rotate.pkcs11 = Pkcs11Key{kModule, kToken, "targets-2"};
  Status st = Rotate(DefaultEnv(), clock_, repo_, rotate, access_);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(Add("1.1.0", access_).ok());
  ASSERT_TRUE(Publish(DefaultEnv(), repo_, out_).ok());
  st = DeviceUpdates();
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto status = GetStatus(DefaultEnv(), repo_);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->roles[0].version, 2u);  // root
  EXPECT_EQ(status->targets.at(0).custom["warden"]["version"], "1.1.0");
}

}  // namespace
}  // namespace warden::release
