// The maker's CA key in a keystore: made there by InitMaker (file backend
// and a SoftHSM token), used there by ProvisionUnit, refused with one clear
// error when it cannot be opened, and moved there from a clear ca.key by
// ImportCaKey.
#include "provision/ca_key.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "base/rng.h"
#include "crypto/testing/softhsm.h"
#include "crypto/x509.h"
#include "platform/file.h"
#include "provision/maker.h"
#include "provision/provision.h"
#include "provision/testing/legacy_maker.h"

namespace warden::provision {
namespace {

namespace fs = std::filesystem;
using crypto::testing::SoftHsmToken;
using testing::FileHoldingAPrivateKey;
using testing::MakeLegacyMaker;

MakerSettings Settings() {
  MakerSettings s;
  s.name = "Example Devices";
  s.contact = "mailto:security@example.com";
  s.policy_url = "https://example.com/security";
  return s;
}

std::string Slurp(const std::string& path) {
  auto r = platform::ReadFile(path, 1 << 20);
  return r.ok() ? *r : std::string();
}

class CaKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-ca-key-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    maker_ = root_ + "/maker";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  Result<ProvisionResult> Provision(const std::string& serial,
                                    const std::string& pin = "") {
    ProvisionRequest req;
    req.serial = serial;
    req.model = "Thermostat T1";
    req.ca_key_access.pkcs11_pin = pin;
    return ProvisionUnit(maker_, req, root_ + "/" + serial, clock_,
                         SystemRng());
  }

  // The unit's certificate chains to the maker's ca.crt.
  void ExpectChainsToTheCa(const std::string& serial) {
    auto ca = crypto::Certificate::FromPem(Slurp(maker_ + "/ca.crt"));
    ASSERT_TRUE(ca.ok());
    auto leaf = crypto::Certificate::FromPem(
        Slurp(root_ + "/" + serial + "/identity.crt"));
    ASSERT_TRUE(leaf.ok()) << serial;
    Status st = crypto::VerifyCertificate(*leaf, *ca, clock_.Now());
    EXPECT_TRUE(st.ok()) << serial << ": " << st.ToString();
  }

  // A refused provisioning leaves no unit and no recorded serial.
  void ExpectNothingWritten(const std::string& serial) {
    EXPECT_FALSE(platform::Exists(root_ + "/" + serial));
    EXPECT_EQ(Slurp(maker_ + "/serials.txt").find(serial), std::string::npos);
  }

  Result<SoftHsmToken> Token() {
    const std::string dir = root_ + "/hsm";
    fs::create_directories(dir);
    return SoftHsmToken::Make(dir, "maker");
  }

  CaKeyLocation TokenLocation() {
    return CaKeyLocation{.backend = CaKeyBackend::kPkcs11,
                         .pkcs11_module = SoftHsmToken::kModule,
                         .pkcs11_token = "maker"};
  }

  FakeClock clock_;
  std::string root_;
  std::string maker_;
};

TEST_F(CaKeyTest, TheDefaultKeepsTheCaKeySealedUnderAKekBesideTheDirectory) {
  ASSERT_TRUE(InitMaker(maker_, Settings(), clock_).ok());
  EXPECT_FALSE(platform::Exists(maker_ + "/ca.key"));
  auto maker = LoadMaker(maker_);
  ASSERT_TRUE(maker.ok()) << maker.status().ToString();
  EXPECT_EQ(maker->ca_key_location.backend, CaKeyBackend::kFile);
  EXPECT_EQ(maker->ca_key_location.kek_path, "../maker.kek");
  EXPECT_TRUE(platform::Exists(root_ + "/maker.kek"));
  EXPECT_EQ(FileHoldingAPrivateKey(maker_), "");

  ASSERT_TRUE(Provision("SN-0001").ok());
  ExpectChainsToTheCa("SN-0001");
  // A copy of the maker directory without its KEK cannot sign.
  fs::create_directories(root_ + "/elsewhere");
  fs::copy(maker_, root_ + "/elsewhere/maker", fs::copy_options::recursive);
  auto copy = LoadMaker(root_ + "/elsewhere/maker");
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(OpenMakerCaKey(*copy, {}).status().code(), Code::kNotFound);
}

TEST_F(CaKeyTest, AKeyThatIsNotTheCasIsRefusedAndNothingIsWritten) {
  ASSERT_TRUE(InitMaker(maker_, Settings(), clock_).ok());
  ASSERT_TRUE(InitMaker(root_ + "/other", Settings(), clock_).ok());
  // The other maker's keystore and KEK in place of this one's: every blob
  // opens, but the key is not the one ca.crt names.
  fs::copy_file(root_ + "/other/keystore/ca-key.cur",
                maker_ + "/keystore/ca-key.cur",
                fs::copy_options::overwrite_existing);
  fs::copy_file(root_ + "/other.kek", root_ + "/maker.kek",
                fs::copy_options::overwrite_existing);
  auto r = Provision("SN-0001");
  EXPECT_EQ(r.status().code(), Code::kIntegrity) << r.status().ToString();
  ExpectNothingWritten("SN-0001");
}

TEST_F(CaKeyTest, AMissingKeyOrKekIsOneClearErrorAndNothingIsWritten) {
  ASSERT_TRUE(InitMaker(maker_, Settings(), clock_).ok());
  fs::rename(root_ + "/maker.kek", root_ + "/kek.saved");
  auto r = Provision("SN-0001");
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("maker.kek"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  ExpectNothingWritten("SN-0001");

  fs::rename(root_ + "/kek.saved", root_ + "/maker.kek");
  fs::remove(maker_ + "/keystore/ca-key.cur");
  r = Provision("SN-0002");
  EXPECT_EQ(r.status().code(), Code::kNotFound) << r.status().ToString();
  EXPECT_NE(r.status().message().find("no CA key"), std::string::npos)
      << r.status().message();
  ExpectNothingWritten("SN-0002");
}

TEST_F(CaKeyTest, ABackendThisBuildCannotOpenIsNamed) {
  ASSERT_TRUE(InitMaker(maker_, Settings(), clock_).ok());
  ASSERT_TRUE(platform::WriteFileAtomic(maker_ + "/ca-key.json",
                                        "{\"backend\": \"tpm\"}", 0644)
                  .ok());
  auto r = Provision("SN-0001");
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("\"tpm\""), std::string::npos)
      << r.status().message();
  ExpectNothingWritten("SN-0001");
}

TEST_F(CaKeyTest, ATokenKeySignsEveryUnitAndNeverLeavesTheToken) {
  auto token = Token();
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  ASSERT_TRUE(InitMaker(maker_, Settings(), clock_, platform::DefaultEnv(),
                        TokenLocation(), {SoftHsmToken::kPin})
                  .ok());
  ASSERT_TRUE(Provision("SN-0001", SoftHsmToken::kPin).ok());
  ASSERT_TRUE(Provision("SN-0002", SoftHsmToken::kPin).ok());
  ExpectChainsToTheCa("SN-0001");
  ExpectChainsToTheCa("SN-0002");
  // A unit that made its own key: the token signs for its request too.
  auto unit_key = crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  ASSERT_TRUE(unit_key.ok());
  ProvisionRequest req;
  req.serial = "SN-0003";
  req.model = "Thermostat T1";
  req.ca_key_access.pkcs11_pin = SoftHsmToken::kPin;
  auto csr = crypto::MakeSigningRequest("SN-0003", "SN-0003", *unit_key);
  ASSERT_TRUE(csr.ok());
  req.identity_request = *csr;
  ASSERT_TRUE(
      ProvisionUnit(maker_, req, root_ + "/SN-0003", clock_, SystemRng()).ok());
  ExpectChainsToTheCa("SN-0003");
  EXPECT_FALSE(platform::Exists(root_ + "/SN-0003/identity.key"));

  EXPECT_FALSE(platform::Exists(maker_ + "/ca.key"));
  EXPECT_FALSE(platform::Exists(root_ + "/maker.kek"));
  EXPECT_EQ(FileHoldingAPrivateKey(maker_), "");
  EXPECT_EQ(Slurp(maker_ + "/ca-key.json").find(SoftHsmToken::kPin),
            std::string::npos);
  auto maker = LoadMaker(maker_);
  ASSERT_TRUE(maker.ok());
  auto key = OpenMakerCaKey(*maker, {SoftHsmToken::kPin});
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_FALSE(key->key.exportable());
}

TEST_F(CaKeyTest, AWrongPinIsRefusedAndNothingIsWritten) {
  auto token = Token();
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  Status st = InitMaker(maker_, Settings(), clock_, platform::DefaultEnv(),
                        TokenLocation(), {"000000"});
  EXPECT_EQ(st.code(), Code::kUnauthenticated) << st.ToString();
  EXPECT_FALSE(platform::Exists(maker_));

  ASSERT_TRUE(InitMaker(maker_, Settings(), clock_, platform::DefaultEnv(),
                        TokenLocation(), {SoftHsmToken::kPin})
                  .ok());
  for (const char* pin : {"000000", ""}) {
    auto r = Provision("SN-0001", pin);
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated)
        << r.status().ToString();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
    ExpectNothingWritten("SN-0001");
  }
  // A token that is not there is named.
  ASSERT_TRUE(
      platform::WriteFileAtomic(
          maker_ + "/ca-key.json",
          CaKeyConfigJson(CaKeyLocation{.backend = CaKeyBackend::kPkcs11,
                                        .pkcs11_module = SoftHsmToken::kModule,
                                        .pkcs11_token = "elsewhere"}),
          0644)
          .ok());
  auto r = Provision("SN-0001", SoftHsmToken::kPin);
  EXPECT_EQ(r.status().code(), Code::kNotFound) << r.status().ToString();
  EXPECT_NE(r.status().message().find("elsewhere"), std::string::npos);
  ExpectNothingWritten("SN-0001");
}

TEST_F(CaKeyTest, ImportMovesAClearKeyIntoTheFileKeystore) {
  auto ca_public = MakeLegacyMaker(maker_, Settings(), clock_);
  ASSERT_TRUE(ca_public.ok()) << ca_public.status().ToString();
  const std::string clear = Slurp(maker_ + "/ca.key");
  // A directory of the old layout still provisions.
  ASSERT_TRUE(Provision("SN-0001").ok());
  ExpectChainsToTheCa("SN-0001");

  Status st = ImportCaKey(maker_, CaKeyLocation{}, {});
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(platform::Exists(maker_ + "/ca.key"));
  EXPECT_EQ(FileHoldingAPrivateKey(maker_), "");
  auto maker = LoadMaker(maker_);
  ASSERT_TRUE(maker.ok());
  EXPECT_EQ(maker->ca_key_location.backend, CaKeyBackend::kFile);
  {
    auto key = OpenMakerCaKey(*maker, {});
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_TRUE(key->key.public_key() == *ca_public);
  }
  ASSERT_TRUE(Provision("SN-0002").ok());
  ExpectChainsToTheCa("SN-0002");

  // Once imported there is nothing to import; a clear copy that came back
  // (a backup restored) is removed by running it again.
  EXPECT_EQ(ImportCaKey(maker_, CaKeyLocation{}, {}).code(),
            Code::kAlreadyExists);
  ASSERT_TRUE(platform::WriteFileAtomic(maker_ + "/ca.key", clear, 0600).ok());
  EXPECT_TRUE(ImportCaKey(maker_, CaKeyLocation{}, {}).ok());
  EXPECT_FALSE(platform::Exists(maker_ + "/ca.key"));
}

TEST_F(CaKeyTest, ImportRefusesAKeyThatIsNotTheCasAndKeepsIt) {
  ASSERT_TRUE(MakeLegacyMaker(maker_, Settings(), clock_).ok());
  ASSERT_TRUE(MakeLegacyMaker(root_ + "/other", Settings(), clock_).ok());
  fs::copy_file(root_ + "/other/ca.key", maker_ + "/ca.key",
                fs::copy_options::overwrite_existing);
  Status st = ImportCaKey(maker_, CaKeyLocation{}, {});
  EXPECT_EQ(st.code(), Code::kIntegrity) << st.ToString();
  EXPECT_TRUE(platform::Exists(maker_ + "/ca.key"));
  EXPECT_FALSE(platform::Exists(maker_ + "/ca-key.json"));
}

TEST_F(CaKeyTest, ImportIntoATokenWithAWrongPinChangesNothing) {
  auto token = Token();
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  ASSERT_TRUE(MakeLegacyMaker(maker_, Settings(), clock_).ok());
  EXPECT_EQ(ImportCaKey(maker_, TokenLocation(), {"000000"}).code(),
            Code::kUnauthenticated);
  EXPECT_TRUE(platform::Exists(maker_ + "/ca.key"));
  EXPECT_FALSE(platform::Exists(maker_ + "/ca-key.json"));

  Status st = ImportCaKey(maker_, TokenLocation(), {SoftHsmToken::kPin});
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(platform::Exists(maker_ + "/ca.key"));
  EXPECT_EQ(FileHoldingAPrivateKey(maker_), "");
  ASSERT_TRUE(Provision("SN-0001", SoftHsmToken::kPin).ok());
  ExpectChainsToTheCa("SN-0001");
}

}  // namespace
}  // namespace warden::provision
