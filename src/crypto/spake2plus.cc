#include "crypto/spake2plus.h"

#include <array>

namespace warden::crypto::spake2plus {
namespace {

using p256::Point;
using p256::Scalar;

// RFC 9383 section 4, P-256: M and N in uncompressed SEC1 form, as they
// enter the transcript.
constexpr std::array<uint8_t, p256::kPointSize> kM = {
    0x04, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55, 0xba, 0x9d,
    0xd7, 0x24, 0x25, 0x79, 0xf2, 0x99, 0x3b, 0x64, 0xe1, 0x6e, 0xf3,
    0xdc, 0xab, 0x95, 0xaf, 0xd4, 0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f,
    0x5f, 0xf3, 0x55, 0x16, 0x3e, 0x43, 0xce, 0x22, 0x4e, 0x0b, 0x0e,
    0x65, 0xff, 0x02, 0xac, 0x8e, 0x5c, 0x7b, 0xe0, 0x94, 0x19, 0xc7,
    0x85, 0xe0, 0xca, 0x54, 0x7d, 0x55, 0xa1, 0x2e, 0x2d, 0x20};
constexpr std::array<uint8_t, p256::kPointSize> kN = {
    0x04, 0xd8, 0xbb, 0xd6, 0xc6, 0x39, 0xc6, 0x29, 0x37, 0xb0, 0x4d,
    0x99, 0x7f, 0x38, 0xc3, 0x77, 0x07, 0x19, 0xc6, 0x29, 0xd7, 0x01,
    0x4d, 0x49, 0xa2, 0x4b, 0x4f, 0x98, 0xba, 0xa1, 0x29, 0x2b, 0x49,
    0x07, 0xd6, 0x0a, 0xa6, 0xbf, 0xad, 0xe4, 0x50, 0x08, 0xa6, 0x36,
    0x33, 0x7f, 0x51, 0x68, 0xc6, 0x4d, 0x9b, 0xd3, 0x60, 0x34, 0x80,
    0x8c, 0xd5, 0x64, 0x49, 0x0b, 0x1e, 0x65, 0x6e, 0xdb, 0xe7};

constexpr size_t kMinSalt = 16;
constexpr size_t kMaxSalt = 32;
constexpr uint32_t kMinIterations = 1000;
constexpr uint32_t kMaxIterations = 100000;
constexpr size_t kWsHalf = 40;  // bytes of w0s and of w1s

Result<Point> FixedPoint(const std::array<uint8_t, p256::kPointSize>& p) {
  return Point::FromBytes(ByteView(p.data(), p.size()));
}

// A secret scalar given by the caller: 32 bytes, below n and not zero.
Result<Scalar> SecretScalar(ByteView be32, const char* what) {
  Result<Scalar> s = Scalar::FromBytes(be32);
  if (!s.ok() || s->IsZero()) {
    return InvalidArgumentError(std::string("spake2+: invalid ") + what);
  }
  return s;
}

// A share from the peer: 65 bytes, uncompressed, on the curve, not the
// identity. Only the uncompressed form is taken so that both sides hash the
// very bytes that were sent.
Result<Point> PeerShare(ByteView share) {
  if (share.size() != p256::kPointSize) {
    return InvalidArgumentError("spake2+: share must be 65 bytes");
  }
  Result<Point> p = Point::FromBytes(share);
  if (!p.ok()) return p.status().WithContext("spake2+: invalid share");
  return p;
}

// share - w0 * fixed, refusing the identity: a share equal to w0*M (or
// w0*N) would make Z and V independent of the other side's secret.
Result<Point> Unblind(const Point& share, const Scalar& w0,
                      const std::array<uint8_t, p256::kPointSize>& fixed) {
  WARDEN_ASSIGN_OR_RETURN(Point f, FixedPoint(fixed));
  WARDEN_ASSIGN_OR_RETURN(Point blind, f.Mul(w0));
  WARDEN_ASSIGN_OR_RETURN(Point t, share.Sub(blind));
  if (t.IsIdentity()) {
    return InvalidArgumentError("spake2+: share cancels to the identity");
  }
  return t;
}

void AppendField(Bytes& out, ByteView field) {
  uint64_t len = field.size();
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<uint8_t>(len >> (8 * i)));
  }
  out.insert(out.end(), field.begin(), field.end());
}

// Z and V, checked, then the key schedule over the transcript.
Result<internal::KeySchedule> Keys(HashAlg hash, const Identities& ids,
                                   ByteView share_p, ByteView share_v,
                                   const Point& z, const Point& v,
                                   const Scalar& w0) {
  if (z.IsIdentity() || v.IsIdentity()) {
    return InvalidArgumentError("spake2+: Z or V is the identity");
  }
  SecretBytes z_bytes(z.ToUncompressed());
  SecretBytes v_bytes(v.ToUncompressed());
  SecretBytes w0_bytes(w0.ToBytes());
  SecretBytes tt(internal::Transcript(ids, share_p, share_v, z_bytes.view(),
                                      v_bytes.view(), w0_bytes.view()));
  return internal::DeriveKeySchedule(hash, tt.view());
}

}  // namespace

namespace internal {

Bytes Transcript(const Identities& ids, ByteView share_p, ByteView share_v,
                 ByteView z, ByteView v, ByteView w0) {
  Bytes tt;
  tt.reserve(9 * 8 + ids.context.size() + ids.id_prover.size() +
             ids.id_verifier.size() + 2 * kM.size() + share_p.size() +
             share_v.size() + z.size() + v.size() + w0.size());
  AppendField(tt, ids.context);
  AppendField(tt, ids.id_prover);
  AppendField(tt, ids.id_verifier);
  AppendField(tt, ByteView(kM.data(), kM.size()));
  AppendField(tt, ByteView(kN.data(), kN.size()));
  AppendField(tt, share_p);
  AppendField(tt, share_v);
  AppendField(tt, z);
  AppendField(tt, v);
  AppendField(tt, w0);
  return tt;
}

Result<KeySchedule> DeriveKeySchedule(HashAlg hash, ByteView transcript) {
  const size_t n = DigestSize(hash);
  SecretBytes k_main(Digest(hash, transcript));
  WARDEN_ASSIGN_OR_RETURN(
      Bytes confirm,
      Hkdf(hash, k_main.view(), {}, AsBytes("ConfirmationKeys"), 2 * n));
  SecretBytes confirm_keys(std::move(confirm));
  WARDEN_ASSIGN_OR_RETURN(
      Bytes shared, Hkdf(hash, k_main.view(), {}, AsBytes("SharedKey"), n));
  KeySchedule ks;
  ks.k_shared = SecretBytes(std::move(shared));
  ks.k_confirm_p = SecretBytes(
      Bytes(confirm_keys.bytes().begin(), confirm_keys.bytes().begin() + n));
  ks.k_confirm_v = SecretBytes(
      Bytes(confirm_keys.bytes().begin() + n, confirm_keys.bytes().end()));
  ks.k_main = std::move(k_main);
  return ks;
}

}  // namespace internal

Result<ProverSecrets> DeriveProverSecrets(uint32_t passcode, ByteView salt,
                                          uint32_t iterations) {
  if (salt.size() < kMinSalt || salt.size() > kMaxSalt) {
    return InvalidArgumentError("spake2+: salt must be 16 to 32 bytes");
  }
  if (iterations < kMinIterations || iterations > kMaxIterations) {
    return InvalidArgumentError("spake2+: iterations must be 1000 to 100000");
  }
  uint8_t code[4] = {static_cast<uint8_t>(passcode),
                     static_cast<uint8_t>(passcode >> 8),
                     static_cast<uint8_t>(passcode >> 16),
                     static_cast<uint8_t>(passcode >> 24)};
  Result<Bytes> derived =
      Pbkdf2Sha256(ByteView(code, sizeof(code)), salt, iterations, 2 * kWsHalf);
  Wipe(code, sizeof(code));
  if (!derived.ok()) return derived.status();
  SecretBytes ws(std::move(derived).value());
  WARDEN_ASSIGN_OR_RETURN(Scalar w0,
                          Scalar::FromBytesReduced(ws.view().first(kWsHalf)));
  WARDEN_ASSIGN_OR_RETURN(Scalar w1,
                          Scalar::FromBytesReduced(ws.view().last(kWsHalf)));
  if (w0.IsZero() || w1.IsZero()) {
    return InvalidArgumentError("spake2+: passcode derives a zero scalar");
  }
  return ProverSecrets{SecretBytes(w0.ToBytes()), SecretBytes(w1.ToBytes())};
}

Result<VerifierRecord> MakeVerifierRecord(const ProverSecrets& secrets) {
  WARDEN_TRY(SecretScalar(secrets.w0.view(), "w0"));
  WARDEN_ASSIGN_OR_RETURN(Scalar w1, SecretScalar(secrets.w1.view(), "w1"));
  WARDEN_ASSIGN_OR_RETURN(Point l, Point::Generator().Mul(w1));
  return VerifierRecord{SecretBytes(secrets.w0.bytes()), l.ToUncompressed()};
}

// ---------------------------------------------------------------------------

struct Prover::Impl {
  HashAlg hash;
  Identities ids;
  Scalar w0;
  Scalar w1;
  Scalar x;
  Bytes share_p;
  bool spent = false;
};

Prover::Prover(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Prover::Prover(Prover&&) noexcept = default;
Prover& Prover::operator=(Prover&&) noexcept = default;
Prover::~Prover() = default;

Result<Prover> Prover::Create(HashAlg hash, Identities ids, ByteView w0,
                              ByteView w1, Rng& rng,
                              std::optional<ByteView> x) {
  WARDEN_ASSIGN_OR_RETURN(Scalar w0s, SecretScalar(w0, "w0"));
  WARDEN_ASSIGN_OR_RETURN(Scalar w1s, SecretScalar(w1, "w1"));
  WARDEN_ASSIGN_OR_RETURN(
      Scalar xs, x.has_value() ? SecretScalar(*x, "x") : Scalar::Random(rng));
  WARDEN_ASSIGN_OR_RETURN(Point m, FixedPoint(kM));
  // X = x*P + w0*M
  WARDEN_ASSIGN_OR_RETURN(Point share, m.MulAddGenerator(xs, w0s));
  if (share.IsIdentity()) {
    return InvalidArgumentError("spake2+: X is the identity");
  }
  Bytes share_p = share.ToUncompressed();
  return Prover(std::unique_ptr<Impl>(
      new Impl{hash, std::move(ids), std::move(w0s), std::move(w1s),
               std::move(xs), std::move(share_p)}));
}

Bytes Prover::share_p() const { return impl_->share_p; }

Result<ProverResult> Prover::Finish(ByteView share_v, ByteView confirm_v) {
  WARDEN_ASSIGN_OR_RETURN(ProverAttempt attempt,
                          FinishAttempt(share_v, confirm_v));
  if (!attempt.verifier_confirmed) {
    return UnauthenticatedError("spake2+: verifier confirmation is wrong");
  }
  ProverResult result;
  result.confirm_p = std::move(attempt.confirm_p);
  result.shared_key = std::move(attempt.shared_key);
  return result;
}

Result<ProverAttempt> Prover::FinishAttempt(ByteView share_v,
                                            ByteView confirm_v) {
  Impl& s = *impl_;
  if (s.spent) return FailedPreconditionError("spake2+: prover already used");
  WARDEN_ASSIGN_OR_RETURN(Point y, PeerShare(share_v));
  WARDEN_ASSIGN_OR_RETURN(Point t, Unblind(y, s.w0, kN));
  // Z = x*(Y - w0*N), V = w1*(Y - w0*N); h = 1 for P-256.
  WARDEN_ASSIGN_OR_RETURN(Point z, t.Mul(s.x));
  WARDEN_ASSIGN_OR_RETURN(Point v, t.Mul(s.w1));
  WARDEN_ASSIGN_OR_RETURN(internal::KeySchedule ks,
                          Keys(s.hash, s.ids, s.share_p, share_v, z, v, s.w0));
  // From here on the session is spent whatever the outcome: a prover that
  // accepted a second confirmV would hand an attacker another guess.
  s.spent = true;
  Bytes expected = Hmac(s.hash, ks.k_confirm_v.view(), s.share_p);
  ProverAttempt attempt;
  attempt.verifier_confirmed = ConstantTimeEquals(expected, confirm_v);
  attempt.confirm_p = Hmac(s.hash, ks.k_confirm_p.view(), share_v);
  attempt.shared_key = std::move(ks.k_shared);
  return attempt;
}

// ---------------------------------------------------------------------------

struct Verifier::Impl {
  enum class State { kFresh, kResponded, kSpent };
  HashAlg hash;
  Identities ids;
  Scalar w0;
  Point l;
  Scalar y;
  Bytes share_v;
  State state = State::kFresh;
  SecretBytes expected_confirm_p;
  SecretBytes k_shared;
};

Verifier::Verifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Verifier::Verifier(Verifier&&) noexcept = default;
Verifier& Verifier::operator=(Verifier&&) noexcept = default;
Verifier::~Verifier() = default;

Result<Verifier> Verifier::Create(HashAlg hash, Identities ids, ByteView w0,
                                  ByteView L, Rng& rng,
                                  std::optional<ByteView> y) {
  WARDEN_ASSIGN_OR_RETURN(Scalar w0s, SecretScalar(w0, "w0"));
  Result<Point> l = PeerShare(L);
  if (!l.ok()) return InvalidArgumentError("spake2+: invalid L");
  WARDEN_ASSIGN_OR_RETURN(
      Scalar ys, y.has_value() ? SecretScalar(*y, "y") : Scalar::Random(rng));
  WARDEN_ASSIGN_OR_RETURN(Point n, FixedPoint(kN));
  // Y = y*P + w0*N
  WARDEN_ASSIGN_OR_RETURN(Point share, n.MulAddGenerator(ys, w0s));
  if (share.IsIdentity()) {
    return InvalidArgumentError("spake2+: Y is the identity");
  }
  Bytes share_v = share.ToUncompressed();
  return Verifier(std::unique_ptr<Impl>(
      new Impl{hash, std::move(ids), std::move(w0s), std::move(l).value(),
               std::move(ys), std::move(share_v)}));
}

Result<VerifierResponse> Verifier::Respond(ByteView share_p) {
  Impl& s = *impl_;
  if (s.state != Impl::State::kFresh) {
    return FailedPreconditionError("spake2+: verifier already responded");
  }
  WARDEN_ASSIGN_OR_RETURN(Point x, PeerShare(share_p));
  WARDEN_ASSIGN_OR_RETURN(Point t, Unblind(x, s.w0, kM));
  // Z = y*(X - w0*M), V = y*L; h = 1 for P-256.
  WARDEN_ASSIGN_OR_RETURN(Point z, t.Mul(s.y));
  WARDEN_ASSIGN_OR_RETURN(Point v, s.l.Mul(s.y));
  WARDEN_ASSIGN_OR_RETURN(internal::KeySchedule ks,
                          Keys(s.hash, s.ids, share_p, s.share_v, z, v, s.w0));
  VerifierResponse response;
  response.share_v = s.share_v;
  response.confirm_v = Hmac(s.hash, ks.k_confirm_v.view(), share_p);
  s.expected_confirm_p =
      SecretBytes(Hmac(s.hash, ks.k_confirm_p.view(), s.share_v));
  s.k_shared = std::move(ks.k_shared);
  s.state = Impl::State::kResponded;
  return response;
}

Result<SecretBytes> Verifier::Confirm(ByteView confirm_p) {
  Impl& s = *impl_;
  if (s.state != Impl::State::kResponded) {
    return FailedPreconditionError(
        "spake2+: confirm needs exactly one prior respond");
  }
  s.state = Impl::State::kSpent;
  SecretBytes expected = std::move(s.expected_confirm_p);
  SecretBytes key = std::move(s.k_shared);
  if (!ConstantTimeEquals(expected.view(), confirm_p)) {
    return UnauthenticatedError("spake2+: prover confirmation is wrong");
  }
  return key;
}

}  // namespace warden::crypto::spake2plus
