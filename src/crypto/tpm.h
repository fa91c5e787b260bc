// Keys in a TPM 2.0, through Debian's tpm2-openssl provider (OpenSSL 3
// provider "tpm2") in a library context of their own.
//
// A key is generated in the TPM under its storage primary key (the owner
// hierarchy's SRK, which the provider recreates from the TPM's seed on each
// load) and handed out as a TSS2 PRIVATE KEY in DER: the private part is
// encrypted by the TPM under that primary key, so the blob is useless on
// any other TPM and on this one after its owner hierarchy is cleared.
// Loading the blob gives an EVP_PKEY whose operations run in the TPM.
//
// The TPM is reached through a TCTI string as the TSS libraries take it:
// "device:/dev/tpmrm0" on a device, "swtpm:host=127.0.0.1,port=2321" for a
// simulator.
//
// Not thread-safe: one owner at a time.
#ifndef WARDEN_CRYPTO_TPM_H_
#define WARDEN_CRYPTO_TPM_H_

#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/secret.h"

namespace warden::crypto {

// Largest TSS2 PRIVATE KEY blob accepted for loading: an RSA-2048 key is
// about 700 bytes.
inline constexpr size_t kMaxTpmKeyBlob = 4096;

// An RSA-2048 decryption key loaded in the TPM. A TPM without a resource
// manager has few object slots (three in swtpm): hold one only while it is
// used.
class TpmRsaKey {
 public:
  // Its public half, SubjectPublicKeyInfo DER, for RsaEncrypt.
  Result<Bytes> PublicDer() const;
  // Decrypts in the TPM (RSAES-PKCS1-v1_5). kIntegrity when `cipher` was
  // not made for this key or was altered. The padding is the only one
  // Debian's provider (1.1.1) decrypts, and its check answers whoever
  // submits a ciphertext: decrypt only what was authenticated first.
  Result<SecretBytes> Decrypt(ByteView cipher) const;

 private:
  TpmRsaKey(std::shared_ptr<EVP_PKEY> pkey, OSSL_LIB_CTX* libctx)
      : pkey_(std::move(pkey)), libctx_(libctx) {}
  std::shared_ptr<EVP_PKEY> pkey_;  // keeps `libctx_` alive
  OSSL_LIB_CTX* libctx_;
  friend class Tpm;
};

// RSAES-PKCS1-v1_5 (what TpmRsaKey::Decrypt takes) of `plain` (1 to 245
// bytes) to the RSA-2048 key `spki_der`, in software. kInvalidArgument for
// another key or size.
Result<Bytes> RsaEncrypt(ByteView spki_der, ByteView plain);

class Tpm {
 public:
  // Loads the provider into a library context of its own, connected to
  // the TPM at `tcti`. kUnavailable when the provider is missing or the
  // TPM does not answer; kInvalidArgument for a TCTI string with other
  // characters than [A-Za-z0-9:/.,=_-]. The provider reads its TCTI only
  // from the environment (TPM2OPENSSL_TCTI), so Open sets it while the
  // provider starts and puts it back: call it while no other thread reads
  // or changes the environment (at startup).
  static Result<Tpm> Open(const std::string& tcti);

  // A new key generated in the TPM, as a TSS2 PRIVATE KEY (DER).
  Result<Bytes> GenerateP256() const;
  Result<Bytes> GenerateRsa2048() const;

  // The key in `blob`, signing in the TPM; not exportable(). kIntegrity
  // when the blob is malformed or does not load in this TPM (made by
  // another TPM, or under a primary key the TPM no longer has);
  // kInvalidArgument when it is not a P-256 key.
  Result<PrivateKey> LoadP256(ByteView blob) const;
  // As LoadP256, for an RSA-2048 key.
  Result<TpmRsaKey> LoadRsa(ByteView blob) const;

  struct Context;

 private:
  explicit Tpm(std::shared_ptr<Context> context)
      : context_(std::move(context)) {}
  Result<std::shared_ptr<EVP_PKEY>> Load(ByteView blob, const char* type) const;
  Result<Bytes> Generate(const char* type, bool rsa) const;
  // Every key loaded keeps the context (and the provider in it) alive.
  std::shared_ptr<Context> context_;
};

}  // namespace warden::crypto

#endif  // WARDEN_CRYPTO_TPM_H_
