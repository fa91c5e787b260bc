// SPAKE2+ (RFC 9383), suites P256-SHA256-HKDF-SHA256-HMAC-SHA256 and
// P256-SHA512-HKDF-SHA512-HMAC-SHA512, both roles.
//
// The prover (the owner's client) knows the setup code; the verifier (the
// device) stores only w0 and L = w1*P. Flow:
//   prover:   share_p = prover.Start()                 -> send X
//   verifier: r = verifier.Respond(share_p)            -> send Y, confirmV
//   prover:   p = prover.Finish(share_v, confirm_v)    -> send confirmP
//   verifier: verifier.Confirm(confirm_p)              -> shared key
// Every step fails closed: an invalid or identity point, a zero scalar or a
// wrong confirmation MAC is an error and no key is released. A failed
// confirmation is kUnauthenticated.
#ifndef WARDEN_CRYPTO_SPAKE2PLUS_H_
#define WARDEN_CRYPTO_SPAKE2PLUS_H_

#include <memory>
#include <optional>

#include "base/bytes.h"
#include "base/rng.h"
#include "base/status.h"
#include "crypto/ec.h"
#include "crypto/hash.h"
#include "crypto/secret.h"

namespace warden::crypto::spake2plus {

struct Identities {
  Bytes context;      // bound into the transcript (ours: TLS exporter)
  Bytes id_prover;    // may be empty
  Bytes id_verifier;  // may be empty
};

// w0 and w1 (32-byte big-endian scalars mod n) from the pbkdf output
// w0s || w1s, each half reduced mod n as RFC 9383 section 3.2 says.
struct ProverSecrets {
  SecretBytes w0;
  SecretBytes w1;
};
// What the device stores: w0 (32 bytes) and L = w1*P (65 bytes).
struct VerifierRecord {
  SecretBytes w0;
  Bytes L;
};

// Derives w0, w1 from a setup passcode: PBKDF2-HMAC-SHA256(passcode as 4
// little-endian bytes, salt, iterations) -> 80 bytes = w0s || w1s (40 each),
// then each mod n. Salt 16..32 bytes, iterations 1000..100000 (Matter's
// bounds), else kInvalidArgument. A scalar that reduces to zero is
// kInvalidArgument.
Result<ProverSecrets> DeriveProverSecrets(uint32_t passcode, ByteView salt,
                                          uint32_t iterations);
// L = w1 * P.
Result<VerifierRecord> MakeVerifierRecord(const ProverSecrets& secrets);

struct VerifierResponse {
  Bytes share_v;    // Y, 65 bytes
  Bytes confirm_v;  // HMAC(K_confirmV, X)
};

struct ProverResult {
  Bytes confirm_p;         // HMAC(K_confirmP, Y): send to the verifier
  SecretBytes shared_key;  // K_shared
};

// The prover's side of an exchange whatever confirmV said. A prover that
// finds confirmV wrong still sends its confirmP, so that the verifier sees
// the failed attempt and counts it (a prover that stays silent would let a
// guesser test codes without the verifier ever learning of it).
struct ProverAttempt {
  bool verifier_confirmed = false;  // confirmV was right
  Bytes confirm_p;                  // HMAC(K_confirmP, Y)
  // K_shared of this transcript. Shared with the verifier only when
  // verifier_confirmed; otherwise it is fit for nothing but proofs sent to
  // show the verifier the attempt.
  SecretBytes shared_key;
};

class Prover {
 public:
  // `x` fixed for known-answer tests; otherwise random.
  static Result<Prover> Create(HashAlg hash, Identities ids, ByteView w0,
                               ByteView w1, Rng& rng,
                               std::optional<ByteView> x = std::nullopt);
  // X = x*P + w0*M (65 bytes).
  Bytes share_p() const;
  // Checks Y and confirmV; on success returns confirmP and K_shared.
  // Y must be a 65-byte uncompressed point other than w0*N, else
  // kInvalidArgument and the prover is unchanged. A wrong confirmV is
  // kUnauthenticated. Once a confirmation has been checked the prover is
  // spent: any further call is kFailedPrecondition.
  Result<ProverResult> Finish(ByteView share_v, ByteView confirm_v);
  // As Finish, except that a wrong confirmV is not an error: it is
  // reported in verifier_confirmed, and confirmP and K_shared are returned
  // as computed. An invalid Y is kInvalidArgument (prover unchanged); a
  // second call is kFailedPrecondition.
  Result<ProverAttempt> FinishAttempt(ByteView share_v, ByteView confirm_v);

  Prover(Prover&&) noexcept;
  Prover& operator=(Prover&&) noexcept;
  ~Prover();
  struct Impl;

 private:
  explicit Prover(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Verifier {
 public:
  static Result<Verifier> Create(HashAlg hash, Identities ids, ByteView w0,
                                 ByteView L, Rng& rng,
                                 std::optional<ByteView> y = std::nullopt);
  // Takes X, returns Y and confirmV. X must be a 65-byte uncompressed point
  // other than w0*M, else kInvalidArgument and the verifier is unchanged.
  // Succeeds once; later calls are kFailedPrecondition.
  Result<VerifierResponse> Respond(ByteView share_p);
  // Checks confirmP; on success returns K_shared. Before a successful
  // Respond, or after any earlier Confirm, kFailedPrecondition. A wrong
  // confirmP is kUnauthenticated and spends the verifier: no second guess.
  Result<SecretBytes> Confirm(ByteView confirm_p);

  Verifier(Verifier&&) noexcept;
  Verifier& operator=(Verifier&&) noexcept;
  ~Verifier();
  struct Impl;

 private:
  explicit Verifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The pieces of the RFC 9383 key schedule, exposed for known-answer tests.
// Protocol code uses Prover and Verifier.
namespace internal {

// TT (RFC 9383 section 3.3): each field prefixed with its length as 8 bytes
// little-endian; M and N are the suite's fixed points, uncompressed.
Bytes Transcript(const Identities& ids, ByteView share_p, ByteView share_v,
                 ByteView z, ByteView v, ByteView w0);

struct KeySchedule {
  SecretBytes k_main;  // Hash(TT)
  SecretBytes k_confirm_p;
  SecretBytes k_confirm_v;
  SecretBytes k_shared;
};
Result<KeySchedule> DeriveKeySchedule(HashAlg hash, ByteView transcript);

}  // namespace internal

}  // namespace warden::crypto::spake2plus

#endif  // WARDEN_CRYPTO_SPAKE2PLUS_H_
