#include "keystore/file_backend.h"

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "platform/file.h"
#include "platform/owner.h"

namespace warden::keystore {
namespace {

constexpr size_t kMaxBindingSize = 4096;

Status CheckKekFile(platform::Env& env, const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(auto info, env.Stat(path));
  if (info.type != platform::FileType::kRegular) {
    return PermissionDeniedError("keystore: the KEK " + path +
                                 " is not a regular file");
  }
  WARDEN_ASSIGN_OR_RETURN(uid_t owner, platform::FileOwner(path));
  if (owner != platform::EffectiveUser()) {
    return PermissionDeniedError("keystore: the KEK " + path +
                                 " is not owned by the running user");
  }
  if ((info.mode & 077) != 0) {
    return PermissionDeniedError("keystore: the KEK " + path +
                                 " is accessible to group or others");
  }
  return Status::Ok();
}

// A crash while the KEK was first written can leave its temporary file
// behind, as a second name of the KEK itself: it goes (unlinked; a failure
// only leaves it for the next open).
void RemoveTemporaries(platform::Env& env, const std::string& kek_path) {
  const std::string dir = platform::DirName(kek_path);
  const std::string prefix =
      kek_path.substr(kek_path.find_last_of('/') + 1) + ".tmp-";
  auto names = env.ListDir(dir);
  if (!names.ok()) return;
  bool removed = false;
  for (const auto& name : *names) {
    if (name.rfind(prefix, 0) == 0) {
      removed = env.Unlink(platform::JoinPath(dir, name)).ok() || removed;
    }
  }
  if (removed) env.SyncDir(dir).IgnoreError();
}

}  // namespace

Result<std::unique_ptr<FileBackend>> FileBackend::Open(
    platform::Env& env, const FileBackendOptions& options, Rng& rng) {
  if (options.kek_path.empty()) {
    return InvalidArgumentError("keystore: no KEK path");
  }
  if (options.create_kek) {
    const std::string kek_dir = platform::DirName(options.kek_path);
    if (!platform::Exists(env, options.kek_path)) {
      WARDEN_TRY(platform::MakeDirs(env, kek_dir, 0700));
      WARDEN_ASSIGN_OR_RETURN(Bytes fresh, RandomBytes(rng, kKekSize));
      crypto::SecretBytes kek(std::move(fresh));
      Status made = platform::CreateFileExclusive(env, options.kek_path,
                                                  ToString(kek.view()), 0600);
      // Another opener may have made it first; then its KEK is the one.
      if (!made.ok() && made.code() != Code::kAlreadyExists) return made;
    }
    // A KEK found here may not be durable yet: the opener that made it
    // may have failed at a sync of its directory (or of a parent that
    // MakeDirs then took as it was). A power cut that took it away would
    // orphan every blob sealed under it, so its path is made durable
    // before it is used.
    for (std::string dir = kek_dir;;) {
      WARDEN_TRY(env.SyncDir(dir));
      const std::string parent = platform::DirName(dir);
      if (parent == dir) break;
      dir = parent;
    }
  }
  WARDEN_TRY(CheckKekFile(env, options.kek_path));
  RemoveTemporaries(env, options.kek_path);
  WARDEN_ASSIGN_OR_RETURN(std::string raw,
                          platform::ReadFile(env, options.kek_path, 64));
  crypto::SecretBytes kek(ToBytes(raw));
  crypto::Wipe(raw);
  if (kek.size() != kKekSize) {
    return DataLossError("keystore: the KEK " + options.kek_path + " is not " +
                         std::to_string(kKekSize) + " bytes");
  }
  std::string binding;
  if (!options.binding_path.empty()) {
    WARDEN_ASSIGN_OR_RETURN(
        binding,
        platform::ReadFile(env, options.binding_path, kMaxBindingSize));
    if (binding.empty()) {
      return InvalidArgumentError("keystore: the binding file " +
                                  options.binding_path + " is empty");
    }
  }
  WARDEN_ASSIGN_OR_RETURN(
      Bytes key,
      crypto::Hkdf(crypto::HashAlg::kSha256, kek.view(), AsBytes(binding),
                   AsBytes(kKekInfo), crypto::kAeadKeySize));
  return std::unique_ptr<FileBackend>(
      new FileBackend(rng, crypto::SecretBytes(std::move(key))));
}

Result<crypto::SecretBytes> FileBackend::OpenBlob(ByteView aad, ByteView blob) {
  auto plain = crypto::AeadOpenRandomNonce(key_.view(), aad, blob);
  if (!plain.ok()) {
    return IntegrityError(
        "keystore: a blob does not open (altered, another item's, or sealed "
        "under another KEK or binding)");
  }
  return crypto::SecretBytes(std::move(*plain));
}

Result<Bytes> FileBackend::NewSigningKey(ByteView aad) {
  WARDEN_ASSIGN_OR_RETURN(
      auto key, crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256));
  std::string pem = key.ToPem();
  auto sealed =
      crypto::AeadSealRandomNonce(rng_, key_.view(), aad, AsBytes(pem));
  crypto::Wipe(pem);
  return sealed;
}

Result<crypto::PrivateKey> FileBackend::LoadSigningKey(ByteView aad,
                                                       ByteView blob) {
  WARDEN_ASSIGN_OR_RETURN(crypto::SecretBytes pem, OpenBlob(aad, blob));
  auto key = crypto::PrivateKey::FromPem(std::string_view(
      reinterpret_cast<const char*>(pem.view().data()), pem.size()));
  if (!key.ok()) {
    return DataLossError("keystore: a sealed signing key does not parse");
  }
  return key;
}

Result<Bytes> FileBackend::SealSecret(ByteView aad, ByteView secret) {
  return crypto::AeadSealRandomNonce(rng_, key_.view(), aad, secret);
}

Result<crypto::SecretBytes> FileBackend::UnsealSecret(ByteView aad,
                                                      ByteView blob) {
  return OpenBlob(aad, blob);
}

}  // namespace warden::keystore
