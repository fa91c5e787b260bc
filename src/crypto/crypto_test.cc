// Known answers and failure behaviour for hashing, MACs, key derivation,
// AEAD and secret handling.
#include <gtest/gtest.h>

#include <string>

#include "base/bytes.h"
#include "base/rng.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/secret.h"

namespace warden::crypto {
namespace {

Bytes H(std::string_view hex) { return HexDecode(hex).value(); }

TEST(HashTest, Sha256Abc) {
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Digest(HashAlg::kSha256, AsBytes("abc")), Sha256(AsBytes("abc")));
  EXPECT_EQ(DigestSize(HashAlg::kSha256), 32u);
}

TEST(HashTest, Sha512Abc) {
  EXPECT_EQ(HexEncode(Digest(HashAlg::kSha512, AsBytes("abc"))),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(DigestSize(HashAlg::kSha512), 64u);
}

TEST(HashTest, IncrementalMatchesOneShot) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  Sha256Hasher h;
  ByteView all = AsBytes(data);
  h.Update(all.first(1));
  h.Update(all.subspan(1, 63));
  h.Update(all.subspan(64));
  EXPECT_EQ(h.Finish(), Sha256(all));
  Sha256Hasher empty;
  EXPECT_EQ(HexEncode(empty.Finish()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HashTest, StreamHasherMatchesOneShotForEachAlgorithm) {
  std::string data(5000, 'y');
  ByteView all = AsBytes(data);
  for (HashAlg alg : {HashAlg::kSha256, HashAlg::kSha512}) {
    StreamHasher h(alg);
    h.Update(all.first(3));
    h.Update(all.subspan(3));
    EXPECT_EQ(h.Finish(), Digest(alg, all));
  }
}

TEST(HmacTest, Rfc4231Case1) {
  Bytes key(20, 0x0b);
  EXPECT_EQ(HexEncode(HmacSha256(key, AsBytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HexEncode(Hmac(HashAlg::kSha512, key, AsBytes("Hi There"))),
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
            "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
}

TEST(HmacTest, Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256(AsBytes("Jefe"),
                                 AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HkdfTest, Rfc5869Case1) {
  Bytes ikm(22, 0x0b);
  Result<Bytes> okm =
      Hkdf(HashAlg::kSha256, ikm, H("000102030405060708090a0b0c"),
           H("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(HexEncode(*okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
            "34007208d5b887185865");
}

TEST(HkdfTest, Rfc5869Case3EmptySaltAndInfo) {
  Bytes ikm(22, 0x0b);
  Result<Bytes> okm = Hkdf(HashAlg::kSha256, ikm, {}, {}, 42);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(HexEncode(*okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
            "9d201395faa4b61a96c8");
  // An empty salt is the same as HashLen zero bytes (RFC 5869 section 2.2).
  EXPECT_EQ(*okm, Hkdf(HashAlg::kSha256, ikm, Bytes(32, 0), {}, 42).value());
}

TEST(HkdfTest, LengthLimits) {
  Bytes ikm(16, 1);
  EXPECT_TRUE(Hkdf(HashAlg::kSha256, ikm, {}, {}, 255 * 32).ok());
  EXPECT_EQ(Hkdf(HashAlg::kSha256, ikm, {}, {}, 255 * 32 + 1).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(Hkdf(HashAlg::kSha512, ikm, {}, {}, 255 * 64).ok());
  EXPECT_EQ(Hkdf(HashAlg::kSha512, ikm, {}, {}, 255 * 64 + 1).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Hkdf(HashAlg::kSha256, ikm, {}, {}, 0).status().code(),
            Code::kInvalidArgument);
}

TEST(Pbkdf2Test, Rfc7914Section11) {
  Result<Bytes> dk = Pbkdf2Sha256(AsBytes("passwd"), AsBytes("salt"), 1, 64);
  ASSERT_TRUE(dk.ok()) << dk.status().ToString();
  EXPECT_EQ(HexEncode(*dk),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
            "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
}

TEST(Pbkdf2Test, Rfc7914Section11SecondVector) {
  Result<Bytes> dk =
      Pbkdf2Sha256(AsBytes("Password"), AsBytes("NaCl"), 80000, 64);
  ASSERT_TRUE(dk.ok()) << dk.status().ToString();
  EXPECT_EQ(HexEncode(*dk),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
            "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
}

TEST(Pbkdf2Test, RejectsZeroIterations) {
  EXPECT_EQ(Pbkdf2Sha256(AsBytes("p"), AsBytes("salt"), 0, 32).status().code(),
            Code::kInvalidArgument);
}

// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16.
const char kGcmKey[] =
    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
const char kGcmIv[] = "cafebabefacedbaddecaf888";
const char kGcmAad[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const char kGcmPlain[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
const char kGcmCipherTag[] =
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
    "76fc6ece0f4e1768cddf8853bb2d551b";

TEST(AeadTest, GcmTestCase16) {
  Result<Bytes> sealed =
      AeadSeal(H(kGcmKey), H(kGcmIv), H(kGcmAad), H(kGcmPlain));
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(HexEncode(*sealed), kGcmCipherTag);
  Result<Bytes> opened =
      AeadOpen(H(kGcmKey), H(kGcmIv), H(kGcmAad), H(kGcmCipherTag));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(HexEncode(*opened), kGcmPlain);
}

TEST(AeadTest, RoundTripAndEmptyMessage) {
  Bytes key = RandomBytes(SystemRng(), 32).value();
  Bytes nonce = RandomBytes(SystemRng(), 12).value();
  Result<Bytes> sealed = AeadSeal(key, nonce, {}, AsBytes("hello"));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), 5 + kAeadTagSize);
  EXPECT_EQ(ToString(AeadOpen(key, nonce, {}, *sealed).value()), "hello");

  Result<Bytes> empty = AeadSeal(key, nonce, AsBytes("hdr"), {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), kAeadTagSize);
  Result<Bytes> opened = AeadOpen(key, nonce, AsBytes("hdr"), *empty);
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->empty());
}

TEST(AeadTest, TamperingIsIntegrityFailure) {
  Bytes key = H(kGcmKey);
  Bytes sealed = H(kGcmCipherTag);
  for (size_t i : {size_t{0}, sealed.size() / 2, sealed.size() - 1}) {
    Bytes bad = sealed;
    bad[i] ^= 0x01;
    EXPECT_EQ(AeadOpen(key, H(kGcmIv), H(kGcmAad), bad).status().code(),
              Code::kIntegrity)
        << "flipped byte " << i;
  }
  Bytes truncated(sealed.begin(), sealed.end() - 1);
  EXPECT_EQ(AeadOpen(key, H(kGcmIv), H(kGcmAad), truncated).status().code(),
            Code::kIntegrity);
  EXPECT_EQ(AeadOpen(key, H(kGcmIv), H(kGcmAad), Bytes(5)).status().code(),
            Code::kIntegrity);
}

TEST(AeadTest, WrongAadKeyOrNonceIsIntegrityFailure) {
  Bytes sealed = H(kGcmCipherTag);
  EXPECT_EQ(
      AeadOpen(H(kGcmKey), H(kGcmIv), AsBytes("other"), sealed).status().code(),
      Code::kIntegrity);
  EXPECT_EQ(AeadOpen(H(kGcmKey), H(kGcmIv), {}, sealed).status().code(),
            Code::kIntegrity);
  Bytes key = H(kGcmKey);
  key[0] ^= 1;
  EXPECT_EQ(AeadOpen(key, H(kGcmIv), H(kGcmAad), sealed).status().code(),
            Code::kIntegrity);
  Bytes iv = H(kGcmIv);
  iv[11] ^= 1;
  EXPECT_EQ(AeadOpen(H(kGcmKey), iv, H(kGcmAad), sealed).status().code(),
            Code::kIntegrity);
}

TEST(AeadTest, BadKeyOrNonceSizeIsInvalidArgument) {
  EXPECT_EQ(AeadSeal(Bytes(16), Bytes(12), {}, {}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(AeadSeal(Bytes(32), Bytes(16), {}, {}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(AeadOpen(Bytes(31), Bytes(12), {}, Bytes(16)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(AeadOpen(Bytes(32), Bytes(8), {}, Bytes(16)).status().code(),
            Code::kInvalidArgument);
}

TEST(AeadTest, RandomNonceRoundTrip) {
  Bytes key = RandomBytes(SystemRng(), 32).value();
  Result<Bytes> a = AeadSealRandomNonce(SystemRng(), key, AsBytes("ad"),
                                        AsBytes("secret message"));
  Result<Bytes> b = AeadSealRandomNonce(SystemRng(), key, AsBytes("ad"),
                                        AsBytes("secret message"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), kAeadNonceSize + 14 + kAeadTagSize);
  // Fresh nonces: the same message never seals to the same bytes.
  EXPECT_NE(*a, *b);
  EXPECT_EQ(ToString(AeadOpenRandomNonce(key, AsBytes("ad"), *a).value()),
            "secret message");
  Bytes bad = *a;
  bad[0] ^= 1;  // the nonce
  EXPECT_EQ(AeadOpenRandomNonce(key, AsBytes("ad"), bad).status().code(),
            Code::kIntegrity);
  EXPECT_EQ(AeadOpenRandomNonce(key, AsBytes("ad"), Bytes(27)).status().code(),
            Code::kIntegrity);
}

class FailingRng : public Rng {
 public:
  Status Fill(std::span<uint8_t>) override { return IoError("no entropy"); }
};

TEST(AeadTest, RandomNonceSourceFailureIsReported) {
  FailingRng rng;
  EXPECT_EQ(
      AeadSealRandomNonce(rng, Bytes(32), {}, AsBytes("x")).status().code(),
      Code::kIo);
}

TEST(SecretTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals(AsBytes("abc"), AsBytes("abc")));
  EXPECT_FALSE(ConstantTimeEquals(AsBytes("abc"), AsBytes("abd")));
  EXPECT_FALSE(ConstantTimeEquals(AsBytes("abc"), AsBytes("xbc")));
  EXPECT_FALSE(ConstantTimeEquals(AsBytes("abc"), AsBytes("abcd")));
  EXPECT_FALSE(ConstantTimeEquals(AsBytes(""), AsBytes("a")));
  EXPECT_TRUE(ConstantTimeEquals(AsBytes(""), AsBytes("")));
}

TEST(SecretTest, WipeZeroesMemory) {
  Bytes b = {1, 2, 3, 4, 5};
  Wipe(b);
  EXPECT_EQ(b, Bytes(5, 0));
  std::string s = "password";
  Wipe(s);
  EXPECT_EQ(s, std::string(8, '\0'));
  Wipe(nullptr, 0);  // allowed
}

TEST(SecretTest, SecretBytesWipeZeroesTheBuffer) {
  SecretBytes secret(Bytes{9, 8, 7, 6, 5, 4, 3, 2});
  ASSERT_EQ(secret.size(), 8u);
  // clear() keeps the allocation, so the old storage can still be read.
  const uint8_t* storage = secret.bytes().data();
  secret.Wipe();
  EXPECT_TRUE(secret.empty());
  EXPECT_EQ(Bytes(storage, storage + 8), Bytes(8, 0));
}

TEST(SecretTest, SecretBytesMoveTransfersOwnership) {
  SecretBytes a(Bytes{1, 2, 3});
  SecretBytes b = std::move(a);
  EXPECT_EQ(b.bytes(), (Bytes{1, 2, 3}));
  SecretBytes c(Bytes{4});
  c = std::move(b);
  EXPECT_EQ(c.bytes(), (Bytes{1, 2, 3}));
}

}  // namespace
}  // namespace warden::crypto
