// X.509 certificates: issuing (the maker's device CA, device identities,
// owner client certificates) and verifying chains.
#ifndef WARDEN_CRYPTO_X509_H_
#define WARDEN_CRYPTO_X509_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/status.h"
#include "crypto/keys.h"

typedef struct x509_st X509;

namespace warden::crypto {

class Certificate {
 public:
  // A certificate whose key is not ed25519 or P-256, or whose dates cannot
  // be read, is kInvalidArgument like any malformed input; so is trailing
  // data after the DER.
  static Result<Certificate> FromPem(std::string_view pem);
  static Result<Certificate> FromDer(ByteView der);

  std::string ToPem() const;
  Bytes ToDer() const;
  PublicKey public_key() const;
  std::string subject_common_name() const;
  // The subject's serialNumber attribute (the unit's serial), if any.
  std::optional<std::string> subject_serial_number() const;
  WallTime not_before() const;
  WallTime not_after() const;
  bool is_ca() const;
  // Hex SHA-256 of the DER certificate: what the owner CLI pins.
  std::string Fingerprint() const;

  X509* raw() const { return x509_.get(); }

 private:
  explicit Certificate(std::shared_ptr<X509> x) : x509_(std::move(x)) {}
  std::shared_ptr<X509> x509_;
};

struct CertificateRequest {
  std::string common_name;
  std::string organization;                  // may be empty
  std::optional<std::string> serial_number;  // subject serialNumber
  PublicKey subject_key;
  WallTime not_before;
  WallTime not_after;
  bool is_ca = false;
  // Leaf certificates: DNS names and IP addresses for subjectAltName.
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  // Leaf certificates: extendedKeyUsage serverAuth and/or clientAuth.
  bool server_auth = false;
  bool client_auth = false;
};

// Issues a certificate signed by `issuer_key`. With `issuer` null it is
// self-signed (issuer name = subject name; `issuer_key` must then match
// `subject_key`). Random 128-bit certificate serial. CA certificates get
// basicConstraints CA:TRUE (critical) and keyUsage keyCertSign, cRLSign;
// leaves get CA:FALSE and digitalSignature.
Result<Certificate> IssueCertificate(const CertificateRequest& request,
                                     const PrivateKey& issuer_key,
                                     const Certificate* issuer);

// Verifies that `leaf` chains to the trust anchor `ca` and is valid at
// `now`. A bad signature is kBadSignature, outside validity kExpired, any
// other failure kUnauthenticated.
Status VerifyCertificate(const Certificate& leaf, const Certificate& ca,
                         WallTime now);

// A PKCS#10 certificate signing request: what a unit whose key never
// leaves its hardware hands the maker's station, which issues the
// certificate from it.
struct SigningRequest {
  std::string common_name;
  std::optional<std::string> serial_number;
  PublicKey subject_key;
};

// A request for `common_name` (and subject serialNumber `serial_number`,
// unless empty) with `key`'s public half, signed by `key` through
// PrivateKey::Sign, so a key in hardware signs it there. PEM.
// kInvalidArgument for an empty or unencodable name.
Result<std::string> MakeSigningRequest(std::string_view common_name,
                                       std::string_view serial_number,
                                       const PrivateKey& key);

// Parses a PEM request (at most 16 KiB) and checks its signature with the
// key it carries: a request not signed by the holder of that key is
// kBadSignature; a malformed one, or one for a key that is not ed25519 or
// P-256, kInvalidArgument.
Result<SigningRequest> ParseSigningRequest(std::string_view pem);

}  // namespace warden::crypto

#endif  // WARDEN_CRYPTO_X509_H_
