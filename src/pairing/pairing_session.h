// The device's side of one pairing exchange (docs/PROTOCOLS.md, "Pairing"):
// parses and checks each message, runs the SPAKE2+ verifier, and on success
// yields the owner's key. Network, throttling and storage are the caller's.
#ifndef WARDEN_PAIRING_PAIRING_SESSION_H_
#define WARDEN_PAIRING_PAIRING_SESSION_H_

#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/rng.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/secret.h"
#include "crypto/spake2plus.h"
#include "schema/json.h"

namespace warden::pairing {

// What the device stores for pairing (from pairing.json).
struct VerifierParams {
  std::string serial;  // idVerifier
  Bytes w0;
  Bytes L;
  Bytes salt;
  uint32_t iterations = 0;
};

// A parsed, shape-checked confirm request. Its secrets are not yet checked.
struct ConfirmRequest {
  Bytes confirm_p;
  crypto::PublicKey client_key;
  Bytes key_proof;
  std::string name;
  std::optional<std::string> password;
};

// Field-level error: which field, which rule.
struct MessageError {
  std::string field;  // JSON pointer
  std::string rule;
  std::string message;
};

// {"share_p": base64 of 65 bytes}, nothing else.
Result<Bytes> ParseExchangeRequest(const schema::Json& body,
                                   MessageError* error);
// See PROTOCOLS.md. Names are 1..64 printable characters; the key is a PEM
// SubjectPublicKeyInfo of a P-256 or ed25519 key; passwords at most 128
// bytes.
Result<ConfirmRequest> ParseConfirmRequest(const schema::Json& body,
                                           MessageError* error);

struct PairedOwner {
  std::string name;
  crypto::PublicKey key;
  std::optional<std::string> password;
};

class ServerSession {
 public:
  // `exporter` is this TLS connection's exporter value (kExporterLabel).
  static Result<ServerSession> Create(const VerifierParams& params,
                                      ByteView exporter, Rng& rng);

  // The reply to /v1/pair/begin.
  schema::Json BeginResponse() const;

  // Runs the verifier's response to X. Call once; a second call or an
  // invalid point is an error (kFailedPrecondition / kInvalidArgument).
  Result<schema::Json> Exchange(ByteView share_p);

  // Checks confirmP and the key proof. kUnauthenticated when either fails;
  // the session is spent either way.
  Result<PairedOwner> Confirm(ConfirmRequest request);

  bool exchanged() const { return exchanged_; }
  bool spent() const { return spent_; }

 private:
  ServerSession(const VerifierParams& params,
                crypto::spake2plus::Verifier verifier)
      : params_(params), verifier_(std::move(verifier)) {}
  VerifierParams params_;
  crypto::spake2plus::Verifier verifier_;
  bool exchanged_ = false;
  bool spent_ = false;
};

}  // namespace warden::pairing

#endif  // WARDEN_PAIRING_PAIRING_SESSION_H_
