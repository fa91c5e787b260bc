// Signing keys: known answers, encodings, and refusal of foreign keys.
#include "crypto/keys.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "base/bytes.h"
#include "crypto/hash.h"

namespace warden::crypto {
namespace {

Bytes H(std::string_view hex) { return HexDecode(hex).value(); }

// RFC 8032 section 7.1, TEST 1.
const char kEdSecret[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const char kEdPublic[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const char kEdSignature[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb88215"
    "90a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

std::string Pem(const char* label, ByteView der) {
  std::string b64 = Base64Encode(der);
  std::string out = std::string("-----BEGIN ") + label + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) {
    out += b64.substr(i, 64) + "\n";
  }
  return out + "-----END " + label + "-----\n";
}

// PKCS#8 PrivateKeyInfo for an ed25519 seed (RFC 8410 section 7).
std::string Ed25519PrivatePem(ByteView seed) {
  Bytes der = H("302e020100300506032b657004220420");
  der.insert(der.end(), seed.begin(), seed.end());
  return Pem("PRIVATE KEY", der);
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using OwnedPkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string PublicPem(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio, pkey), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string PrivatePem(EVP_PKEY* pkey, const EVP_CIPHER* cipher = nullptr,
                       const char* pass = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PKCS8PrivateKey(bio, pkey, cipher, nullptr, 0,
                                          nullptr, const_cast<char*>(pass)),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// A 2048-bit key and a signature made by pyca/cryptography (salt length
// 32, as securesystemslib signs).
constexpr char kRsaPem[] = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAux5pHLvB9GUx0G55rXej
rAvBDOEKJuNSOHavS8TyQeJsPjyNTL9gzf42rwxOkPsMo9Z+s88CjAlWK+MmIryK
Wog/fMS+oLFfRW7khryzDa2zoPJJ9E8eeocTUoW2DOEKy3Ae+877BTgs9Eda9DqR
yaSUXqCkdKiDpqO8uI8KkdABmIylHsRDMyU5Jy2BB754qYtdlgDhzrBfD81ZDsMV
39wVvbaYbic5AnHWWneeLOO/RwQ6qKIShWAcXgR6QYaQN/sRhsmOkisfDOqF93ea
FnnIo42PAPj8fgdGiZaV6apES04L8answx8RdYyZuWozrQR1q9YsUBwz5tbd50mE
kwIDAQAB
-----END PUBLIC KEY-----
)";
constexpr char kRsaSig[] =
    "4e40791f876a7c58e982fd54d430677a11ab9cfdf275f47d26713546c8092bf586c319"
    "7009e70caa21c2896eeeddfb031a173d148c95d06550111965cb00de285ea3c0c4842b"
    "f8f2f8d8d88635d15072115d306b4a4391ea2ed60b5772aae5ff6947128ddd6faa3334"
    "f02a12868100c26fde5ef8ea4eed3d70dcdf4d5cb3b98d07e3b3b1085a02544042e984"
    "75885972c05bbac9ae8acc7d528e5475f1d35c2bbcf0503016668266c2a41be8a0ce27"
    "3146b999b6fc2133c3dfaefb6a7b13a3310140750116d930d2398534a3e9b539d79c83"
    "000016f84a5f64e8908ee5470dce1ab5090a99bc2a81ce9d416795375e885accea36a0"
    "a4652369141b94d2b5b4dd";

TEST(KeysTest, RsaPssSha256KnownAnswer) {
  Bytes sig = HexDecode(kRsaSig).value();
  EXPECT_TRUE(
      VerifyRsaPssSha256(kRsaPem, AsBytes("warden rsa-pss known answer"), sig)
          .ok());
  EXPECT_EQ(
      VerifyRsaPssSha256(kRsaPem, AsBytes("warden rsa-pss known answeR"), sig)
          .code(),
      Code::kBadSignature);
  sig[10] ^= 1;
  EXPECT_EQ(
      VerifyRsaPssSha256(kRsaPem, AsBytes("warden rsa-pss known answer"), sig)
          .code(),
      Code::kBadSignature);
  // Not an RSA key.
  PrivateKey ec = PrivateKey::Generate(KeyType::kEcdsaP256).value();
  EXPECT_EQ(
      VerifyRsaPssSha256(ec.public_key().ToPem(), AsBytes("x"), sig).code(),
      Code::kInvalidArgument);
}

TEST(KeysTest, TypeNames) {
  EXPECT_EQ(KeyTypeName(KeyType::kEd25519), "ed25519");
  EXPECT_EQ(KeyTypeName(KeyType::kEcdsaP256), "ecdsa");
}

TEST(KeysTest, Ed25519Rfc8032Test1) {
  Result<PrivateKey> key = PrivateKey::FromPem(Ed25519PrivatePem(H(kEdSecret)));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->type(), KeyType::kEd25519);
  Result<Bytes> sig = key->Sign({});
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(HexEncode(*sig), kEdSignature);
  EXPECT_EQ(HexEncode(key->public_key().ToRaw()), kEdPublic);

  Result<PublicKey> pub = PublicKey::FromRaw(KeyType::kEd25519, H(kEdPublic));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->type(), KeyType::kEd25519);
  EXPECT_TRUE(pub->Verify({}, H(kEdSignature)).ok());
  EXPECT_EQ(pub->Verify(AsBytes("x"), H(kEdSignature)).code(),
            Code::kBadSignature);
  EXPECT_TRUE(*pub == key->public_key());
}

TEST(KeysTest, FromRawRejectsWrongSizesAndBadPoints) {
  EXPECT_EQ(PublicKey::FromRaw(KeyType::kEd25519, Bytes(31)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromRaw(KeyType::kEd25519, Bytes(33)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromRaw(KeyType::kEcdsaP256, Bytes(64)).status().code(),
            Code::kInvalidArgument);
  // The generator with its last byte changed is off the curve.
  Bytes g =
      H("046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
  EXPECT_TRUE(PublicKey::FromRaw(KeyType::kEcdsaP256, g).ok());
  g.back() ^= 1;
  EXPECT_EQ(PublicKey::FromRaw(KeyType::kEcdsaP256, g).status().code(),
            Code::kInvalidArgument);
  // Compressed form is not a raw P-256 key here.
  Bytes compressed =
      H("036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
  EXPECT_EQ(PublicKey::FromRaw(KeyType::kEcdsaP256, compressed).status().code(),
            Code::kInvalidArgument);
}

TEST(KeysTest, EcdsaSignVerify) {
  Result<PrivateKey> key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->type(), KeyType::kEcdsaP256);
  PublicKey pub = key->public_key();
  Result<Bytes> sig = key->Sign(AsBytes("firmware image"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(pub.Verify(AsBytes("firmware image"), *sig).ok());
  EXPECT_EQ(pub.Verify(AsBytes("firmware imagE"), *sig).code(),
            Code::kBadSignature);
  Bytes bad = *sig;
  bad[bad.size() - 1] ^= 1;
  EXPECT_EQ(pub.Verify(AsBytes("firmware image"), bad).code(),
            Code::kBadSignature);
  EXPECT_EQ(pub.Verify(AsBytes("firmware image"), {}).code(),
            Code::kBadSignature);
  EXPECT_EQ(pub.Verify(AsBytes("firmware image"), Bytes(72, 0)).code(),
            Code::kBadSignature);
  // Another key does not verify it.
  PublicKey other = PrivateKey::Generate(KeyType::kEcdsaP256)->public_key();
  EXPECT_EQ(other.Verify(AsBytes("firmware image"), *sig).code(),
            Code::kBadSignature);
  // The raw point round-trips.
  Bytes raw = pub.ToRaw();
  ASSERT_EQ(raw.size(), 65u);
  EXPECT_EQ(raw[0], 0x04);
  Result<PublicKey> again = PublicKey::FromRaw(KeyType::kEcdsaP256, raw);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == pub);
}

TEST(KeysTest, Ed25519SignVerifyGenerated) {
  Result<PrivateKey> key = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(key.ok());
  Result<Bytes> sig = key->Sign(AsBytes("metadata"));
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(key->public_key().Verify(AsBytes("metadata"), *sig).ok());
  Bytes bad = *sig;
  bad[0] ^= 0x80;
  EXPECT_EQ(key->public_key().Verify(AsBytes("metadata"), bad).code(),
            Code::kBadSignature);
}

TEST(KeysTest, PemAndDerRoundTrips) {
  for (KeyType type : {KeyType::kEd25519, KeyType::kEcdsaP256}) {
    SCOPED_TRACE(std::string(KeyTypeName(type)));
    Result<PrivateKey> key = PrivateKey::Generate(type);
    ASSERT_TRUE(key.ok());
    std::string pem = key->ToPem();
    EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    Result<PrivateKey> loaded = PrivateKey::FromPem(pem);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->type(), type);
    EXPECT_TRUE(loaded->public_key() == key->public_key());
    Result<Bytes> sig = loaded->Sign(AsBytes("m"));
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(key->public_key().Verify(AsBytes("m"), *sig).ok());

    PublicKey pub = key->public_key();
    Result<PublicKey> from_pem = PublicKey::FromPem(pub.ToPem());
    ASSERT_TRUE(from_pem.ok());
    EXPECT_TRUE(*from_pem == pub);
    EXPECT_EQ(from_pem->type(), type);
    Result<PublicKey> from_der = PublicKey::FromDer(pub.ToDer());
    ASSERT_TRUE(from_der.ok());
    EXPECT_TRUE(*from_der == pub);
    EXPECT_EQ(pub.Fingerprint(), HexEncode(Sha256(pub.ToDer())));
    EXPECT_EQ(pub.Fingerprint().size(), 64u);
    EXPECT_NE(pub.Fingerprint(),
              PrivateKey::Generate(type)->public_key().Fingerprint());
  }
}

TEST(KeysTest, CompressedSpkiIsCanonicalised) {
  Result<PrivateKey> key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  PublicKey pub = key->public_key();
  OwnedPkey copy(EVP_PKEY_dup(pub.raw()));
  ASSERT_TRUE(copy);
  ASSERT_EQ(
      EVP_PKEY_set_utf8_string_param(
          copy.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"),
      1);
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(copy.get(), &der);
  ASSERT_GT(len, 0);
  Bytes compressed(der, der + len);
  OPENSSL_free(der);
  ASSERT_NE(compressed, pub.ToDer());
  Result<PublicKey> loaded = PublicKey::FromDer(compressed);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  // Same key, same identity: the fingerprint does not depend on the form.
  EXPECT_EQ(loaded->ToDer(), pub.ToDer());
  EXPECT_EQ(loaded->Fingerprint(), pub.Fingerprint());
}

TEST(KeysTest, RejectsRsaKeys) {
  OwnedPkey rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_TRUE(rsa);
  EXPECT_EQ(PublicKey::FromPem(PublicPem(rsa.get())).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromPem(PrivatePem(rsa.get())).status().code(),
            Code::kInvalidArgument);
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(rsa.get(), &der);
  ASSERT_GT(len, 0);
  Bytes spki(der, der + len);
  OPENSSL_free(der);
  EXPECT_EQ(PublicKey::FromDer(spki).status().code(), Code::kInvalidArgument);
}

TEST(KeysTest, RejectsOtherCurves) {
  OwnedPkey p384(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", const_cast<char*>("P-384")));
  ASSERT_TRUE(p384);
  EXPECT_EQ(PublicKey::FromPem(PublicPem(p384.get())).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromPem(PrivatePem(p384.get())).status().code(),
            Code::kInvalidArgument);
}

TEST(KeysTest, RejectsGarbage) {
  EXPECT_EQ(PublicKey::FromPem("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromPem("not a key").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(
      PublicKey::FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC "
                         "KEY-----\n")
          .status()
          .code(),
      Code::kInvalidArgument);
  EXPECT_EQ(PrivateKey::FromPem("garbage").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(
      PublicKey::FromDer(Bytes{0x30, 0x03, 0x02, 0x01, 0x00}).status().code(),
      Code::kInvalidArgument);
  EXPECT_EQ(PublicKey::FromDer({}).status().code(), Code::kInvalidArgument);
  // A valid key followed by junk is not a key.
  Bytes der = PrivateKey::Generate(KeyType::kEd25519)->public_key().ToDer();
  der.push_back(0);
  EXPECT_EQ(PublicKey::FromDer(der).status().code(), Code::kInvalidArgument);
}

TEST(KeysTest, EncryptedPrivateKeyIsRefusedWithoutPrompting) {
  Result<PrivateKey> key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  std::string pem = PrivatePem(key->raw(), EVP_aes_256_cbc(), "passphrase");
  ASSERT_NE(pem.find("ENCRYPTED"), std::string::npos);
  EXPECT_EQ(PrivateKey::FromPem(pem).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace warden::crypto
