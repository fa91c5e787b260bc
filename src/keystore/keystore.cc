#include "keystore/keystore.h"

#include <algorithm>
#include <map>

#include "platform/file.h"
#include "platform/owner.h"

namespace warden::keystore {
namespace {

// A blob file: magic, the kind, then what the backend made.
constexpr std::string_view kMagic = "WKS1";
constexpr std::string_view kCurrentSuffix = ".cur";
constexpr std::string_view kStagedSuffix = ".new";
// A blob on its way out: renamed here in one step, then overwritten and
// removed, so that a crash never leaves a half-wiped blob under a live
// name.
constexpr std::string_view kDoomedSuffix = ".del";
constexpr size_t kMaxNameSize = 64;
constexpr char kLockFile[] = ".lock";

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameSize) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Status CheckName(std::string_view name) {
  if (!ValidName(name)) {
    return InvalidArgumentError("keystore: bad item name \"" +
                                std::string(name.substr(0, kMaxNameSize)) +
                                "\" (1 to 64 of a-z 0-9 _ -)");
  }
  return Status::Ok();
}

char KindByte(ItemKind kind) {
  return kind == ItemKind::kSigningKey ? 'k' : 's';
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Status Backend::ReleaseOrphans(const std::vector<Bytes>&) {
  return Status::Ok();
}

std::string_view ItemKindName(ItemKind kind) {
  return kind == ItemKind::kSigningKey ? "signing-key" : "secret";
}

Bytes ItemAad(ItemKind kind, std::string_view name) {
  std::string aad = "warden-keystore/1";
  aad.push_back('\0');
  aad.append(ItemKindName(kind));
  aad.push_back('\0');
  aad.append(name);
  return ToBytes(aad);
}

Result<std::unique_ptr<Keystore>> Keystore::Open(
    platform::Env& env, std::string dir, std::unique_ptr<Backend> backend) {
  if (backend == nullptr) {
    return InvalidArgumentError("keystore: no backend");
  }
  WARDEN_TRY(platform::MakeDirs(env, dir, 0700));
  WARDEN_ASSIGN_OR_RETURN(auto info, env.Stat(dir));
  if (info.type != platform::FileType::kDirectory) {
    return InvalidArgumentError("keystore: " + dir + " is not a directory");
  }
  WARDEN_ASSIGN_OR_RETURN(uid_t owner, platform::FileOwner(dir));
  if (owner != platform::EffectiveUser()) {
    return PermissionDeniedError("keystore: " + dir +
                                 " is not owned by the running user");
  }
  if ((info.mode & 077) != 0) {
    return PermissionDeniedError("keystore: " + dir +
                                 " is accessible to group or others");
  }
  // One keystore per directory at a time: two could each stage and commit
  // the same item.
  auto lock = env.Lock(platform::JoinPath(dir, kLockFile), /*wait=*/false);
  if (!lock.ok()) {
    if (lock.status().code() == Code::kUnavailable) {
      return UnavailableError("keystore: " + dir +
                              " is in use by another keystore");
    }
    return lock.status();
  }
  std::unique_ptr<Keystore> store(
      new Keystore(env, std::move(dir), std::move(backend)));
  store->lock_ = std::move(*lock);
  // Blobs a crash left on their way out are finished off, and temporary
  // files of an interrupted write removed; a failure here only leaves them
  // for the next open. A temporary file is unlinked, never overwritten: a
  // crash inside CreateFileExclusive can leave it as a second name of the
  // live blob.
  auto names = env.ListDir(store->dir_);
  if (names.ok()) {
    bool removed = false;
    for (const auto& file : *names) {
      const std::string path = platform::JoinPath(store->dir_, file);
      if (EndsWith(file, kDoomedSuffix)) {
        store->Scrub(path).IgnoreError();
      } else if (file.find(".tmp-") != std::string::npos) {
        removed = env.Unlink(path).ok() || removed;
      }
    }
    if (removed) env.SyncDir(store->dir_).IgnoreError();
  }
  store->ReleaseOrphans();
  return store;
}

void Keystore::ReleaseOrphans() {
  // What the directory shows must be what survives a power cut: a rename
  // whose sync failed (a Commit's) could otherwise be undone after the
  // backend released what the blob it brings back names.
  if (!env_.SyncDir(dir_).ok()) return;
  auto names = env_.ListDir(dir_);
  if (!names.ok()) return;
  std::vector<Bytes> live;
  for (const auto& file : *names) {
    const bool current = EndsWith(file, kCurrentSuffix);
    if (!current && !EndsWith(file, kStagedSuffix)) continue;
    const std::string name = file.substr(
        0,
        file.size() - (current ? kCurrentSuffix.size() : kStagedSuffix.size()));
    if (!ValidName(name)) continue;
    auto blob = ReadBlob(platform::JoinPath(dir_, file), name);
    if (blob.ok()) {
      live.push_back(std::move(blob->sealed));
    } else if (blob.status().code() != Code::kDataLoss) {
      // A blob that could not be read may name what the backend holds:
      // nothing is released on a partial view of the directory.
      return;
    }
  }
  backend_->ReleaseOrphans(live).IgnoreError();
}

std::string Keystore::CurrentPath(std::string_view name) const {
  return platform::JoinPath(dir_,
                            std::string(name) + std::string(kCurrentSuffix));
}

std::string Keystore::DoomedPath(std::string_view name) const {
  return platform::JoinPath(dir_,
                            std::string(name) + std::string(kDoomedSuffix));
}

Status Keystore::Retire(const std::string& path, std::string_view name) {
  if (!platform::Exists(env_, path)) return Status::Ok();
  const std::string doomed = DoomedPath(name);
  WARDEN_TRY(Scrub(doomed));
  WARDEN_TRY(env_.Rename(path, doomed));
  WARDEN_TRY(env_.SyncDir(dir_));
  return Scrub(doomed);
}

Status Keystore::Abandon(const std::string& path, std::string_view name,
                         ItemKind kind, ByteView sealed, Status failure) {
  // kAlreadyExists: nothing was written, and the blob there is another's.
  if (failure.code() == Code::kAlreadyExists || Retire(path, name).ok()) {
    backend_->Erase(ItemAad(kind, name), sealed).IgnoreError();
  }
  return failure;
}

std::string Keystore::StagedPath(std::string_view name) const {
  return platform::JoinPath(dir_,
                            std::string(name) + std::string(kStagedSuffix));
}

Result<Keystore::Blob> Keystore::ReadBlob(const std::string& path,
                                          std::string_view name) {
  auto data = platform::ReadFile(env_, path, kMaxBlobSize);
  if (!data.ok()) {
    if (data.status().code() == Code::kNotFound) {
      return NotFoundError("keystore: no item \"" + std::string(name) + "\"");
    }
    return data.status();
  }
  if (data->size() < kMagic.size() + 1 ||
      std::string_view(*data).substr(0, kMagic.size()) != kMagic) {
    return DataLossError("keystore: " + path + " is not a keystore blob");
  }
  Blob blob;
  const char kind = (*data)[kMagic.size()];
  if (kind == 'k') {
    blob.kind = ItemKind::kSigningKey;
  } else if (kind == 's') {
    blob.kind = ItemKind::kSecret;
  } else {
    return DataLossError("keystore: " + path + " has an unknown item kind");
  }
  blob.sealed = ToBytes(std::string_view(*data).substr(kMagic.size() + 1));
  return blob;
}

Status Keystore::WriteBlob(const std::string& path, ItemKind kind,
                           ByteView sealed, bool exclusive) {
  std::string data(kMagic);
  data.push_back(KindByte(kind));
  data.append(ToString(sealed));
  if (exclusive) return platform::CreateFileExclusive(env_, path, data, 0600);
  return platform::WriteFileAtomic(env_, path, data, 0600);
}

Result<crypto::PrivateKey> Keystore::LoadKey(const std::string& path,
                                             std::string_view name) {
  WARDEN_ASSIGN_OR_RETURN(Blob blob, ReadBlob(path, name));
  if (blob.kind != ItemKind::kSigningKey) {
    return NotFoundError("keystore: \"" + std::string(name) +
                         "\" is not a signing key");
  }
  return backend_->LoadSigningKey(ItemAad(blob.kind, name), blob.sealed);
}

Result<crypto::SecretBytes> Keystore::LoadSecret(const std::string& path,
                                                 std::string_view name) {
  WARDEN_ASSIGN_OR_RETURN(Blob blob, ReadBlob(path, name));
  if (blob.kind != ItemKind::kSecret) {
    return NotFoundError("keystore: \"" + std::string(name) +
                         "\" is not a secret");
  }
  return backend_->UnsealSecret(ItemAad(blob.kind, name), blob.sealed);
}

Result<ItemKind> Keystore::CurrentKind(std::string_view name) {
  WARDEN_TRY(CheckName(name));
  WARDEN_ASSIGN_OR_RETURN(Blob blob, ReadBlob(CurrentPath(name), name));
  return blob.kind;
}

Result<crypto::PublicKey> Keystore::CreateSigningKey(std::string_view name) {
  WARDEN_TRY(CheckName(name));
  if (platform::Exists(env_, CurrentPath(name))) {
    return AlreadyExistsError("keystore: \"" + std::string(name) + "\" exists");
  }
  const Bytes aad = ItemAad(ItemKind::kSigningKey, name);
  WARDEN_ASSIGN_OR_RETURN(Bytes sealed, backend_->NewSigningKey(aad));
  // The key is checked before it is kept: a backend that cannot load what
  // it made must not leave an item that never signs.
  auto key = backend_->LoadSigningKey(aad, sealed);
  Status written = key.ok() ? WriteBlob(CurrentPath(name),
                                        ItemKind::kSigningKey, sealed, true)
                            : key.status();
  if (!written.ok()) {
    return Abandon(CurrentPath(name), name, ItemKind::kSigningKey, sealed,
                   written);
  }
  return key->public_key();
}

Result<crypto::PrivateKey> Keystore::SigningKey(std::string_view name) {
  WARDEN_TRY(CheckName(name));
  return LoadKey(CurrentPath(name), name);
}

Status Keystore::Seal(std::string_view name, ByteView secret) {
  WARDEN_TRY(CheckName(name));
  if (secret.empty() || secret.size() > kMaxSecretSize) {
    return InvalidArgumentError("keystore: a secret is 1 to 4096 bytes");
  }
  if (platform::Exists(env_, CurrentPath(name))) {
    return AlreadyExistsError("keystore: \"" + std::string(name) + "\" exists");
  }
  const Bytes aad = ItemAad(ItemKind::kSecret, name);
  WARDEN_ASSIGN_OR_RETURN(Bytes sealed, backend_->SealSecret(aad, secret));
  Status written =
      WriteBlob(CurrentPath(name), ItemKind::kSecret, sealed, true);
  if (!written.ok()) {
    return Abandon(CurrentPath(name), name, ItemKind::kSecret, sealed, written);
  }
  return Status::Ok();
}

Result<crypto::SecretBytes> Keystore::Unseal(std::string_view name) {
  WARDEN_TRY(CheckName(name));
  return LoadSecret(CurrentPath(name), name);
}

Result<crypto::PublicKey> Keystore::StageSigningKey(std::string_view name) {
  WARDEN_ASSIGN_OR_RETURN(ItemKind kind, CurrentKind(name));
  if (kind != ItemKind::kSigningKey) {
    return NotFoundError("keystore: \"" + std::string(name) +
                         "\" is not a signing key");
  }
  WARDEN_TRY(Revert(name));
  const Bytes aad = ItemAad(kind, name);
  WARDEN_ASSIGN_OR_RETURN(Bytes sealed, backend_->NewSigningKey(aad));
  auto key = backend_->LoadSigningKey(aad, sealed);
  Status written = key.ok() ? WriteBlob(StagedPath(name), kind, sealed, false)
                            : key.status();
  if (!written.ok()) {
    return Abandon(StagedPath(name), name, kind, sealed, written);
  }
  return key->public_key();
}

Status Keystore::StageSecret(std::string_view name, ByteView secret) {
  WARDEN_ASSIGN_OR_RETURN(ItemKind kind, CurrentKind(name));
  if (kind != ItemKind::kSecret) {
    return NotFoundError("keystore: \"" + std::string(name) +
                         "\" is not a secret");
  }
  if (secret.empty() || secret.size() > kMaxSecretSize) {
    return InvalidArgumentError("keystore: a secret is 1 to 4096 bytes");
  }
  WARDEN_TRY(Revert(name));
  const Bytes aad = ItemAad(kind, name);
  WARDEN_ASSIGN_OR_RETURN(Bytes sealed, backend_->SealSecret(aad, secret));
  Status written = WriteBlob(StagedPath(name), kind, sealed, false);
  if (!written.ok()) {
    return Abandon(StagedPath(name), name, kind, sealed, written);
  }
  return Status::Ok();
}

Result<crypto::PrivateKey> Keystore::StagedSigningKey(std::string_view name) {
  WARDEN_TRY(CheckName(name));
  return LoadKey(StagedPath(name), name);
}

Result<crypto::SecretBytes> Keystore::UnsealStaged(std::string_view name) {
  WARDEN_TRY(CheckName(name));
  return LoadSecret(StagedPath(name), name);
}

Status Keystore::Commit(std::string_view name) {
  WARDEN_TRY(CheckName(name));
  const std::string staged_path = StagedPath(name);
  WARDEN_ASSIGN_OR_RETURN(Blob staged, ReadBlob(staged_path, name));
  // Only a version that opens becomes current: a staged blob whose
  // backend object went missing (a crash in Destroy) must not replace one
  // that works.
  const Bytes aad = ItemAad(staged.kind, name);
  if (staged.kind == ItemKind::kSigningKey) {
    WARDEN_TRY(backend_->LoadSigningKey(aad, staged.sealed).status());
  } else {
    WARDEN_TRY(backend_->UnsealSecret(aad, staged.sealed).status());
  }
  auto old = ReadBlob(CurrentPath(name), name);
  if (!old.ok() && old.status().code() != Code::kNotFound) {
    return old.status();
  }
  if (old.ok() && old->kind != staged.kind) {
    return DataLossError("keystore: the staged \"" + std::string(name) +
                         "\" is of another kind than the current one");
  }
  // The one step that switches versions: before it the old blob is
  // current, after it the new one. The old blob's blocks are freed, not
  // overwritten: wiping it would need a second name for it, and a wipe
  // through that name after a failed rename would hit the current blob.
  WARDEN_TRY(env_.Rename(staged_path, CurrentPath(name)));
  WARDEN_TRY(env_.SyncDir(dir_));
  if (old.ok()) {
    // What the backend holds for the old version outside the blob goes
    // now. A failure leaves an orphan in the hardware but the committed
    // version intact.
    backend_->Erase(ItemAad(old->kind, name), old->sealed).IgnoreError();
  }
  return Status::Ok();
}

Status Keystore::Revert(std::string_view name) {
  WARDEN_TRY(CheckName(name));
  const std::string staged_path = StagedPath(name);
  auto staged = ReadBlob(staged_path, name);
  if (!staged.ok()) {
    if (staged.status().code() == Code::kNotFound) return Status::Ok();
    // A read that failed says nothing of what is there: Ok would report a
    // staged version dropped that may still be there.
    if (staged.status().code() != Code::kDataLoss) return staged.status();
    // A damaged staged blob is dropped all the same: it never became
    // current.
  }
  WARDEN_TRY(Retire(staged_path, name));
  if (staged.ok()) {
    backend_->Erase(ItemAad(staged->kind, name), staged->sealed).IgnoreError();
  }
  return Status::Ok();
}

Status Keystore::Scrub(const std::string& path) {
  // Overwritten before unlinking, so that the sealed bytes do not linger in
  // the freed blocks of a file system that writes in place. (A log- or
  // copy-on-write file system keeps older blocks regardless; the backends'
  // Erase is what reaches further.)
  auto info = env_.Stat(path);
  if (!info.ok()) {
    if (info.status().code() == Code::kNotFound) return Status::Ok();
    return info.status();
  }
  platform::OpenOptions options;
  options.write = true;
  auto file = env_.Open(path, options);
  if (file.ok()) {
    const std::string zeros(static_cast<size_t>(info->size), '\0');
    Status wiped = (*file)->WriteAt(0, zeros);
    if (wiped.ok()) wiped = (*file)->Sync();
    (*file)->Close().IgnoreError();
    WARDEN_TRY(wiped);
  }
  WARDEN_TRY(env_.Unlink(path));
  return env_.SyncDir(dir_);
}

Status Keystore::Destroy(std::string_view name) {
  WARDEN_TRY(CheckName(name));
  auto current = ReadBlob(CurrentPath(name), name);
  auto staged = ReadBlob(StagedPath(name), name);
  if (!current.ok() && current.status().code() == Code::kNotFound &&
      !staged.ok() && staged.status().code() == Code::kNotFound) {
    return NotFoundError("keystore: no item \"" + std::string(name) + "\"");
  }
  // A read that failed (other than absent or damaged) leaves unknown what
  // is there: Ok would report an item destroyed that may still open.
  for (auto* blob : {&current, &staged}) {
    const Code code = blob->ok() ? Code::kOk : blob->status().code();
    if (code != Code::kOk && code != Code::kNotFound &&
        code != Code::kDataLoss) {
      return blob->status();
    }
  }
  // What the backend holds goes first: from then on no copy of the blobs
  // opens, wherever the file system left one. The staged version is
  // removed before the current one, so that a crash in between never
  // leaves a staged version of an item that no longer exists.
  for (auto* blob : {&staged, &current}) {
    if (blob->ok()) {
      WARDEN_TRY(
          backend_->Erase(ItemAad((*blob)->kind, name), (*blob)->sealed));
    }
  }
  WARDEN_TRY(Retire(StagedPath(name), name));
  return Retire(CurrentPath(name), name);
}

Status Keystore::Sync() { return env_.SyncDir(dir_); }

Result<std::vector<ItemInfo>> Keystore::List() {
  WARDEN_ASSIGN_OR_RETURN(auto names, env_.ListDir(dir_));
  std::map<std::string, ItemInfo> items;
  std::vector<std::string> staged;
  for (const auto& file : names) {
    if (EndsWith(file, kCurrentSuffix)) {
      const std::string name =
          file.substr(0, file.size() - kCurrentSuffix.size());
      if (!ValidName(name)) continue;
      auto blob = ReadBlob(CurrentPath(name), name);
      if (!blob.ok()) continue;  // a damaged blob is no usable item
      items[name] = ItemInfo{name, blob->kind, false};
    } else if (EndsWith(file, kStagedSuffix)) {
      staged.push_back(file.substr(0, file.size() - kStagedSuffix.size()));
    }
  }
  for (const auto& name : staged) {
    auto it = items.find(name);
    if (it != items.end()) it->second.pending = true;
  }
  std::vector<ItemInfo> out;
  for (auto& [name, info] : items) out.push_back(std::move(info));
  return out;
}

Result<bool> Keystore::Pending(std::string_view name) {
  WARDEN_TRY(CheckName(name));
  return platform::Exists(env_, StagedPath(name));
}

}  // namespace warden::keystore
