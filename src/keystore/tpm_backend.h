// The TPM 2.0 backend: every item protected by keys that live in a TPM
// and are used there, through the tpm2-openssl provider (crypto/tpm.h),
// and bound to a secret of its own in the TPM's NV memory, which Destroy
// deletes.
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
//   - Each item version has an NV index of its own (an ordinary index in
//     the owner range kTpmNvFirst..kTpmNvLast, at a random handle) holding
//     32 random bytes. What the two points above make (the TSS2 blob, or
//     the wrapped data key and the sealed secret) is sealed once more,
//     AES-256-GCM under a key derived (HKDF-SHA256) from those bytes, the
//     handle and the item's name and kind. Erase (Destroy, and Commit and
//     Revert for the version they drop) undefines the index: the bytes are
//     gone from the TPM, and no copy of the blob (a backup, an old flash
//     block) opens again, on this TPM or any other; such a copy is
//     kNotFound, as is one whose handle has since been given to another
//     version (its bytes differ).
//   - Every blob is signed in the TPM by the keystore's P-256 binding key,
//     over the item's name and kind and the rest of the blob (the NV
//     handle with it), and the signature is checked (in software, with its
//     public half) before anything else is done with the blob: one copied
//     under another name, altered, or made without use of this TPM is
//     kIntegrity. Without it a secret could be planted (the wrapping key's
//     public half is enough to encrypt a data key), and the TPM's padding
//     check would answer whoever fed it ciphertexts; with it, only what
//     this TPM signed reaches the TPM's decryption.
//
// The binding and wrapping keys are made at the first open, in the TPM, and
// their TSS2 blobs kept in one file (0600) that the options name.
//
// NV: an index is defined and written when a version is made (Seal,
// CreateSigningKey, Stage*), read when it is opened (reads do not wear the
// TPM's flash) and undefined when it is erased; nothing else writes NV.
// Each index is 32 bytes of data plus the TPM's own record of it (its
// public area, with the 32-byte tag below): swtpm took 824 of them before
// TPM_RC_NV_SPACE, a discrete TPM of a few KiB of NV takes some tens, and
// the EK certificates and the platform's own indices share that space. So
// the backend keeps at most `max_nv_indices` (default 32) indices in its
// range: one per item, and one more per item while a version is staged.
// Making one more is kResourceExhausted, saying so, as is a TPM whose NV is
// full; destroying an item frees its index. Every index carries the
// keystore's tag (a digest of the binding key's public half, as the
// index's authPolicy, which no policy session can satisfy), so that one
// keystore releases only its own; all share the count.
//
// Orphans: a crash between defining an index and its blob becoming
// durable, or between a commit or revert and the erasing of the version it
// dropped, leaves an index no blob names. Keystore::Open hands over every
// blob of its directory (ReleaseOrphans) and the backend undefines each
// index with its tag that none of them names. Hence one key file serves
// one keystore directory: a second directory opened with the same key file
// would have the first one's indices released. An orphan left by a crash
// in Destroy is already undefined (Destroy erases before it removes the
// blobs).
//
// Blobs made before per-item NV (version 1, no NV index) still open, but
// their Erase reaches only the blob, as before: a copy of one keeps
// opening on this TPM for as long as the key file and the owner hierarchy
// stay. A device migrates an item by rotating it (Stage*, Commit): the new
// version has its index and the old one's blob is removed. Clearing the
// TPM's owner hierarchy (tpm2_clear) makes every copy of every version
// useless, together with the whole keystore.
//
// What it protects against: anyone with a copy of the flash (the keystore
// directory and the key file) but not this TPM, on another device or after
// the TPM's owner hierarchy was cleared: no blob opens, no key can be used
// or read out. A blob moved to another item, altered or planted. A copy of
// a destroyed item's blob, made at any time, on this TPM too. What it does
// not: a process that can reach the TPM as the keystore does (root on the
// running device; wardend itself and whoever takes it over) can use every
// key and read every index while it runs, and the keys carry no TPM
// authorisation value or policy of their own (no PIN, no PCR binding to a
// measured boot). The NV bytes cross the bus to the TPM in clear when a
// version is opened (no encrypted session), as the unwrapped data key
// already did: someone probing the bus of the running device reads them.
// Whether an undefined index's bytes are gone from the TPM's own flash is
// the TPM's matter (the TPM 2.0 specification makes them unreadable
// through the TPM; a chip's wear levelling is not ours to see).
//
// The backend reaches the TPM twice: through the provider for the keys and
// through the TSS ESAPI for NV, so the TCTI must allow two connections
// (the kernel's resource manager /dev/tpmrm0, or swtpm, which takes one
// connection per command; not /dev/tpm0). The owner hierarchy's
// authorisation must be empty (as for the provider's primary key).
#ifndef WARDEN_KEYSTORE_TPM_BACKEND_H_
#define WARDEN_KEYSTORE_TPM_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/rng.h"
#include "crypto/tpm.h"
#include "keystore/keystore.h"
#include "platform/env.h"

namespace warden::keystore {

// The NV handles the backend uses: within 0x01000000 to 0x013fffff, which
// TCG's Registry of Reserved TPM 2.0 Handles leaves to the TPM's owner.
inline constexpr uint32_t kTpmNvFirst = 0x013a0000;
inline constexpr uint32_t kTpmNvLast = 0x013affff;

struct TpmBackendOptions {
  // How to reach the TPM (crypto/tpm.h), e.g. "device:/dev/tpmrm0".
  std::string tcti = "device:/dev/tpmrm0";
  // The file holding the keystore's binding and wrapping keys as the TPM
  // wrapped them. Made (0600, durable) when absent and `create_keys`.
  std::string keys_path;
  bool create_keys = true;
  // The most NV indices (item versions) the backend keeps in its range;
  // see above. 1 to the size of the range.
  size_t max_nv_indices = 32;
};

class TpmBackend : public Backend {
 public:
  // Connects to the TPM (errors as crypto::Tpm::Open) and loads (or makes)
  // the keystore's keys. kNotFound when the key file is absent and not to
  // be made; kPermissionDenied when it is not a regular file owned by the
  // running user with no group or other permissions; kIntegrity when it is
  // malformed or its keys do not load in this TPM (another TPM's, or the
  // owner hierarchy was cleared). kUnavailable when the TSS ESAPI does not
  // reach the TPM; kInvalidArgument for a `max_nv_indices` out of range.
  // `env` and `rng` must outlive the backend.
  static Result<std::unique_ptr<TpmBackend>> Open(
      platform::Env& env, const TpmBackendOptions& options,
      Rng& rng = SystemRng());

  ~TpmBackend() override;

  std::string_view name() const override { return "tpm"; }
  // Defines an NV index for the new version first: kResourceExhausted
  // when max_nv_indices are in use or the TPM's NV is full.
  Result<Bytes> NewSigningKey(ByteView aad) override;
  // kNotFound when the version's NV index is gone (it was erased).
  Result<crypto::PrivateKey> LoadSigningKey(ByteView aad,
                                            ByteView blob) override;
  // As NewSigningKey.
  Result<Bytes> SealSecret(ByteView aad, ByteView secret) override;
  // As LoadSigningKey.
  Result<crypto::SecretBytes> UnsealSecret(ByteView aad,
                                           ByteView blob) override;
  // Undefines the version's NV index, if `blob` is this TPM's for `aad`
  // and the index still carries this keystore's tag; Ok when it is gone,
  // and for a blob made before per-item NV (nothing to undefine).
  Status Erase(ByteView aad, ByteView blob) override;
  // Undefines every index with this keystore's tag that no blob in `live`
  // names (see "Orphans" above). Returns the first failure, after trying
  // every index.
  Status ReleaseOrphans(const std::vector<Bytes>& live) override;

  // How many NV indices are defined in the backend's range (this
  // keystore's and any other's), against max_nv_indices.
  Result<size_t> NvIndicesInUse();

  struct Nv;

 private:
  TpmBackend(Rng& rng, crypto::Tpm tpm, std::unique_ptr<Nv> nv,
             size_t max_nv_indices, Bytes binding_blob,
             crypto::PublicKey binding_public, Bytes wrapping_blob,
             Bytes wrapping_public);
  // A new NV index holding fresh random bytes, and `inner` sealed under the
  // key derived from them, signed as a version 2 blob.
  Result<Bytes> Bind(ByteView aad, ByteView inner);
  // What Bind sealed, once the blob's signature is checked and its index
  // read; a version 1 blob's payload as it is.
  Result<Bytes> Unbind(ByteView aad, ByteView blob);
  // version || length || payload || signature by the binding key.
  Result<Bytes> Signed(uint8_t version, ByteView aad, ByteView payload);
  // The version and payload of `blob` once its signature for `aad` is
  // checked.
  struct VerifiedBlob {
    uint8_t version;
    Bytes payload;
  };
  Result<VerifiedBlob> Verified(ByteView aad, ByteView blob);

  Rng& rng_;
  crypto::Tpm tpm_;
  std::unique_ptr<Nv> nv_;
  size_t max_nv_indices_;
  // The authPolicy every index of this keystore carries.
  Bytes nv_tag_;
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
  uint8_t version = 0;  // 1: made before per-item NV; 2: with its index
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
// Splits a version 2 payload into the NV handle (within kTpmNvFirst to
// kTpmNvLast) and what is sealed under the index's key. kIntegrity when
// it is malformed.
struct TpmNvParts {
  uint32_t handle = 0;
  ByteView sealed;
};
Result<TpmNvParts> ParseTpmNvPayload(ByteView payload);

}  // namespace warden::keystore

#endif  // WARDEN_KEYSTORE_TPM_BACKEND_H_
