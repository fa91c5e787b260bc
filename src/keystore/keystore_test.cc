// The keystore's contract, once per backend: every backend runs the same
// suite (create, sign, seal, swap, destroy, rotate, reopen), then each
// backend's own defences: the PKCS#11 token's key attributes, the TPM's
// wrapping, signature and per-item NV, the file backend's KEK file and
// hardware binding.
#include "keystore/keystore.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "base/rng.h"
#include "crypto/aead.h"
#include "crypto/tpm.h"
#include "keystore/file_backend.h"
#include "keystore/testing/backends.h"
#include "keystore/testing/swtpm.h"
#include "keystore/tpm_backend.h"
#include "platform/env.h"

namespace warden::keystore {
namespace {

namespace fs = std::filesystem;
using testing::BackendFixture;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string Blob(const std::string& store_dir, const std::string& name) {
  return store_dir + "/" + name + ".cur";
}

class KeystoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-keystore-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto fixture = testing::MakeBackendFixture(GetParam(), dir_);
    ASSERT_TRUE(fixture.ok()) << fixture.status().ToString();
    fixture_ = std::move(*fixture);
    Reopen();
  }

  void TearDown() override {
    store_.reset();
    fixture_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A fresh keystore and backend over the same state, as after a restart.
  void Reopen() {
    store_.reset();
    auto backend = fixture_->NewBackend();
    ASSERT_TRUE(backend.ok()) << backend.status().ToString();
    auto store =
        Keystore::Open(platform::DefaultEnv(), StoreDir(), std::move(*backend));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  std::string StoreDir() const { return dir_ + "/keystore"; }
  std::string Blob(const std::string& name, const char* suffix = ".cur") {
    return StoreDir() + "/" + name + suffix;
  }

  std::string dir_;
  std::unique_ptr<BackendFixture> fixture_;
  std::unique_ptr<Keystore> store_;
};

TEST_P(KeystoreTest, SigningKeySignsAndItsPublicHalfVerifies) {
  auto pub = store_->CreateSigningKey("identity");
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->type(), crypto::KeyType::kEcdsaP256);
  auto key = store_->SigningKey("identity");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->public_key(), *pub);
  auto sig = key->Sign(ToBytes("hello"));
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(pub->Verify(ToBytes("hello"), *sig).ok());
  EXPECT_EQ(pub->Verify(ToBytes("hellO"), *sig).code(), Code::kBadSignature);
  EXPECT_EQ(store_->CreateSigningKey("identity").status().code(),
            Code::kAlreadyExists);
  // A key in hardware signs there and has no private bytes to give.
  EXPECT_EQ(key->exportable(), !fixture_->keys_in_hardware());
}

TEST_P(KeystoreTest, SealedSecretRoundTripsAndIsNotStoredInTheClear) {
  const std::string secret = "data-key-0123456789abcdef-PLAIN";
  ASSERT_TRUE(store_->Seal("data-key", ToBytes(secret)).ok());
  auto back = store_->Unseal("data-key");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ToString(back->view()), secret);
  EXPECT_EQ(Slurp(Blob("data-key")).find("PLAIN"), std::string::npos);
  EXPECT_EQ(store_->Seal("data-key", ToBytes(secret)).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(store_->Unseal("other").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Seal("Bad/Name", ToBytes(secret)).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store_->Seal("empty", {}).code(), Code::kInvalidArgument);
}

TEST_P(KeystoreTest, BlobCopiedUnderAnotherNameIsRefused) {
  ASSERT_TRUE(store_->Seal("verifier", ToBytes("the verifier")).ok());
  ASSERT_TRUE(store_->Seal("data-key", ToBytes("the data key")).ok());
  // An attacker with write access to the directory swaps two blobs.
  Spit(Blob("data-key"), Slurp(Blob("verifier")));
  EXPECT_EQ(store_->Unseal("data-key").status().code(), Code::kIntegrity);
  EXPECT_TRUE(store_->Unseal("verifier").ok());

  ASSERT_TRUE(store_->CreateSigningKey("identity").ok());
  ASSERT_TRUE(store_->CreateSigningKey("other").ok());
  Spit(Blob("other"), Slurp(Blob("identity")));
  EXPECT_EQ(store_->SigningKey("other").status().code(), Code::kIntegrity);
}

TEST_P(KeystoreTest, KindIsPartOfTheItem) {
  ASSERT_TRUE(store_->Seal("item", ToBytes("a secret")).ok());
  EXPECT_EQ(store_->SigningKey("item").status().code(), Code::kNotFound);
  // A signing key's blob relabelled as a secret must not unseal: that
  // would hand out the private key as bytes.
  ASSERT_TRUE(store_->CreateSigningKey("identity").ok());
  std::string blob = Slurp(Blob("identity"));
  ASSERT_EQ(blob[4], 'k');
  blob[4] = 's';
  Spit(Blob("identity"), blob);
  EXPECT_EQ(store_->Unseal("identity").status().code(), Code::kIntegrity);
}

TEST_P(KeystoreTest, StagedVersionThatDoesNotOpenIsNotCommitted) {
  ASSERT_TRUE(store_->Seal("data-key", ToBytes("old")).ok());
  ASSERT_TRUE(store_->StageSecret("data-key", ToBytes("new")).ok());
  std::string blob = Slurp(Blob("data-key", ".new"));
  blob[blob.size() - 1] ^= 1;
  Spit(Blob("data-key", ".new"), blob);
  EXPECT_EQ(store_->Commit("data-key").code(), Code::kIntegrity);
  EXPECT_EQ(ToString(store_->Unseal("data-key")->view()), "old");
}

TEST_P(KeystoreTest, AlteredBlobIsRefused) {
  ASSERT_TRUE(store_->Seal("data-key", ToBytes("the data key")).ok());
  std::string blob = Slurp(Blob("data-key"));
  blob[blob.size() - 1] ^= 1;
  Spit(Blob("data-key"), blob);
  EXPECT_EQ(store_->Unseal("data-key").status().code(), Code::kIntegrity);
}

TEST_P(KeystoreTest, DestroyedItemDoesNotOpenEvenFromACopy) {
  ASSERT_TRUE(store_->Seal("data-key", ToBytes("the data key")).ok());
  ASSERT_TRUE(store_->CreateSigningKey("identity").ok());
  const std::string secret_copy = Slurp(Blob("data-key"));
  const std::string key_copy = Slurp(Blob("identity"));
  ASSERT_TRUE(store_->Destroy("data-key").ok());
  ASSERT_TRUE(store_->Destroy("identity").ok());
  EXPECT_EQ(store_->Unseal("data-key").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->SigningKey("identity").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Destroy("data-key").code(), Code::kNotFound);
  EXPECT_FALSE(fs::exists(Blob("data-key")));
  if (fixture_->erase_reaches_copies()) {
    // A copy of the blob kept elsewhere (a backup, an old flash block) is
    // put back: the hardware no longer holds what opens it.
    Spit(Blob("data-key"), secret_copy);
    Spit(Blob("identity"), key_copy);
    EXPECT_EQ(store_->Unseal("data-key").status().code(), Code::kNotFound);
    auto key = store_->SigningKey("identity");
    EXPECT_EQ(key.status().code(), Code::kNotFound);
    EXPECT_FALSE(key.ok() && key->Sign(ToBytes("still here?")).ok());
    // Nor after a restart, nor does a later item's make them open.
    ASSERT_TRUE(store_->Seal("later", ToBytes("another key")).ok());
    Reopen();
    EXPECT_EQ(store_->Unseal("data-key").status().code(), Code::kNotFound);
    EXPECT_EQ(store_->SigningKey("identity").status().code(), Code::kNotFound);
  }
  // Only the file backend keeps nothing outside its blobs.
  EXPECT_EQ(fixture_->erase_reaches_copies(), GetParam() != "file");
}

TEST_P(KeystoreTest, CommittedAwayVersionDoesNotOpenFromACopy) {
  ASSERT_TRUE(store_->Seal("data-key", ToBytes("old")).ok());
  const std::string old_copy = Slurp(Blob("data-key"));
  ASSERT_TRUE(store_->StageSecret("data-key", ToBytes("new")).ok());
  const std::string dropped_copy = Slurp(Blob("data-key", ".new"));
  ASSERT_TRUE(store_->Revert("data-key").ok());
  ASSERT_TRUE(store_->StageSecret("data-key", ToBytes("newer")).ok());
  ASSERT_TRUE(store_->Commit("data-key").ok());
  EXPECT_EQ(ToString(store_->Unseal("data-key")->view()), "newer");
  if (!fixture_->erase_reaches_copies()) return;
  // The version Commit replaced and the one Revert dropped, put back.
  const std::string current = Slurp(Blob("data-key"));
  Spit(Blob("data-key"), old_copy);
  EXPECT_EQ(store_->Unseal("data-key").status().code(), Code::kNotFound);
  Spit(Blob("data-key", ".new"), dropped_copy);
  EXPECT_EQ(store_->UnsealStaged("data-key").status().code(), Code::kNotFound);
  Spit(Blob("data-key"), current);
  EXPECT_EQ(ToString(store_->Unseal("data-key")->view()), "newer");
}

TEST_P(KeystoreTest, OneKeystorePerDirectoryAtATime) {
  auto backend = fixture_->NewBackend();
  ASSERT_TRUE(backend.ok());
  EXPECT_EQ(
      Keystore::Open(platform::DefaultEnv(), StoreDir(), std::move(*backend))
          .status()
          .code(),
      Code::kUnavailable);
  // The refused second opener takes nothing away from the first.
  ASSERT_TRUE(store_->Seal("data-key", ToBytes("still works")).ok());
  EXPECT_EQ(ToString(store_->Unseal("data-key")->view()), "still works");
  ASSERT_TRUE(store_->CreateSigningKey("identity").ok());
  EXPECT_TRUE(store_->SigningKey("identity")->Sign(ToBytes("x")).ok());
  store_.reset();
  Reopen();
  EXPECT_EQ(ToString(store_->Unseal("data-key")->view()), "still works");
}

TEST_P(KeystoreTest, ListNamesItemsKindsAndPendingChanges) {
  ASSERT_TRUE(store_->Seal("b-secret", ToBytes("x")).ok());
  ASSERT_TRUE(store_->CreateSigningKey("a-key").ok());
  ASSERT_TRUE(store_->StageSecret("b-secret", ToBytes("y")).ok());
  auto items = store_->List();
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].name, "a-key");
  EXPECT_EQ((*items)[0].kind, ItemKind::kSigningKey);
  EXPECT_FALSE((*items)[0].pending);
  EXPECT_EQ((*items)[1].name, "b-secret");
  EXPECT_EQ((*items)[1].kind, ItemKind::kSecret);
  EXPECT_TRUE((*items)[1].pending);
}

TEST_P(KeystoreTest, RotatedSigningKeyCommits) {
  auto old_pub = store_->CreateSigningKey("identity");
  ASSERT_TRUE(old_pub.ok());
  auto new_pub = store_->StageSigningKey("identity");
  ASSERT_TRUE(new_pub.ok()) << new_pub.status().ToString();
  EXPECT_NE(*new_pub, *old_pub);
  // Until the commit the old key is the one in use; the staged one can be
  // tried.
  EXPECT_EQ(store_->SigningKey("identity")->public_key(), *old_pub);
  auto staged = store_->StagedSigningKey("identity");
  ASSERT_TRUE(staged.ok());
  auto sig = staged->Sign(ToBytes("proof"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(new_pub->Verify(ToBytes("proof"), *sig).ok());
  EXPECT_TRUE(*store_->Pending("identity"));

  ASSERT_TRUE(store_->Commit("identity").ok());
  EXPECT_EQ(store_->SigningKey("identity")->public_key(), *new_pub);
  EXPECT_FALSE(*store_->Pending("identity"));
  EXPECT_EQ(store_->Commit("identity").code(), Code::kNotFound);
  Reopen();
  EXPECT_EQ(store_->SigningKey("identity")->public_key(), *new_pub);
}

TEST_P(KeystoreTest, RotatedSecretRevertsToTheOldValue) {
  ASSERT_TRUE(store_->Seal("verifier", ToBytes("old")).ok());
  ASSERT_TRUE(store_->StageSecret("verifier", ToBytes("new")).ok());
  EXPECT_EQ(ToString(store_->UnsealStaged("verifier")->view()), "new");
  EXPECT_EQ(ToString(store_->Unseal("verifier")->view()), "old");
  ASSERT_TRUE(store_->Revert("verifier").ok());
  EXPECT_EQ(ToString(store_->Unseal("verifier")->view()), "old");
  EXPECT_EQ(store_->UnsealStaged("verifier").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Commit("verifier").code(), Code::kNotFound);

  ASSERT_TRUE(store_->StageSecret("verifier", ToBytes("newer")).ok());
  ASSERT_TRUE(store_->Commit("verifier").ok());
  EXPECT_EQ(ToString(store_->Unseal("verifier")->view()), "newer");
  EXPECT_EQ(store_->StageSecret("absent", ToBytes("x")).code(),
            Code::kNotFound);
  EXPECT_EQ(store_->StageSigningKey("verifier").status().code(),
            Code::kNotFound);
}

TEST_P(KeystoreTest, StagedChangeSurvivesARestart) {
  ASSERT_TRUE(store_->Seal("session-key", ToBytes("one")).ok());
  ASSERT_TRUE(store_->StageSecret("session-key", ToBytes("two")).ok());
  auto pub = store_->CreateSigningKey("identity");
  ASSERT_TRUE(pub.ok());
  Reopen();
  EXPECT_EQ(ToString(store_->Unseal("session-key")->view()), "one");
  EXPECT_TRUE(*store_->Pending("session-key"));
  ASSERT_TRUE(store_->Commit("session-key").ok());
  EXPECT_EQ(ToString(store_->Unseal("session-key")->view()), "two");
  EXPECT_EQ(store_->SigningKey("identity")->public_key(), *pub);
}

INSTANTIATE_TEST_SUITE_P(Backends, KeystoreTest,
                         ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

// What the PKCS#11 backend leaves in the token, as the token's own tool
// reports it: no key it made can be read out.
TEST(Pkcs11BackendTest, KeysItMakesCannotLeaveTheToken) {
  char tmpl[] = "/tmp/warden-keystore-p11-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    auto fixture = testing::MakeBackendFixture("pkcs11", dir);
    ASSERT_TRUE(fixture.ok()) << fixture.status().ToString();
    auto backend = (*fixture)->NewBackend();
    ASSERT_TRUE(backend.ok()) << backend.status().ToString();
    auto store = Keystore::Open(platform::DefaultEnv(), dir + "/keystore",
                                std::move(*backend));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CreateSigningKey("identity").ok());
    ASSERT_TRUE((*store)->Seal("data-key", ToBytes("the data key")).ok());
  }
  const std::string listing = dir + "/objects.txt";
  const std::string command =
      "pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label "
      "keystore --login --pin 246813 --list-objects >" +
      listing + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << Slurp(listing);
  // Each object is a block of lines; a key that holds a secret must be
  // sensitive and never extractable.
  std::istringstream in(Slurp(listing));
  std::string line, kind;
  int keys = 0;
  while (std::getline(in, line)) {
    if (line.rfind("Private Key Object", 0) == 0 ||
        line.rfind("Secret Key Object", 0) == 0) {
      kind = line;
    } else if (line.rfind("Public Key Object", 0) == 0) {
      kind.clear();
    } else if (!kind.empty() && line.find("Access:") != std::string::npos) {
      ++keys;
      EXPECT_NE(line.find("never extractable"), std::string::npos)
          << kind << ": " << line;
      EXPECT_NE(line.find(" sensitive"), std::string::npos)
          << kind << ": " << line;
      kind.clear();
    }
  }
  // The signing key, the secret's key and the binding key.
  EXPECT_EQ(keys, 3) << Slurp(listing);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The TPM backend's own defences, over swtpm instances the tests start.
class TpmBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-keystore-tpm-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto tpm = testing::TestSwtpm::Start(dir_ + "/tpm-a");
    ASSERT_TRUE(tpm.ok()) << tpm.status().ToString();
    tpm_ = std::move(*tpm);
  }
  void TearDown() override {
    tpm_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<std::unique_ptr<Keystore>> OpenStore(const std::string& tcti,
                                              const std::string& keys_path,
                                              const std::string& store_dir) {
    TpmBackendOptions options;
    options.tcti = tcti;
    options.keys_path = keys_path;
    WARDEN_ASSIGN_OR_RETURN(auto backend,
                            TpmBackend::Open(platform::DefaultEnv(), options));
    return Keystore::Open(platform::DefaultEnv(), store_dir,
                          std::move(backend));
  }
  Result<std::unique_ptr<Keystore>> OpenStore() {
    return OpenStore(tpm_->tcti(), KeysPath(), StoreDir());
  }
  Result<std::unique_ptr<TpmBackend>> OpenBackend(size_t max_nv_indices = 32) {
    TpmBackendOptions options;
    options.tcti = tpm_->tcti();
    options.keys_path = KeysPath();
    options.max_nv_indices = max_nv_indices;
    return TpmBackend::Open(platform::DefaultEnv(), options);
  }
  size_t IndicesInUse() {
    auto backend = OpenBackend();
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    if (!backend.ok()) return 0;
    auto in_use = (*backend)->NvIndicesInUse();
    EXPECT_TRUE(in_use.ok()) << in_use.status().ToString();
    return in_use.ok() ? *in_use : 0;
  }
  // The binding key's and the wrapping key's TSS2 blobs in the key file.
  struct KeyBlobs {
    Bytes binding;
    Bytes wrapping;
  };
  KeyBlobs ReadKeyFile() {
    const std::string keys = Slurp(KeysPath());
    EXPECT_EQ(keys.substr(0, 4), "WTK1");
    ByteView rest = AsBytes(keys).subspan(4);
    const size_t binding_len = (size_t{rest[0]} << 8) | rest[1];
    KeyBlobs blobs;
    blobs.binding = Bytes(rest.begin() + 2, rest.begin() + 2 + binding_len);
    rest = rest.subspan(2 + binding_len);
    const size_t wrapping_len = (size_t{rest[0]} << 8) | rest[1];
    blobs.wrapping = Bytes(rest.begin() + 2, rest.begin() + 2 + wrapping_len);
    return blobs;
  }
  std::string KeysPath() const { return dir_ + "/tpm-keys"; }
  std::string StoreDir() const { return dir_ + "/keystore"; }

  std::string dir_;
  std::unique_ptr<testing::TestSwtpm> tpm_;
};

TEST_F(TpmBackendTest, BlobsDoNotOpenOnAnotherTpm) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Seal("data-key", ToBytes("the data key")).ok());
    ASSERT_TRUE((*store)->CreateSigningKey("identity").ok());
  }
  // The whole flash (keystore directory and key file) taken to a device
  // whose TPM has seeds of its own.
  auto other = testing::TestSwtpm::Start(dir_ + "/tpm-b");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(OpenStore((*other)->tcti(), KeysPath(), StoreDir()).status().code(),
            Code::kIntegrity);
  // Nor do the blobs open under that TPM's own keystore keys.
  {
    auto store = OpenStore((*other)->tcti(), dir_ + "/tpm-keys-b", StoreDir());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->Unseal("data-key").status().code(), Code::kIntegrity);
    EXPECT_EQ((*store)->SigningKey("identity").status().code(),
              Code::kIntegrity);
  }
  other->reset();
  // What refused them is the TPM: the same files on a TPM with the first
  // one's state (its seeds) open.
  tpm_.reset();
  fs::copy(dir_ + "/tpm-a", dir_ + "/tpm-c", fs::copy_options::recursive);
  auto same = testing::TestSwtpm::Start(dir_ + "/tpm-c");
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  auto store = OpenStore((*same)->tcti(), KeysPath(), StoreDir());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(ToString((*store)->Unseal("data-key")->view()), "the data key");
  EXPECT_TRUE((*store)->SigningKey("identity").ok());
}

TEST_F(TpmBackendTest, SigningKeyDoesNotLeaveTheTpm) {
  auto store = OpenStore();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto pub = (*store)->CreateSigningKey("identity");
  ASSERT_TRUE(pub.ok());
  auto key = (*store)->SigningKey("identity");
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->exportable());
  // OpenSSL has no private scalar to give for it, in any encoding that a
  // plain OpenSSL could read back as a private key.
  BIGNUM* scalar = nullptr;
  EXPECT_NE(
      EVP_PKEY_get_bn_param(key->raw(), OSSL_PKEY_PARAM_PRIV_KEY, &scalar), 1);
  BN_free(scalar);
  unsigned char* der = nullptr;
  const int der_len = i2d_PrivateKey(key->raw(), &der);
  if (der_len > 0) {
    const unsigned char* in = der;
    EVP_PKEY* plain = d2i_AutoPrivateKey(nullptr, &in, der_len);
    EXPECT_EQ(plain, nullptr) << "the key was exported in the clear";
    EVP_PKEY_free(plain);
  }
  OPENSSL_free(der);
  ERR_clear_error();
  // Nor is the blob on disk a private key anywhere but in this TPM.
  const std::string blob = Slurp(Blob(StoreDir(), "identity"));
  for (size_t offset = 0; offset < blob.size(); ++offset) {
    const unsigned char* in =
        reinterpret_cast<const unsigned char*>(blob.data()) + offset;
    EVP_PKEY* plain = d2i_AutoPrivateKey(
        nullptr, &in, static_cast<long>(blob.size() - offset));
    EXPECT_EQ(plain, nullptr) << "a private key at offset " << offset;
    EVP_PKEY_free(plain);
  }
  ERR_clear_error();
  // It signs all the same, in the TPM.
  auto sig = key->Sign(ToBytes("attestation"));
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(pub->Verify(ToBytes("attestation"), *sig).ok());
}

TEST_F(TpmBackendTest, SecretPlantedWithoutTheTpmIsRefused) {
  auto store = OpenStore();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Seal("data-key", ToBytes("the real key")).ok());
  // Someone who can write the directory makes a secret of his choice: the
  // wrapping key's public half (in the key file, as in any TSS2 blob) is
  // all that encrypting a data key to it takes.
  const std::string keys = Slurp(KeysPath());
  ASSERT_EQ(keys.substr(0, 4), "WTK1");
  ByteView rest = AsBytes(keys).subspan(4);
  const size_t binding_len = (size_t{rest[0]} << 8) | rest[1];
  rest = rest.subspan(2 + binding_len);
  const size_t wrapping_len = (size_t{rest[0]} << 8) | rest[1];
  auto tpm = crypto::Tpm::Open(tpm_->tcti());
  ASSERT_TRUE(tpm.ok());
  auto wrapping = tpm->LoadRsa(rest.subspan(2, wrapping_len));
  ASSERT_TRUE(wrapping.ok());
  auto wrapping_public = wrapping->PublicDer();
  ASSERT_TRUE(wrapping_public.ok());
  const Bytes data_key(32, 0x5a);
  auto wrapped = crypto::RsaEncrypt(*wrapping_public, data_key);
  ASSERT_TRUE(wrapped.ok());
  auto sealed = crypto::AeadSealRandomNonce(
      SystemRng(), data_key, ItemAad(ItemKind::kSecret, "data-key"),
      ToBytes("planted"));
  ASSERT_TRUE(sealed.ok());
  Bytes payload{static_cast<uint8_t>(wrapped->size() >> 8),
                static_cast<uint8_t>(wrapped->size())};
  payload.insert(payload.end(), wrapped->begin(), wrapped->end());
  payload.insert(payload.end(), sealed->begin(), sealed->end());
  // The real blob's header and signature around the planted payload,
  // labelled as a blob made before per-item NV (which names no index).
  const std::string real = Slurp(Blob(StoreDir(), "data-key"));
  auto parts = ParseTpmBlob(AsBytes(real).subspan(5));
  ASSERT_TRUE(parts.ok());
  std::string planted = real.substr(0, 5);
  planted.push_back(1);
  planted.push_back(static_cast<char>(payload.size() >> 8));
  planted.push_back(static_cast<char>(payload.size()));
  planted += ToString(payload) + ToString(parts->signature);
  Spit(Blob(StoreDir(), "data-key"), planted);
  auto unsealed = (*store)->Unseal("data-key");
  EXPECT_EQ(unsealed.status().code(), Code::kIntegrity)
      << (unsealed.ok() ? ToString(unsealed->view()) : "");
}

TEST_F(TpmBackendTest, NvIndexLeftByACrashIsReleasedAtOpen) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Seal("kept", ToBytes("still here")).ok());
    ASSERT_TRUE((*store)->Seal("staged", ToBytes("v1")).ok());
    ASSERT_TRUE((*store)->StageSecret("staged", ToBytes("v2")).ok());
  }
  EXPECT_EQ(IndicesInUse(), 3u);
  // A version made in the TPM whose blob never reached the flash: what a
  // power cut before the blob's write leaves.
  {
    auto backend = OpenBackend();
    ASSERT_TRUE(backend.ok()) << backend.status().ToString();
    const Bytes aad = ItemAad(ItemKind::kSecret, "lost");
    ASSERT_TRUE((*backend)->SealSecret(aad, ToBytes("lost")).ok());
    ASSERT_TRUE((*backend)->NewSigningKey(aad).ok());
  }
  EXPECT_EQ(IndicesInUse(), 5u);
  auto store = OpenStore();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(IndicesInUse(), 3u);
  // What the blobs name stays, staged version included.
  EXPECT_EQ(ToString((*store)->Unseal("kept")->view()), "still here");
  EXPECT_EQ(ToString((*store)->Unseal("staged")->view()), "v1");
  EXPECT_EQ(ToString((*store)->UnsealStaged("staged")->view()), "v2");
  ASSERT_TRUE((*store)->Destroy("staged").ok());
  ASSERT_TRUE((*store)->Destroy("kept").ok());
  EXPECT_EQ(IndicesInUse(), 0u);
}

TEST_F(TpmBackendTest, NvBudgetIsKeptAndRefusedClearly) {
  auto backend = OpenBackend(/*max_nv_indices=*/2);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  auto opened =
      Keystore::Open(platform::DefaultEnv(), StoreDir(), std::move(*backend));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Keystore& store = **opened;
  ASSERT_TRUE(store.Seal("a", ToBytes("a")).ok());
  ASSERT_TRUE(store.CreateSigningKey("b").ok());
  Status third = store.Seal("c", ToBytes("c"));
  EXPECT_EQ(third.code(), Code::kResourceExhausted);
  EXPECT_NE(third.message().find("destroy an item first"), std::string::npos)
      << third.ToString();
  // A staged version takes an index too.
  EXPECT_EQ(store.StageSecret("a", ToBytes("a2")).code(),
            Code::kResourceExhausted);
  EXPECT_EQ(store.CreateSigningKey("c").status().code(),
            Code::kResourceExhausted);
  EXPECT_EQ(IndicesInUse(), 2u);
  // The refusals left nothing behind, and the items work.
  EXPECT_EQ(store.Unseal("c").status().code(), Code::kNotFound);
  EXPECT_FALSE(*store.Pending("a"));
  EXPECT_EQ(ToString(store.Unseal("a")->view()), "a");
  EXPECT_TRUE(store.SigningKey("b")->Sign(ToBytes("x")).ok());
  // Destroying an item gives its index back.
  ASSERT_TRUE(store.Destroy("a").ok());
  ASSERT_TRUE(store.Seal("c", ToBytes("c")).ok());
  EXPECT_EQ(ToString(store.Unseal("c")->view()), "c");
  EXPECT_EQ(OpenBackend(0).status().code(), Code::kInvalidArgument);
}

// A secret as the backend sealed it before per-item NV (blob version 1):
// the data key wrapped to the wrapping key, the secret under it, signed by
// the binding key over the item and the payload.
TEST_F(TpmBackendTest, BlobMadeBeforePerItemNvOpensAndMigratesByRotation) {
  ASSERT_TRUE(OpenStore().ok());  // makes the key file
  const KeyBlobs keys = ReadKeyFile();
  const Bytes aad = ItemAad(ItemKind::kSecret, "data-key");
  Bytes payload;
  {
    auto tpm = crypto::Tpm::Open(tpm_->tcti());
    ASSERT_TRUE(tpm.ok());
    auto wrapping = tpm->LoadRsa(keys.wrapping);
    ASSERT_TRUE(wrapping.ok());
    auto wrapping_public = wrapping->PublicDer();
    ASSERT_TRUE(wrapping_public.ok());
    const Bytes data_key(32, 0x3c);
    auto wrapped = crypto::RsaEncrypt(*wrapping_public, data_key);
    ASSERT_TRUE(wrapped.ok());
    auto sealed = crypto::AeadSealRandomNonce(SystemRng(), data_key, aad,
                                              ToBytes("made by v1"));
    ASSERT_TRUE(sealed.ok());
    payload = {static_cast<uint8_t>(wrapped->size() >> 8),
               static_cast<uint8_t>(wrapped->size())};
    payload.insert(payload.end(), wrapped->begin(), wrapped->end());
    payload.insert(payload.end(), sealed->begin(), sealed->end());
  }
  Bytes signed_data = ToBytes("warden keystore tpm blob v1");
  signed_data.push_back(static_cast<uint8_t>(aad.size() >> 8));
  signed_data.push_back(static_cast<uint8_t>(aad.size()));
  signed_data.insert(signed_data.end(), aad.begin(), aad.end());
  signed_data.push_back(1);
  signed_data.insert(signed_data.end(), payload.begin(), payload.end());
  Bytes signature;
  {
    auto tpm = crypto::Tpm::Open(tpm_->tcti());
    ASSERT_TRUE(tpm.ok());
    auto binding = tpm->LoadP256(keys.binding);
    ASSERT_TRUE(binding.ok());
    auto sig = binding->Sign(signed_data);
    ASSERT_TRUE(sig.ok());
    signature = *sig;
  }
  std::string v1 = "WKS1s";
  v1.push_back(1);
  v1.push_back(static_cast<char>(payload.size() >> 8));
  v1.push_back(static_cast<char>(payload.size()));
  v1 += ToString(payload) + ToString(signature);
  Spit(Blob(StoreDir(), "data-key"), v1);
  ASSERT_EQ(::chmod(Blob(StoreDir(), "data-key").c_str(), 0600), 0);

  auto store = OpenStore();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto secret = (*store)->Unseal("data-key");
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ(ToString(secret->view()), "made by v1");
  EXPECT_EQ(IndicesInUse(), 0u);
  // A rotation moves the item onto an index of its own: from then on its
  // Destroy reaches every copy.
  ASSERT_TRUE((*store)->StageSecret("data-key", secret->view()).ok());
  ASSERT_TRUE((*store)->Commit("data-key").ok());
  EXPECT_EQ(IndicesInUse(), 1u);
  const std::string migrated = Slurp(Blob(StoreDir(), "data-key"));
  ASSERT_GT(migrated.size(), 5u);
  EXPECT_EQ(migrated[5], 2);
  EXPECT_EQ(ToString((*store)->Unseal("data-key")->view()), "made by v1");
  ASSERT_TRUE((*store)->Destroy("data-key").ok());
  Spit(Blob(StoreDir(), "data-key"), migrated);
  EXPECT_EQ((*store)->Unseal("data-key").status().code(), Code::kNotFound);
  EXPECT_EQ(IndicesInUse(), 0u);
}

TEST_F(TpmBackendTest, KeyFileOpenToOthersIsRefused) {
  ASSERT_TRUE(OpenStore().ok());
  ASSERT_EQ(::chmod(KeysPath().c_str(), 0644), 0);
  EXPECT_EQ(OpenStore().status().code(), Code::kPermissionDenied);
  ASSERT_EQ(::chmod(KeysPath().c_str(), 0600), 0);
  EXPECT_TRUE(OpenStore().ok());
}

TEST_F(TpmBackendTest, MissingKeyFileIsNotMadeWhenNotAskedTo) {
  TpmBackendOptions options;
  options.tcti = tpm_->tcti();
  options.keys_path = KeysPath();
  options.create_keys = false;
  EXPECT_EQ(TpmBackend::Open(platform::DefaultEnv(), options).status().code(),
            Code::kNotFound);
}

// The file backend's own defences.
class FileBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-keystore-file-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Spit(dir_ + "/machine-id", "4d1f0c7a9b8e4f6a8c2d1e0f3a5b7c9d\n");
    options_.kek_path = dir_ + "/kek";
    options_.binding_path = dir_ + "/machine-id";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<std::unique_ptr<Keystore>> OpenStore() {
    WARDEN_ASSIGN_OR_RETURN(
        auto backend, FileBackend::Open(platform::DefaultEnv(), options_));
    return Keystore::Open(platform::DefaultEnv(), dir_ + "/keystore",
                          std::move(backend));
  }

  std::string dir_;
  FileBackendOptions options_;
};

TEST_F(FileBackendTest, MakesAPrivateKekFile) {
  ASSERT_TRUE(OpenStore().ok());
  struct stat st;
  ASSERT_EQ(::stat(options_.kek_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(kKekSize));
}

TEST_F(FileBackendTest, KekReadableByGroupOrOthersIsRefused) {
  ASSERT_TRUE(OpenStore().ok());
  for (mode_t mode : {0640, 0604, 0660, 0620}) {
    ASSERT_EQ(::chmod(options_.kek_path.c_str(), mode), 0);
    EXPECT_EQ(OpenStore().status().code(), Code::kPermissionDenied) << mode;
  }
  ASSERT_EQ(::chmod(options_.kek_path.c_str(), 0400), 0);
  EXPECT_TRUE(OpenStore().ok());
}

TEST_F(FileBackendTest, KekOwnedByAnotherUserIsRefused) {
  ASSERT_TRUE(OpenStore().ok());
  if (::geteuid() != 0) {
    GTEST_SKIP() << "changing a file's owner needs root";
  }
  ASSERT_EQ(::chown(options_.kek_path.c_str(), 65534, 65534), 0);
  EXPECT_EQ(OpenStore().status().code(), Code::kPermissionDenied);
}

TEST_F(FileBackendTest, KekThatIsNotARegularFileIsRefused) {
  ASSERT_TRUE(OpenStore().ok());
  fs::remove(options_.kek_path);
  fs::create_directory(options_.kek_path);
  ASSERT_EQ(::chmod(options_.kek_path.c_str(), 0700), 0);
  EXPECT_EQ(OpenStore().status().code(), Code::kPermissionDenied);
}

TEST_F(FileBackendTest, MissingKekIsNotMadeWhenNotAskedTo) {
  options_.create_kek = false;
  EXPECT_EQ(OpenStore().status().code(), Code::kNotFound);
}

TEST_F(FileBackendTest, TruncatedKekIsRefused) {
  ASSERT_TRUE(OpenStore().ok());
  ASSERT_EQ(::truncate(options_.kek_path.c_str(), kKekSize - 1), 0);
  EXPECT_EQ(OpenStore().status().code(), Code::kDataLoss);
}

TEST_F(FileBackendTest, KeystoreDirectoryOpenToOthersIsRefused) {
  ASSERT_TRUE(OpenStore().ok());
  ASSERT_EQ(::chmod((dir_ + "/keystore").c_str(), 0755), 0);
  EXPECT_EQ(OpenStore().status().code(), Code::kPermissionDenied);
}

TEST_F(FileBackendTest, AnotherHardwareValueDoesNotUnseal) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Seal("data-key", ToBytes("the data key")).ok());
    ASSERT_TRUE((*store)->CreateSigningKey("identity").ok());
  }
  // The same directory and KEK file on a device with another machine id.
  Spit(dir_ + "/machine-id", "0000000000000000000000000000000a\n");
  auto store = OpenStore();
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Unseal("data-key").status().code(), Code::kIntegrity);
  EXPECT_EQ((*store)->SigningKey("identity").status().code(), Code::kIntegrity);
  // Without the binding at all it does not open either.
  store->reset();
  options_.binding_path.clear();
  store = OpenStore();
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Unseal("data-key").status().code(), Code::kIntegrity);
}

TEST_F(FileBackendTest, DestroyOverwritesTheBlobInPlace) {
  auto store = OpenStore();
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Seal("data-key", ToBytes("the data key")).ok());
  // A second name for the blob's blocks stands for what a file system
  // that frees them without overwriting would leave readable.
  const std::string blob = dir_ + "/keystore/data-key.cur";
  const std::string blocks = dir_ + "/blocks";
  ASSERT_EQ(::link(blob.c_str(), blocks.c_str()), 0);
  const size_t size = Slurp(blocks).size();
  ASSERT_TRUE((*store)->Destroy("data-key").ok());
  EXPECT_EQ(Slurp(blocks), std::string(size, '\0'));
}

TEST_F(FileBackendTest, AnotherKekDoesNotUnseal) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Seal("data-key", ToBytes("the data key")).ok());
  }
  fs::remove(options_.kek_path);
  auto store = OpenStore();  // makes a new KEK
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Unseal("data-key").status().code(), Code::kIntegrity);
}

}  // namespace
}  // namespace warden::keystore
