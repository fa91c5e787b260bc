// The keystore: named keys that are sealed at rest and used in place.
//
// A device holds two kinds of named items:
//   - signing keys (ECDSA P-256): created here, used through a
//     crypto::PrivateKey that signs where the key lives (a token, a TPM, or
//     memory for the file backend) and may not be exportable();
//   - sealed secrets: bytes such as data keys, the SPAKE2+ verifier record
//     or session keys, returned unsealed in a wiped buffer
//     (crypto::SecretBytes) that the caller holds only while it uses them.
//
// What protects an item at rest is a Backend: a key-encryption key in a
// root-only file (file_backend.h), a PKCS#11 token (pkcs11_backend.h) or a
// TPM 2.0 (tpm_backend.h). The
// Keystore itself is the same for all of them: it keeps one sealed blob per
// item version in a directory, written through platform::Env, atomically, and
// runs the transactions.
//
// A change of an item is a transaction: Stage* makes a new version beside
// the current one, the caller verifies it (StagedSigningKey,
// UnsealStaged), then Commit makes it current in one rename, or Revert
// drops it. A crash at any point leaves the old version or the new one
// current and usable, never neither; a staged version that survives a
// crash stays staged (Pending) until the caller commits or reverts it.
//
// A backend that keeps objects outside the blobs (a PKCS#11 token, TPM NV
// indices) is not rolled back by a crash: one between the backend making a
// version's objects and its blob becoming durable, or between a commit and
// the erasing of the old version's objects, leaves objects that no blob
// names. They take space in the hardware but make no item unusable. Open
// hands the backend every blob it finds (Backend::ReleaseOrphans) so that
// one that can enumerate its objects (the TPM backend) releases them; the
// PKCS#11 backend does not, and its orphans stay in the token. Outside
// Destroy (which erases first, so that no copy opens again), a version's
// objects are erased only once no blob that names them can survive, so
// that a blob that survives opens.
//
// Names are 1 to 64 characters of [a-z0-9_-]. Every blob is bound to its
// name and kind by the backend (associated data, or the token object's
// label), so a blob copied under another name does not open.
//
// Not thread-safe: one owner at a time (the daemon's event loop).
#ifndef WARDEN_KEYSTORE_KEYSTORE_H_
#define WARDEN_KEYSTORE_KEYSTORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/secret.h"
#include "platform/env.h"

namespace warden::keystore {

enum class ItemKind { kSigningKey, kSecret };

// "signing-key" or "secret".
std::string_view ItemKindName(ItemKind kind);

// Largest secret Seal takes: data keys and verifier records are far
// smaller; the limit keeps a damaged blob from asking for large buffers.
inline constexpr size_t kMaxSecretSize = 4096;
// Largest blob file read back from the keystore directory.
inline constexpr size_t kMaxBlobSize = 16384;

// Seals and opens one item version. Implementations hold the protecting
// key (or a session to the hardware holding it); the Keystore stores what
// they return. `aad` names the item and its kind and must be bound to the
// blob so that a blob does not open under another name.
class Backend {
 public:
  virtual ~Backend() = default;
  // "file", "pkcs11" or "tpm".
  virtual std::string_view name() const = 0;

  // A new P-256 signing key; returns the blob from which LoadSigningKey
  // gets it back.
  virtual Result<Bytes> NewSigningKey(ByteView aad) = 0;
  // The key in `blob`. kIntegrity when the blob was not made for `aad` or
  // was altered; kNotFound when the hardware no longer holds the key.
  virtual Result<crypto::PrivateKey> LoadSigningKey(ByteView aad,
                                                    ByteView blob) = 0;
  virtual Result<Bytes> SealSecret(ByteView aad, ByteView secret) = 0;
  // kIntegrity as for LoadSigningKey.
  virtual Result<crypto::SecretBytes> UnsealSecret(ByteView aad,
                                                   ByteView blob) = 0;
  // Destroys what the backend holds for `blob` outside the blob itself (a
  // token object, a TPM-resident object), so that no copy of the blob
  // opens again. Nothing to do for a backend whose blobs are
  // self-contained; Ok when it is already gone.
  virtual Status Erase(ByteView aad, ByteView blob) = 0;
  // Releases what the backend holds outside the blobs for item versions
  // that none of `live` names: orphans a crash left (made for a blob that
  // never became durable, or not erased after its blob went). `live` is
  // every blob in the keystore directory, current and staged, read but not
  // checked (one that does not open only keeps what it names). Keystore::Open
  // calls it once it has read the whole directory, so a backend that
  // implements it must serve that one directory alone. Default: nothing
  // (a backend that cannot enumerate its objects, or keeps none).
  virtual Status ReleaseOrphans(const std::vector<Bytes>& live);

 protected:
  Backend() = default;
};

struct ItemInfo {
  std::string name;
  ItemKind kind = ItemKind::kSecret;
  bool pending = false;  // a staged version waits for Commit or Revert
};

class Keystore {
 public:
  // Opens the keystore kept in directory `dir` (created 0700 when absent,
  // with its missing parents), finishes off what a crash left on its way
  // out, and lets the backend release orphans (above); a failure there
  // only leaves them for the next open. The directory must be owned by the
  // running user and not group- or world-accessible, else kPermissionDenied.
  // The keystore holds a lock on the directory while it lives: kUnavailable
  // when another one (in this process or another) has it open. `env` must
  // outlive the keystore.
  static Result<std::unique_ptr<Keystore>> Open(
      platform::Env& env, std::string dir, std::unique_ptr<Backend> backend);

  std::string_view backend_name() const { return backend_->name(); }

  // Creates signing key `name` and returns its public half; durable when
  // this returns. kAlreadyExists when an item of that name exists,
  // kInvalidArgument for a bad name.
  Result<crypto::PublicKey> CreateSigningKey(std::string_view name);
  // The current version of signing key `name`. kNotFound when there is
  // none (also when `name` is a secret); kIntegrity when its blob was
  // altered or belongs to another name.
  Result<crypto::PrivateKey> SigningKey(std::string_view name);

  // Seals `secret` (1 to kMaxSecretSize bytes) as a new item `name`;
  // durable when this returns. kAlreadyExists, kInvalidArgument as above.
  Status Seal(std::string_view name, ByteView secret);
  // The current version of secret `name`, unsealed. Errors as SigningKey.
  Result<crypto::SecretBytes> Unseal(std::string_view name);

  // Stages a new version of existing item `name` (a new key, or
  // `secret`), replacing a version already staged. kNotFound when there is
  // no current item of that name and kind.
  Result<crypto::PublicKey> StageSigningKey(std::string_view name);
  Status StageSecret(std::string_view name, ByteView secret);
  // The staged version, for the caller to verify before Commit. kNotFound
  // when none is staged.
  Result<crypto::PrivateKey> StagedSigningKey(std::string_view name);
  Result<crypto::SecretBytes> UnsealStaged(std::string_view name);
  // Makes the staged version current and destroys the old one (Erase).
  // kNotFound when nothing is staged. When this returns Ok the new version
  // is durable; on a failure the old one or the new one is current.
  Status Commit(std::string_view name);
  // Drops the staged version. Ok when nothing is staged.
  Status Revert(std::string_view name);

  // Destroys item `name`, current and staged: the blobs are overwritten
  // and removed and the backend erases what it holds for them (see the
  // backend's header for how far that reaches). kNotFound when absent.
  Status Destroy(std::string_view name);

  // Makes what the directory holds durable (syncs it). An item that opens
  // after a write whose sync failed may not survive a power cut: a caller
  // about to drop its own copy of a secret calls this first.
  Status Sync();

  // Every item, sorted by name.
  Result<std::vector<ItemInfo>> List();
  // Whether `name` has a staged version (after a crash mid-change).
  Result<bool> Pending(std::string_view name);

 private:
  Keystore(platform::Env& env, std::string dir,
           std::unique_ptr<Backend> backend)
      : env_(env), dir_(std::move(dir)), backend_(std::move(backend)) {}

  struct Blob {
    ItemKind kind;
    Bytes sealed;
  };
  // Syncs the directory, then hands every blob in it to
  // Backend::ReleaseOrphans; nothing when the sync fails or a blob could
  // not be read.
  void ReleaseOrphans();
  std::string CurrentPath(std::string_view name) const;
  std::string StagedPath(std::string_view name) const;
  std::string DoomedPath(std::string_view name) const;
  // Renames the blob at `path` aside and wipes it (Scrub).
  Status Retire(const std::string& path, std::string_view name);
  // Undoes a write of a new blob to `path` that failed with `failure`
  // (returned): a rename may have happened without its directory sync, so
  // the blob may be there, or come back after a power cut. The name is
  // retired, and only once it is durably gone does the backend erase what
  // it made for the blob; else that is left (an orphan in the hardware),
  // so that a blob the write left behind still opens.
  Status Abandon(const std::string& path, std::string_view name, ItemKind kind,
                 ByteView sealed, Status failure);
  Result<Blob> ReadBlob(const std::string& path, std::string_view name);
  Status WriteBlob(const std::string& path, ItemKind kind, ByteView sealed,
                   bool exclusive);
  Result<crypto::PrivateKey> LoadKey(const std::string& path,
                                     std::string_view name);
  Result<crypto::SecretBytes> LoadSecret(const std::string& path,
                                         std::string_view name);
  Result<ItemKind> CurrentKind(std::string_view name);
  // Overwrites the file at `path` with zeros, syncs, removes it and syncs
  // the directory. Ok when it is absent.
  Status Scrub(const std::string& path);

  platform::Env& env_;
  std::string dir_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<platform::FileLock> lock_;
};

// The associated data binding a blob to its item: a version tag, the kind
// and the name. Backends bind exactly these bytes.
Bytes ItemAad(ItemKind kind, std::string_view name);

}  // namespace warden::keystore

#endif  // WARDEN_KEYSTORE_KEYSTORE_H_
