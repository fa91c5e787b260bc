// SPAKE2+ (RFC 9383): every published vector for our two suites, from both
// roles, plus the ways a session must fail closed.
#include "crypto/spake2plus.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/rng.h"
#include "crypto/ec.h"
#include "crypto/hash.h"

namespace warden::crypto::spake2plus {
namespace {

using p256::Point;
using p256::Scalar;

Bytes H(std::string_view hex) { return HexDecode(hex).value(); }

const char kVectorPath[] =
    WARDEN_SOURCE_DIR "/tests/vectors/spake2plus-rfc9383.json";

struct Vector {
  std::string suite;
  HashAlg hash;
  Identities ids;
  Bytes w0, w1, L, x, X, y, Y, Z, V, TT;
  Bytes k_main, k_confirm_p, k_confirm_v, confirm_p, confirm_v, k_shared;
};

Bytes Field(const nlohmann::json& j, const char* name) {
  return H(j.at(name).get<std::string>());
}

std::vector<Vector> LoadVectors() {
  std::ifstream in(kVectorPath);
  EXPECT_TRUE(in.good()) << "cannot open " << kVectorPath;
  nlohmann::json doc = nlohmann::json::parse(in);
  std::vector<Vector> out;
  for (const nlohmann::json& j : doc.at("vectors")) {
    Vector v;
    v.suite = j.at("suite").get<std::string>();
    const std::string hash = j.at("hash").get<std::string>();
    EXPECT_TRUE(hash == "SHA256" || hash == "SHA512") << hash;
    v.hash = hash == "SHA256" ? HashAlg::kSha256 : HashAlg::kSha512;
    v.ids.context = Field(j, "contextHex");
    v.ids.id_prover = Field(j, "idProverHex");
    v.ids.id_verifier = Field(j, "idVerifierHex");
    EXPECT_EQ(ToString(v.ids.context), j.at("context").get<std::string>());
    v.w0 = Field(j, "w0");
    v.w1 = Field(j, "w1");
    v.L = Field(j, "L");
    v.x = Field(j, "x");
    v.X = Field(j, "X");
    v.y = Field(j, "y");
    v.Y = Field(j, "Y");
    v.Z = Field(j, "Z");
    v.V = Field(j, "V");
    v.TT = Field(j, "TT");
    v.k_main = Field(j, "K_main");
    v.k_confirm_p = Field(j, "K_confirmP");
    v.k_confirm_v = Field(j, "K_confirmV");
    v.confirm_p = Field(j, "confirmP");
    v.confirm_v = Field(j, "confirmV");
    v.k_shared = Field(j, "K_shared");
    out.push_back(std::move(v));
  }
  return out;
}

const std::vector<Vector>& Vectors() {
  static const std::vector<Vector> vectors = LoadVectors();
  return vectors;
}

const Vector& VectorFor(HashAlg hash) {
  for (const Vector& v : Vectors()) {
    if (v.hash == hash) return v;
  }
  ADD_FAILURE() << "no vector for the suite";
  return Vectors().front();
}

TEST(Spake2PlusVectors, FileCoversBothSuites) {
  ASSERT_GE(Vectors().size(), 2u);
  bool sha256 = false, sha512 = false;
  for (const Vector& v : Vectors()) {
    sha256 |= v.hash == HashAlg::kSha256;
    sha512 |= v.hash == HashAlg::kSha512;
  }
  EXPECT_TRUE(sha256);
  EXPECT_TRUE(sha512);
}

TEST(Spake2PlusVectors, FixedPointsMatchTheFile) {
  std::ifstream in(kVectorPath);
  nlohmann::json doc = nlohmann::json::parse(in);
  // The compressed points the RFC prints decode to the uncompressed ones we
  // put in the transcript.
  EXPECT_EQ(
      Point::FromBytes(H(doc.at("M").get<std::string>()))->ToUncompressed(),
      H(doc.at("M_uncompressed").get<std::string>()));
  EXPECT_EQ(
      Point::FromBytes(H(doc.at("N").get<std::string>()))->ToUncompressed(),
      H(doc.at("N_uncompressed").get<std::string>()));
}

TEST(Spake2PlusVectors, TranscriptAndKeySchedule) {
  for (const Vector& v : Vectors()) {
    SCOPED_TRACE(v.suite);
    Bytes tt = internal::Transcript(v.ids, v.X, v.Y, v.Z, v.V, v.w0);
    EXPECT_EQ(HexEncode(tt), HexEncode(v.TT));
    Result<internal::KeySchedule> ks = internal::DeriveKeySchedule(v.hash, tt);
    ASSERT_TRUE(ks.ok()) << ks.status().ToString();
    EXPECT_EQ(ks->k_main.bytes(), v.k_main);
    EXPECT_EQ(ks->k_confirm_p.bytes(), v.k_confirm_p);
    EXPECT_EQ(ks->k_confirm_v.bytes(), v.k_confirm_v);
    EXPECT_EQ(ks->k_shared.bytes(), v.k_shared);
    EXPECT_EQ(Hmac(v.hash, v.k_confirm_p, v.Y), v.confirm_p);
    EXPECT_EQ(Hmac(v.hash, v.k_confirm_v, v.X), v.confirm_v);
  }
}

TEST(Spake2PlusVectors, VerifierRecord) {
  for (const Vector& v : Vectors()) {
    SCOPED_TRACE(v.suite);
    ProverSecrets secrets{SecretBytes(v.w0), SecretBytes(v.w1)};
    Result<VerifierRecord> record = MakeVerifierRecord(secrets);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_EQ(record->w0.bytes(), v.w0);
    EXPECT_EQ(HexEncode(record->L), HexEncode(v.L));
  }
}

TEST(Spake2PlusVectors, BothRolesWithFixedEphemerals) {
  for (const Vector& v : Vectors()) {
    SCOPED_TRACE(v.suite);
    Result<Prover> prover =
        Prover::Create(v.hash, v.ids, v.w0, v.w1, SystemRng(), ByteView(v.x));
    ASSERT_TRUE(prover.ok()) << prover.status().ToString();
    EXPECT_EQ(HexEncode(prover->share_p()), HexEncode(v.X));

    Result<Verifier> verifier =
        Verifier::Create(v.hash, v.ids, v.w0, v.L, SystemRng(), ByteView(v.y));
    ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
    Result<VerifierResponse> response = verifier->Respond(v.X);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(HexEncode(response->share_v), HexEncode(v.Y));
    // confirmV depends on Z and V through the transcript.
    EXPECT_EQ(HexEncode(response->confirm_v), HexEncode(v.confirm_v));

    Result<ProverResult> result = prover->Finish(v.Y, v.confirm_v);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(HexEncode(result->confirm_p), HexEncode(v.confirm_p));
    EXPECT_EQ(HexEncode(result->shared_key.bytes()), HexEncode(v.k_shared));

    Result<SecretBytes> key = verifier->Confirm(v.confirm_p);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(HexEncode(key->bytes()), HexEncode(v.k_shared));
  }
}

Identities PairingIds() {
  return Identities{ToBytes("warden pairing v1 exporter-bytes"),
                    ToBytes("warden-owner"), ToBytes("WX-0001")};
}

const Bytes kSalt = ToBytes("0123456789abcdef");

struct Session {
  Result<ProverResult> prover;
  Result<SecretBytes> verifier;
};

Session RunSession(HashAlg hash, uint32_t prover_code, uint32_t device_code) {
  ProverSecrets p = DeriveProverSecrets(prover_code, kSalt, 1000).value();
  ProverSecrets d = DeriveProverSecrets(device_code, kSalt, 1000).value();
  VerifierRecord record = MakeVerifierRecord(d).value();
  Prover prover =
      Prover::Create(hash, PairingIds(), p.w0.view(), p.w1.view(), SystemRng())
          .value();
  Verifier verifier = Verifier::Create(hash, PairingIds(), record.w0.view(),
                                       record.L, SystemRng())
                          .value();
  VerifierResponse r = verifier.Respond(prover.share_p()).value();
  Result<ProverResult> pr = prover.Finish(r.share_v, r.confirm_v);
  Result<SecretBytes> vr =
      pr.ok() ? verifier.Confirm(pr->confirm_p)
              : Result<SecretBytes>(FailedPreconditionError("prover failed"));
  return Session{std::move(pr), std::move(vr)};
}

TEST(Spake2PlusTest, RandomRoundTripAgreesOnKey) {
  for (HashAlg hash : {HashAlg::kSha256, HashAlg::kSha512}) {
    Session s = RunSession(hash, 20202021, 20202021);
    ASSERT_TRUE(s.prover.ok()) << s.prover.status().ToString();
    ASSERT_TRUE(s.verifier.ok()) << s.verifier.status().ToString();
    EXPECT_EQ(s.prover->shared_key.bytes(), s.verifier->bytes());
    EXPECT_EQ(s.verifier->size(), DigestSize(hash));
    // Fresh ephemerals: another session gives another key.
    Session again = RunSession(hash, 20202021, 20202021);
    ASSERT_TRUE(again.verifier.ok());
    EXPECT_NE(again.verifier->bytes(), s.verifier->bytes());
  }
}

TEST(Spake2PlusTest, WrongPasscodeFailsAtProverFinish) {
  Session s = RunSession(HashAlg::kSha256, 20202021, 20202022);
  EXPECT_EQ(s.prover.status().code(), Code::kUnauthenticated);
}

TEST(Spake2PlusTest, WrongPasscodeFailsAtVerifierConfirm) {
  // A prover with the wrong passcode that ignores confirmV and sends the
  // confirmP it computed: the verifier must refuse it.
  const HashAlg hash = HashAlg::kSha256;
  ProverSecrets wrong = DeriveProverSecrets(11111111, kSalt, 1000).value();
  ProverSecrets right = DeriveProverSecrets(20202021, kSalt, 1000).value();
  VerifierRecord record = MakeVerifierRecord(right).value();
  Verifier verifier = Verifier::Create(hash, PairingIds(), record.w0.view(),
                                       record.L, SystemRng())
                          .value();
  Scalar x = Scalar::Random(SystemRng()).value();
  Scalar w0 = Scalar::FromBytes(wrong.w0.view()).value();
  Scalar w1 = Scalar::FromBytes(wrong.w1.view()).value();
  Point m = Point::FromBytes(
                H("02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd49733"
                  "3d8fa12f"))
                .value();
  Point n = Point::FromBytes(
                H("03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98ba"
                  "a1292b49"))
                .value();
  Bytes share_p = m.MulAddGenerator(x, w0)->ToUncompressed();
  VerifierResponse r = verifier.Respond(share_p).value();
  Point y = Point::FromBytes(r.share_v).value();
  Point t = y.Sub(n.Mul(w0).value()).value();
  Bytes tt = internal::Transcript(PairingIds(), share_p, r.share_v,
                                  t.Mul(x)->ToUncompressed(),
                                  t.Mul(w1)->ToUncompressed(), wrong.w0.view());
  internal::KeySchedule ks = internal::DeriveKeySchedule(hash, tt).value();
  EXPECT_NE(Hmac(hash, ks.k_confirm_v.view(), share_p), r.confirm_v);
  Bytes confirm_p = Hmac(hash, ks.k_confirm_p.view(), r.share_v);
  EXPECT_EQ(verifier.Confirm(confirm_p).status().code(),
            Code::kUnauthenticated);
}

TEST(Spake2PlusTest, AnAttemptWithTheWrongCodeIsRefusedByTheVerifier) {
  // The prover finds confirmV wrong and still sends its confirmP, as the
  // owner's client does so that the device counts the failure.
  const HashAlg hash = HashAlg::kSha256;
  for (uint32_t code : {20202021u, 11111112u}) {
    SCOPED_TRACE(code);
    ProverSecrets typed = DeriveProverSecrets(code, kSalt, 1000).value();
    ProverSecrets right = DeriveProverSecrets(20202021, kSalt, 1000).value();
    VerifierRecord record = MakeVerifierRecord(right).value();
    Verifier verifier = Verifier::Create(hash, PairingIds(), record.w0.view(),
                                         record.L, SystemRng())
                            .value();
    Prover prover = Prover::Create(hash, PairingIds(), typed.w0.view(),
                                   typed.w1.view(), SystemRng())
                        .value();
    VerifierResponse r = verifier.Respond(prover.share_p()).value();
    ProverAttempt attempt =
        prover.FinishAttempt(r.share_v, r.confirm_v).value();
    EXPECT_EQ(prover.FinishAttempt(r.share_v, r.confirm_v).status().code(),
              Code::kFailedPrecondition);
    Result<SecretBytes> key = verifier.Confirm(attempt.confirm_p);
    if (code == 20202021u) {
      EXPECT_TRUE(attempt.verifier_confirmed);
      ASSERT_TRUE(key.ok());
      EXPECT_EQ(key->bytes(), attempt.shared_key.bytes());
    } else {
      EXPECT_FALSE(attempt.verifier_confirmed);
      EXPECT_EQ(key.status().code(), Code::kUnauthenticated);
    }
  }
}

TEST(Spake2PlusTest, FailedConfirmationSpendsTheSession) {
  const Vector& v = VectorFor(HashAlg::kSha256);
  Verifier verifier =
      Verifier::Create(v.hash, v.ids, v.w0, v.L, SystemRng(), ByteView(v.y))
          .value();
  ASSERT_TRUE(verifier.Respond(v.X).ok());
  Bytes wrong = v.confirm_p;
  wrong[0] ^= 1;
  EXPECT_EQ(verifier.Confirm(wrong).status().code(), Code::kUnauthenticated);
  // No second guess, not even with the right value.
  EXPECT_EQ(verifier.Confirm(v.confirm_p).status().code(),
            Code::kFailedPrecondition);

  Prover prover =
      Prover::Create(v.hash, v.ids, v.w0, v.w1, SystemRng(), ByteView(v.x))
          .value();
  Bytes wrong_v = v.confirm_v;
  wrong_v.back() ^= 0x80;
  EXPECT_EQ(prover.Finish(v.Y, wrong_v).status().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(prover.Finish(v.Y, v.confirm_v).status().code(),
            Code::kFailedPrecondition);
  // A truncated confirmation is just as wrong.
  Prover prover2 =
      Prover::Create(v.hash, v.ids, v.w0, v.w1, SystemRng(), ByteView(v.x))
          .value();
  EXPECT_EQ(
      prover2.Finish(v.Y, ByteView(v.confirm_v).first(v.confirm_v.size() - 1))
          .status()
          .code(),
      Code::kUnauthenticated);
}

TEST(Spake2PlusTest, CallOrderIsEnforced) {
  const Vector& v = VectorFor(HashAlg::kSha256);
  Verifier verifier =
      Verifier::Create(v.hash, v.ids, v.w0, v.L, SystemRng(), ByteView(v.y))
          .value();
  EXPECT_EQ(verifier.Confirm(v.confirm_p).status().code(),
            Code::kFailedPrecondition);
  ASSERT_TRUE(verifier.Respond(v.X).ok());
  EXPECT_EQ(verifier.Respond(v.X).status().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(verifier.Confirm(v.confirm_p).ok());
  EXPECT_EQ(verifier.Confirm(v.confirm_p).status().code(),
            Code::kFailedPrecondition);

  Prover prover =
      Prover::Create(v.hash, v.ids, v.w0, v.w1, SystemRng(), ByteView(v.x))
          .value();
  ASSERT_TRUE(prover.Finish(v.Y, v.confirm_v).ok());
  EXPECT_EQ(prover.Finish(v.Y, v.confirm_v).status().code(),
            Code::kFailedPrecondition);
}

// Encodings of X or Y that must be refused before any key is derived.
std::vector<std::pair<std::string, Bytes>> BadShares(const Bytes& good,
                                                     const Bytes& blind) {
  std::vector<std::pair<std::string, Bytes>> out;
  Bytes off = good;
  off[64] ^= 1;
  out.emplace_back("off curve", off);
  out.emplace_back("short", Bytes(good.begin(), good.end() - 1));
  Bytes longer = good;
  longer.push_back(0);
  out.emplace_back("long", longer);
  Bytes prefix = good;
  prefix[0] = 0x03;
  out.emplace_back("bad prefix", prefix);
  Bytes hybrid = good;
  hybrid[0] = 0x06 | (good[64] & 1);
  out.emplace_back("hybrid form", hybrid);
  // The valid compressed form of the same point: not what was agreed.
  Bytes compressed(good.begin(), good.begin() + 33);
  compressed[0] = 0x02 | (good[64] & 1);
  out.emplace_back("compressed", compressed);
  out.emplace_back("identity", Bytes{0x00});
  out.emplace_back("zero point", Bytes(65, 0));
  out.emplace_back("empty", Bytes{});
  out.emplace_back("w0 times fixed point", blind);
  return out;
}

TEST(Spake2PlusTest, VerifierRejectsInvalidShares) {
  const Vector& v = VectorFor(HashAlg::kSha256);
  Scalar w0 = Scalar::FromBytes(v.w0).value();
  Bytes w0m = Point::FromBytes(
                  H("02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497"
                    "333d8fa12f"))
                  ->Mul(w0)
                  ->ToUncompressed();
  Verifier verifier =
      Verifier::Create(v.hash, v.ids, v.w0, v.L, SystemRng(), ByteView(v.y))
          .value();
  for (const auto& [name, share] : BadShares(v.X, w0m)) {
    EXPECT_EQ(verifier.Respond(share).status().code(), Code::kInvalidArgument)
        << name;
  }
  // Rejections leave the verifier as it was: the real share still works.
  Result<VerifierResponse> r = verifier.Respond(v.X);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->confirm_v, v.confirm_v);
}

TEST(Spake2PlusTest, ProverRejectsInvalidShares) {
  const Vector& v = VectorFor(HashAlg::kSha512);
  Scalar w0 = Scalar::FromBytes(v.w0).value();
  Bytes w0n = Point::FromBytes(
                  H("03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98"
                    "baa1292b49"))
                  ->Mul(w0)
                  ->ToUncompressed();
  Prover prover =
      Prover::Create(v.hash, v.ids, v.w0, v.w1, SystemRng(), ByteView(v.x))
          .value();
  for (const auto& [name, share] : BadShares(v.Y, w0n)) {
    EXPECT_EQ(prover.Finish(share, v.confirm_v).status().code(),
              Code::kInvalidArgument)
        << name;
  }
  Result<ProverResult> r = prover.Finish(v.Y, v.confirm_v);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->shared_key.bytes(), v.k_shared);
}

TEST(Spake2PlusTest, RejectsZeroAndOutOfRangeScalars) {
  const Vector& v = VectorFor(HashAlg::kSha256);
  const Bytes zero(32, 0);
  const Bytes order =
      H("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  auto prover_code = [&](ByteView w0, ByteView w1, ByteView x) {
    return Prover::Create(v.hash, v.ids, w0, w1, SystemRng(), x)
        .status()
        .code();
  };
  EXPECT_EQ(prover_code(zero, v.w1, v.x), Code::kInvalidArgument);
  EXPECT_EQ(prover_code(v.w0, zero, v.x), Code::kInvalidArgument);
  EXPECT_EQ(prover_code(v.w0, v.w1, zero), Code::kInvalidArgument);
  EXPECT_EQ(prover_code(order, v.w1, v.x), Code::kInvalidArgument);
  EXPECT_EQ(prover_code(v.w0, v.w1, Bytes(31, 1)), Code::kInvalidArgument);
  EXPECT_EQ(
      Prover::Create(v.hash, v.ids, zero, v.w1, SystemRng()).status().code(),
      Code::kInvalidArgument);

  auto verifier_code = [&](ByteView w0, ByteView L, ByteView y) {
    return Verifier::Create(v.hash, v.ids, w0, L, SystemRng(), y)
        .status()
        .code();
  };
  EXPECT_EQ(verifier_code(zero, v.L, v.y), Code::kInvalidArgument);
  EXPECT_EQ(verifier_code(v.w0, v.L, zero), Code::kInvalidArgument);
  EXPECT_EQ(verifier_code(order, v.L, v.y), Code::kInvalidArgument);
  Bytes bad_l = v.L;
  bad_l[10] ^= 1;
  EXPECT_EQ(verifier_code(v.w0, bad_l, v.y), Code::kInvalidArgument);
  EXPECT_EQ(verifier_code(v.w0, Bytes{0x00}, v.y), Code::kInvalidArgument);

  ProverSecrets zero_w1{SecretBytes(v.w0), SecretBytes(zero)};
  EXPECT_EQ(MakeVerifierRecord(zero_w1).status().code(),
            Code::kInvalidArgument);
  ProverSecrets zero_w0{SecretBytes(zero), SecretBytes(v.w1)};
  EXPECT_EQ(MakeVerifierRecord(zero_w0).status().code(),
            Code::kInvalidArgument);
}

TEST(Spake2PlusTest, DeriveProverSecretsKnownAnswer) {
  // Passcode 20202021, salt "SPAKE2P Key Salt", 1000 iterations: the
  // well-known Matter test device values.
  Result<ProverSecrets> s =
      DeriveProverSecrets(20202021, AsBytes("SPAKE2P Key Salt"), 1000);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(HexEncode(s->w0.bytes()),
            "b96170aae803346884724fe9a3b287c30330c2a660375d17bb205a8cf1aecb35");
  EXPECT_EQ(HexEncode(s->w1.bytes()),
            "823d264225e36f4923b43ad64f8c862a30f4a129bbf9ee8074a32d6d67586a90");
  Result<VerifierRecord> r = MakeVerifierRecord(*s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(HexEncode(r->L),
            "0457f8ab79ee253ab6a8e46bb09e543ae422736de501e3db37d441fe344920d0"
            "9548e4c18240630c4ff4913c53513839b7c07fcc0627a1b8573a149fcd1fa466"
            "cf");
  // L = w1 * P.
  Scalar w1 = Scalar::FromBytes(s->w1.view()).value();
  EXPECT_EQ(r->L, Point::Generator().Mul(w1)->ToUncompressed());
}

TEST(Spake2PlusTest, DeriveProverSecretsIsDeterministic) {
  ProverSecrets a = DeriveProverSecrets(123456, kSalt, 1000).value();
  ProverSecrets b = DeriveProverSecrets(123456, kSalt, 1000).value();
  EXPECT_EQ(a.w0.bytes(), b.w0.bytes());
  EXPECT_EQ(a.w1.bytes(), b.w1.bytes());
  EXPECT_EQ(a.w0.size(), 32u);
  EXPECT_NE(a.w0.bytes(), a.w1.bytes());
  ProverSecrets other_code = DeriveProverSecrets(123457, kSalt, 1000).value();
  EXPECT_NE(a.w0.bytes(), other_code.w0.bytes());
  ProverSecrets other_salt =
      DeriveProverSecrets(123456, ToBytes("0123456789abcdeF"), 1000).value();
  EXPECT_NE(a.w0.bytes(), other_salt.w0.bytes());
  ProverSecrets other_iter = DeriveProverSecrets(123456, kSalt, 1001).value();
  EXPECT_NE(a.w0.bytes(), other_iter.w0.bytes());
}

TEST(Spake2PlusTest, DeriveProverSecretsBounds) {
  auto code = [](size_t salt_len, uint32_t iterations) {
    return DeriveProverSecrets(20202021, Bytes(salt_len, 0x5a), iterations)
        .status()
        .code();
  };
  EXPECT_EQ(code(15, 1000), Code::kInvalidArgument);
  EXPECT_EQ(code(33, 1000), Code::kInvalidArgument);
  EXPECT_EQ(code(0, 1000), Code::kInvalidArgument);
  EXPECT_EQ(code(16, 999), Code::kInvalidArgument);
  EXPECT_EQ(code(16, 100001), Code::kInvalidArgument);
  EXPECT_EQ(code(16, 0), Code::kInvalidArgument);
  EXPECT_EQ(code(16, 1000), Code::kOk);
  EXPECT_EQ(code(32, 1000), Code::kOk);
  EXPECT_EQ(code(24, 100000), Code::kOk);
}

}  // namespace
}  // namespace warden::crypto::spake2plus
