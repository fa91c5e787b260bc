// The TPM 2.0 backend: every item protected by keys that live in a TPM
// and are used there, through the tpm2-openssl provider (crypto/tpm.h).
//
//   - A signing key is a P-256 key generated in the TPM and kept as its
//     TSS2 PRIVATE KEY blob, wrapped by the TPM's storage primary key: the
//     PrivateKey handed out signs in the TPM and is not exportable().
//   - A secret is sealed with AES-256-GCM (crypto/aead.h) under a data key
//     of its own, with the item's name and kind as associated data; the
//     data key is kept encrypted (RSAES-PKCS1-v1_5, the one scheme Debian's
//     provider decrypts) to the keystore's RSA-2048 wrapping key, which only
//     the TPM can use to decrypt. The data key is in memory only while a
//     secret is sealed or unsealed.
//   - Every blob is signed in the TPM by the keystore's P-256 binding key,
//     over the item's name and kind and the rest of the blob, and the
//     signature is checked (in software, with its public half) before
//     anything else is done with the blob: one copied under another name,
//     altered, or made without use of this TPM is kIntegrity. Without it a
//     secret could be planted (the wrapping key's public half is enough to
//     encrypt a data key), and the TPM's padding check would answer
//     whoever fed it ciphertexts; with it, only what this TPM signed
//     reaches the TPM's decryption.
//
// The binding and wrapping keys are made at the first open, in the TPM, and
// their TSS2 blobs kept in one file (0600) that the options name.
//
// What it protects against: anyone with a copy of the flash (the keystore
// directory and the key file) but not this TPM, on another device or after
// the TPM's owner hierarchy was cleared: no blob opens, no key can be used
// or read out. A blob moved to another item, altered or planted. What it
// does not: a process that can reach the TPM as the keystore does (root on
// the running device; wardend itself and whoever takes it over) can use
// every key while it runs, and the keys carry no TPM authorisation value
// or policy of their own (no PIN, no PCR binding to a measured boot).
//
// Destroy erases the blob (overwritten and removed by the Keystore); the
// TPM holds nothing per item, so a copy of the blob kept elsewhere (a
// backup, an old flash block) still opens on the same TPM for as long as
// the binding and wrapping keys and the TPM's storage primary key stay the
// same. Clearing the TPM's owner hierarchy (tpm2_clear) makes every old
// copy useless, together with the whole keystore.
#ifndef WARDEN_KEYSTORE_TPM_BACKEND_H_
#define WARDEN_KEYSTORE_TPM_BACKEND_H_

#include <memory>
#include <string>

#include "base/rng.h"
#include "crypto/tpm.h"
#include "keystore/keystore.h"
#include "platform/env.h"

namespace warden::keystore {

struct TpmBackendOptions {
  // How to reach the TPM (crypto/tpm.h), e.g. "device:/dev/tpmrm0".
  std::string tcti = "device:/dev/tpmrm0";
  // The file holding the keystore's binding and wrapping keys as the TPM
  // wrapped them. Made (0600, durable) when absent and `create_keys`.
  std::string keys_path;
  bool create_keys = true;
};

class TpmBackend : public Backend {
 public:
  // Connects to the TPM (errors as crypto::Tpm::Open) and loads (or makes)
  // the keystore's keys. kNotFound when the key file is absent and not to
  // be made; kPermissionDenied when it is not a regular file owned by the
  // running user with no group or other permissions; kIntegrity when it is
  // malformed or its keys do not load in this TPM (another TPM's, or the
  // owner hierarchy was cleared). `env` and `rng` must outlive the backend.
  static Result<std::unique_ptr<TpmBackend>> Open(
      platform::Env& env, const TpmBackendOptions& options,
      Rng& rng = SystemRng());

  std::string_view name() const override { return "tpm"; }
  Result<Bytes> NewSigningKey(ByteView aad) override;
  Result<crypto::PrivateKey> LoadSigningKey(ByteView aad,
                                            ByteView blob) override;
  Result<Bytes> SealSecret(ByteView aad, ByteView secret) override;
  Result<crypto::SecretBytes> UnsealSecret(ByteView aad,
                                           ByteView blob) override;
  // Nothing held in the TPM per item: Ok (see above).
  Status Erase(ByteView, ByteView) override { return Status::Ok(); }

 private:
  TpmBackend(Rng& rng, crypto::Tpm tpm, Bytes binding_blob,
             crypto::PublicKey binding_public, Bytes wrapping_blob,
             Bytes wrapping_public)
      : rng_(rng),
        tpm_(std::move(tpm)),
        binding_blob_(std::move(binding_blob)),
        binding_public_(std::move(binding_public)),
        wrapping_blob_(std::move(wrapping_blob)),
        wrapping_public_(std::move(wrapping_public)) {}
  // version || length || payload || signature by the binding key.
  Result<Bytes> Signed(ByteView aad, ByteView payload);
  // The payload of `blob` once its signature for `aad` is checked.
  Result<Bytes> Verified(ByteView aad, ByteView blob);

  Rng& rng_;
  crypto::Tpm tpm_;
  // The keystore's keys are loaded into the TPM only while they are used
  // (crypto/tpm.h: object slots); their public halves work in software.
  Bytes binding_blob_;
  crypto::PublicKey binding_public_;
  Bytes wrapping_blob_;
  Bytes wrapping_public_;
};

// Splits a TPM backend blob into its payload and signature, without
// checking the signature. kIntegrity when it is malformed. Public for the
// fuzz target: a blob is read from a directory others may write to.
struct TpmBlobParts {
  ByteView payload;
  ByteView signature;
};
Result<TpmBlobParts> ParseTpmBlob(ByteView blob);
// Splits a sealed secret's payload into the wrapped data key and the
// AES-GCM part. kIntegrity when it is malformed.
struct TpmSecretParts {
  ByteView wrapped_key;
  ByteView sealed;
};
Result<TpmSecretParts> ParseTpmSecret(ByteView payload);

}  // namespace warden::keystore

#endif  // WARDEN_KEYSTORE_TPM_BACKEND_H_
