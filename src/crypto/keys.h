// Signing keys: ed25519 and ECDSA P-256 (SHA-256), over OpenSSL EVP_PKEY.
#ifndef WARDEN_CRYPTO_KEYS_H_
#define WARDEN_CRYPTO_KEYS_H_

#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/status.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct ossl_lib_ctx_st OSSL_LIB_CTX;

namespace warden::crypto {

enum class KeyType { kEd25519, kEcdsaP256 };

// Name used in TUF metadata and our JSON: "ed25519" or "ecdsa".
std::string_view KeyTypeName(KeyType type);

class PublicKey {
 public:
  // SubjectPublicKeyInfo, DER or PEM. Only ed25519 and P-256 keys are
  // accepted; anything else is kInvalidArgument. A P-256 key given with a
  // compressed point is kept uncompressed, so ToDer() and Fingerprint() do
  // not depend on how the key was first written.
  static Result<PublicKey> FromDer(ByteView spki_der);
  static Result<PublicKey> FromPem(std::string_view pem);
  // Raw forms: 32-byte ed25519 key; 65-byte uncompressed SEC1 P-256 point.
  static Result<PublicKey> FromRaw(KeyType type, ByteView raw);

  KeyType type() const { return type_; }
  Bytes ToDer() const;  // SubjectPublicKeyInfo
  std::string ToPem() const;
  Bytes ToRaw() const;
  // Hex SHA-256 of the SPKI DER: a stable identifier for the key.
  std::string Fingerprint() const;

  // ed25519: pure EdDSA over `data`. ECDSA: SHA-256 then DER signature.
  // A signature that does not verify is kBadSignature.
  Status Verify(ByteView data, ByteView signature) const;

  bool operator==(const PublicKey& o) const { return ToDer() == o.ToDer(); }

  EVP_PKEY* raw() const { return pkey_.get(); }

 private:
  PublicKey(std::shared_ptr<EVP_PKEY> pkey, KeyType type)
      : pkey_(std::move(pkey)), type_(type) {}
  std::shared_ptr<EVP_PKEY> pkey_;
  KeyType type_;
  friend class PrivateKey;
};

class PrivateKey {
 public:
  static Result<PrivateKey> Generate(KeyType type);
  // PKCS#8 PEM, unencrypted. Other key types are kInvalidArgument.
  static Result<PrivateKey> FromPem(std::string_view pem);

  KeyType type() const { return type_; }
  // False for a key that lives in hardware (crypto/pkcs11.h, crypto/tpm.h)
  // and signs there: it has no private bytes here to export.
  bool exportable() const { return exportable_; }
  // PKCS#8 PEM. The caller must store it with 0600 permissions and wipe the
  // string when done. Only for an exportable() key (aborts otherwise: a
  // caller that may hold a hardware key must ask first).
  std::string ToPem() const;
  PublicKey public_key() const;

  // ed25519: 64-byte signature. ECDSA P-256: DER-encoded (r, s) over
  // SHA-256(data).
  Result<Bytes> Sign(ByteView data) const;

  EVP_PKEY* raw() const { return pkey_.get(); }
  // The OpenSSL library context raw() belongs to: null for the default
  // one, a context of its own for a key of a provider loaded there
  // (crypto/tpm.h). Whoever hands raw() to OpenSSL (a TLS context) must
  // make its objects in this context, or OpenSSL cannot use the key.
  OSSL_LIB_CTX* libctx() const { return libctx_; }

 private:
  PrivateKey(std::shared_ptr<EVP_PKEY> pkey, KeyType type,
             bool exportable = true)
      : pkey_(std::move(pkey)), type_(type), exportable_(exportable) {}
  std::shared_ptr<EVP_PKEY> pkey_;
  KeyType type_;
  bool exportable_ = true;
  // Where Sign fetches its algorithms: a key of a provider in a library
  // context of its own (crypto/tpm.h) signs only through that context, as
  // OpenSSL 3.0 would otherwise pick the default provider, which cannot
  // use it. `pkey_` keeps the context alive.
  OSSL_LIB_CTX* libctx_ = nullptr;
  const char* propq_ = nullptr;
  friend class Pkcs11Token;
  friend class Tpm;
};

// RSASSA-PSS with SHA-256 and MGF1-SHA-256, any salt length (as
// securesystemslib verifies "rsassa-pss-sha256"), against an RSA key given
// as SubjectPublicKeyInfo PEM of 2048 to 8192 bits. Verification only: we
// make no RSA keys. kInvalidArgument for a key that is not such a key;
// kBadSignature when the signature does not verify.
Status VerifyRsaPssSha256(std::string_view spki_pem, ByteView data,
                          ByteView signature);

}  // namespace warden::crypto

#endif  // WARDEN_CRYPTO_KEYS_H_
