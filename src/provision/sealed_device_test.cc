// A unit's secrets in its keystore, once per backend (file, SoftHSM,
// swtpm): a unit provisioned with clear files is moved into the keystore
// and loses the files; a unit whose key was made in the keystore is
// provisioned from its signing request and never has a key file.
#include "provision/sealed_device.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "crypto/x509.h"
#include "keystore/testing/backends.h"
#include "platform/file.h"
#include "provision/maker.h"
#include "provision/provision.h"

namespace warden::provision {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

MakerSettings Settings() {
  MakerSettings s;
  s.name = "Example Devices";
  s.contact = "mailto:security@example.com";
  s.policy_url = "https://example.com/security";
  return s;
}

class SealedDeviceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-sealed-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_TRUE(platform::MakeDirs(root_ + "/backend", 0700).ok());
    auto fixture =
        keystore::testing::MakeBackendFixture(GetParam(), root_ + "/backend");
    ASSERT_TRUE(fixture.ok()) << fixture.status().ToString();
    fixture_ = std::move(*fixture);
    ASSERT_TRUE(InitMaker(root_ + "/maker", Settings(), clock_).ok());
    unit_ = root_ + "/unit";
  }
  void TearDown() override {
    store_.reset();
    fixture_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // The keystore as wardend opens it at a start (a new backend each time).
  keystore::Keystore& Store() {
    store_.reset();
    auto backend = fixture_->NewBackend();
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    auto store = keystore::Keystore::Open(
        platform::DefaultEnv(), root_ + "/keystore", std::move(*backend));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    return *store_;
  }

  Result<ProvisionResult> Provision(const std::string& serial,
                                    const std::string& out,
                                    std::string identity_request = "") {
    ProvisionRequest req;
    req.serial = serial;
    req.model = "Thermostat T1";
    req.identity_request = std::move(identity_request);
    return ProvisionUnit(root_ + "/maker", req, out, clock_, SystemRng());
  }

  FakeClock clock_;
  std::string root_;
  std::string unit_;
  std::unique_ptr<keystore::testing::BackendFixture> fixture_;
  std::unique_ptr<keystore::Keystore> store_;
};

void ExpectSignsFor(const crypto::PrivateKey& key,
                    const crypto::Certificate& cert) {
  auto sig = key.Sign(ToBytes("challenge"));
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(cert.public_key().Verify(ToBytes("challenge"), *sig).ok());
}

TEST_P(SealedDeviceTest, ClearFilesMoveIntoTheKeystoreAndAreGone) {
  ASSERT_TRUE(Provision("SN-0001", unit_).ok());
  auto clear = LoadDevice(unit_);
  ASSERT_TRUE(clear.ok()) << clear.status().ToString();
  const std::string key_pem = Slurp(unit_ + "/identity.key");

  auto sealed = LoadSealedDevice(unit_, Store(), platform::DefaultEnv());
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_FALSE(platform::Exists(unit_ + "/identity.key"));
  EXPECT_FALSE(platform::Exists(unit_ + "/pairing.json"));
  EXPECT_TRUE(sealed->key.public_key() == clear->key.public_key());
  ExpectSignsFor(sealed->key, sealed->certificate);
  EXPECT_TRUE(std::ranges::equal(sealed->w0.view(), clear->w0.view()));
  EXPECT_EQ(sealed->L, clear->L);
  EXPECT_EQ(sealed->salt, clear->salt);
  EXPECT_EQ(sealed->iterations, clear->iterations);

  // The next start loads the same unit from the keystore alone, and no
  // file of the keystore holds the key in clear.
  auto again = LoadSealedDevice(unit_, Store(), platform::DefaultEnv());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->key.public_key() == clear->key.public_key());
  for (const auto& e : fs::recursive_directory_iterator(root_ + "/keystore")) {
    if (!e.is_regular_file()) continue;
    const std::string data = Slurp(e.path().string());
    EXPECT_EQ(data.find("PRIVATE KEY"), std::string::npos) << e.path();
    EXPECT_EQ(data.find("\"w0\""), std::string::npos) << e.path();
  }
}

TEST_P(SealedDeviceTest, AClearCopyLeftByAnInterruptedMoveIsScrubbed) {
  ASSERT_TRUE(Provision("SN-0001", unit_).ok());
  const std::string key_pem = Slurp(unit_ + "/identity.key");
  const std::string record = Slurp(unit_ + "/pairing.json");
  ASSERT_TRUE(LoadSealedDevice(unit_, Store(), platform::DefaultEnv()).ok());
  // As a crash between the seal and the scrub leaves it.
  Spit(unit_ + "/identity.key", key_pem);
  Spit(unit_ + "/pairing.json", record);
  auto sealed = LoadSealedDevice(unit_, Store(), platform::DefaultEnv());
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_FALSE(platform::Exists(unit_ + "/identity.key"));
  EXPECT_FALSE(platform::Exists(unit_ + "/pairing.json"));
}

TEST_P(SealedDeviceTest, AnotherUnitsKeyInTheKeystoreIsRefused) {
  ASSERT_TRUE(Provision("SN-0001", unit_).ok());
  const std::string other = root_ + "/other";
  ASSERT_TRUE(Provision("SN-0002", other).ok());
  ASSERT_TRUE(LoadSealedDevice(other, Store(), platform::DefaultEnv()).ok());
  // The keystore now holds SN-0002's key; SN-0001's certificate and files
  // must not be served with it, and the clear files are left alone.
  auto r = LoadSealedDevice(unit_, Store(), platform::DefaultEnv());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kIntegrity) << r.status().ToString();
  EXPECT_TRUE(platform::Exists(unit_ + "/identity.key"));
}

TEST_P(SealedDeviceTest,
       ADamagedItemIsReplacedFromTheClearFileOnlyWhileItExists) {
  ASSERT_TRUE(Provision("SN-0001", unit_).ok());
  const std::string key_pem = Slurp(unit_ + "/identity.key");
  ASSERT_TRUE(LoadSealedDevice(unit_, Store(), platform::DefaultEnv()).ok());
  const std::string blob = root_ + "/keystore/identity-key.cur";
  std::string damaged = Slurp(blob);
  damaged[damaged.size() - 1] ^= 1;
  Spit(blob, damaged);
  auto gone = LoadSealedDevice(unit_, Store(), platform::DefaultEnv());
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), Code::kIntegrity) << gone.status().ToString();
  Spit(unit_ + "/identity.key", key_pem);
  auto back = LoadSealedDevice(unit_, Store(), platform::DefaultEnv());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(platform::Exists(unit_ + "/identity.key"));
}

TEST_P(SealedDeviceTest, AKeyMadeInTheKeystoreIsCertifiedFromItsRequest) {
  const std::string ks_unit = root_ + "/hw-unit";
  auto csr = MakeIdentityRequest(Store(), "SN-0007");
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  // Asking again (a station that lost the first answer) names the same
  // key rather than a new one.
  auto again = MakeIdentityRequest(Store(), "SN-0007");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(crypto::ParseSigningRequest(*csr)->subject_key ==
              crypto::ParseSigningRequest(*again)->subject_key);

  auto unit = Provision("SN-0007", ks_unit, *csr);
  ASSERT_TRUE(unit.ok()) << unit.status().ToString();
  EXPECT_FALSE(platform::Exists(ks_unit + "/identity.key"));
  auto sealed = LoadSealedDevice(ks_unit, Store(), platform::DefaultEnv());
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(sealed->key.exportable(), !fixture_->keys_in_hardware());
  ExpectSignsFor(sealed->key, sealed->certificate);
  EXPECT_FALSE(platform::Exists(ks_unit + "/pairing.json"));
}

TEST_P(SealedDeviceTest, ARequestForAnotherSerialOrNotSignedByItsKeyIsRefused) {
  auto csr = MakeIdentityRequest(Store(), "SN-0007");
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  auto other = Provision("SN-0008", root_ + "/u8", *csr);
  EXPECT_EQ(other.status().code(), Code::kInvalidArgument)
      << other.status().ToString();
  EXPECT_FALSE(platform::Exists(root_ + "/u8"));

  // The request with one bit of its signature changed: its own key no
  // longer verifies it.
  const std::string kBegin = "-----BEGIN CERTIFICATE REQUEST-----\n";
  const std::string kEnd = "-----END CERTIFICATE REQUEST-----\n";
  ASSERT_EQ(csr->rfind(kBegin, 0), 0u);
  std::string body =
      csr->substr(kBegin.size(), csr->find(kEnd) - kBegin.size());
  body.erase(std::remove(body.begin(), body.end(), '\n'), body.end());
  auto der = Base64Decode(body);
  ASSERT_TRUE(der.ok());
  (*der)[der->size() - 5] ^= 0x01;
  const std::string b64 = Base64Encode(*der);
  std::string pem = kBegin;
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  pem += kEnd;
  EXPECT_EQ(crypto::ParseSigningRequest(pem).status().code(),
            Code::kBadSignature);
  auto bad = Provision("SN-0007", root_ + "/u7", pem);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kBadSignature)
      << bad.status().ToString();
  EXPECT_FALSE(platform::Exists(root_ + "/u7"));
}

INSTANTIATE_TEST_SUITE_P(Backends, SealedDeviceTest,
                         ::testing::ValuesIn(keystore::testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace warden::provision
