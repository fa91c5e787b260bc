// The file backend: every item sealed with AES-256-GCM (crypto/aead.h)
// under a key-encryption key (KEK) kept in a root-only file.
//
// The KEK file holds 32 random bytes. It must be a regular file owned by
// the running user and accessible to nobody else (0600 or narrower);
// anything else is refused before it is read, so a KEK that others could
// have read or replaced is never used. The key that seals is
//   HKDF-SHA256(ikm = KEK file, salt = binding value, info = kKekInfo)
// where the binding value is the content of a hardware-unique file (for
// example /etc/machine-id, or a value a board's fuses give), when one is
// configured: a copy of the keystore and the KEK file taken to another
// device does not open there.
//
// Each blob is nonce || ciphertext || tag, with the item's name and kind as
// associated data (keystore.h ItemAad), so blobs cannot be swapped between
// items. Signing keys are generated in memory and kept sealed as PKCS#8;
// the PrivateKey handed out holds the key in memory while it lives.
//
// What it protects against: a copy of the keystore directory without the
// KEK file, a blob moved to another name, other local users. What it does
// not: root on the running device, or someone with the whole file system
// (and the binding value). Destroy overwrites and unlinks the blob; on
// flash behind a translation layer or a copy-on-write file system an old
// copy of the blob may survive, and with the KEK it opens: crypto-erase on
// this backend holds only as far as the storage overwrites in place.
#ifndef WARDEN_KEYSTORE_FILE_BACKEND_H_
#define WARDEN_KEYSTORE_FILE_BACKEND_H_

#include <memory>
#include <string>

#include "base/rng.h"
#include "keystore/keystore.h"
#include "platform/env.h"

namespace warden::keystore {

inline constexpr size_t kKekSize = 32;
inline constexpr std::string_view kKekInfo = "warden keystore file kek v1";

struct FileBackendOptions {
  // Where the KEK lives. Made (0600, durable) when absent and
  // `create_kek` is true.
  std::string kek_path;
  bool create_kek = true;
  // A file whose content binds the KEK to this device; empty for none.
  // Read at open (at most 4096 bytes; an empty file is refused).
  std::string binding_path;
};

class FileBackend : public Backend {
 public:
  // Reads (or makes) the KEK. kPermissionDenied for a KEK file that is
  // not a regular file owned by the running user with no group or other
  // permissions; kNotFound when it is absent and not to be made;
  // kDataLoss when it is not kKekSize bytes; kInvalidArgument for an empty
  // binding file. `env` and `rng` must outlive the backend.
  static Result<std::unique_ptr<FileBackend>> Open(
      platform::Env& env, const FileBackendOptions& options,
      Rng& rng = SystemRng());

  std::string_view name() const override { return "file"; }
  Result<Bytes> NewSigningKey(ByteView aad) override;
  Result<crypto::PrivateKey> LoadSigningKey(ByteView aad,
                                            ByteView blob) override;
  Result<Bytes> SealSecret(ByteView aad, ByteView secret) override;
  Result<crypto::SecretBytes> UnsealSecret(ByteView aad,
                                           ByteView blob) override;
  Status Erase(ByteView, ByteView) override { return Status::Ok(); }

 private:
  FileBackend(Rng& rng, crypto::SecretBytes key)
      : rng_(rng), key_(std::move(key)) {}
  Result<crypto::SecretBytes> OpenBlob(ByteView aad, ByteView blob);

  Rng& rng_;
  crypto::SecretBytes key_;
};

}  // namespace warden::keystore

#endif  // WARDEN_KEYSTORE_FILE_BACKEND_H_
