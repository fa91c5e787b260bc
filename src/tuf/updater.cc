#include "tuf/updater.h"

#include <utility>
#include <vector>

#include "crypto/hash.h"
#include "platform/file.h"

namespace warden::tuf {
namespace {

constexpr mode_t kFileMode = 0644;

ParseLimits LimitsOf(size_t max_bytes) {
  ParseLimits l;
  l.max_bytes = max_bytes;
  return l;
}

std::string WithSlash(std::string url) {
  if (url.empty() || url.back() != '/') url += '/';
  return url;
}

// A fetch failure as the client reports it: over the limit is endless
// data, anything else a failed fetch.
Status FetchError(const Status& s, const std::string& what) {
  if (s.code() == Code::kResourceExhausted) {
    return TufError(Error::kTooLarge, what + ": " + s.message());
  }
  return TufError(Error::kFetchFailed, what + ": " + s.message());
}

Status CheckLength(size_t got, const std::optional<uint64_t>& want,
                   const std::string& what) {
  if (want && got != *want) {
    return TufError(Error::kLengthMismatch,
                    what + " is " + std::to_string(got) + " bytes, not " +
                        std::to_string(*want));
  }
  return Status::Ok();
}

Status CheckMetaFile(std::string_view bytes, const MetaFile& meta,
                     const std::string& what) {
  WARDEN_TRY(CheckLength(bytes.size(), meta.length, what));
  Status h = CheckHashes(AsBytes(bytes), meta.hashes);
  if (!h.ok()) return h.WithContext(what);
  return Status::Ok();
}

std::string Expired(std::string_view role, WallTime expires) {
  return std::string(role) + " expired at " + FormatExpires(expires);
}

// Hashes and counts a target on its way to the caller's sink.
class CheckingSink : public ByteSink {
 public:
  CheckingSink(ByteSink& out, uint64_t limit) : out_(out), limit_(limit) {}

  Status AddHash(const std::string& alg, const std::string& hex) {
    crypto::HashAlg a;
    if (alg == "sha256") {
      a = crypto::HashAlg::kSha256;
    } else if (alg == "sha512") {
      a = crypto::HashAlg::kSha512;
    } else {
      return TufError(Error::kHashMismatch, "unsupported hash algorithm \"" +
                                                alg.substr(0, 32) + "\"");
    }
    Result<Bytes> want = HexDecode(hex);
    if (!want.ok()) {
      return TufError(Error::kHashMismatch, alg + " is not hex");
    }
    hashes_.push_back({alg, *want, std::make_unique<crypto::Hasher>(a)});
    return Status::Ok();
  }

  Status Write(ByteView bytes) override {
    if (bytes.size() > limit_ - received_) {
      return TufError(Error::kTooLarge, "target is longer than " +
                                            std::to_string(limit_) + " bytes");
    }
    received_ += bytes.size();
    for (auto& h : hashes_) h.hasher->Update(bytes);
    return out_.Write(bytes);
  }

  Status Finish() {
    if (received_ != limit_) {
      return TufError(Error::kLengthMismatch,
                      "target is " + std::to_string(received_) +
                          " bytes, not " + std::to_string(limit_));
    }
    for (auto& h : hashes_) {
      if (h.hasher->Finish() != h.want) {
        return TufError(Error::kHashMismatch,
                        "target " + h.alg + " does not match");
      }
    }
    return Status::Ok();
  }

 private:
  struct Hash {
    std::string alg;
    Bytes want;
    std::unique_ptr<crypto::Hasher> hasher;
  };
  ByteSink& out_;
  uint64_t limit_;
  uint64_t received_ = 0;
  std::vector<Hash> hashes_;
};

class FileSink : public ByteSink {
 public:
  explicit FileSink(platform::File& file) : file_(file) {}
  Status Write(ByteView bytes) override {
    Status s = file_.Append(std::string_view(
        reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    if (!s.ok()) return TufError(Error::kStorage, s.message());
    return Status::Ok();
  }

 private:
  platform::File& file_;
};

}  // namespace

std::string QuoteName(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Status Updater::Initialize(platform::Env& env, const std::string& metadata_dir,
                           std::string_view root_bytes,
                           const UpdaterOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(
      Metadata<Root> root,
      Parse<Root>(root_bytes, LimitsOf(options.root_max_length)));
  WARDEN_TRY(VerifyThreshold(root.signed_json, root.signatures,
                             root.signed_.keys, root.signed_.roles.at("root"),
                             "root"));
  Status s = platform::MakeDirs(env, metadata_dir, 0755);
  if (s.ok()) {
    Result<std::vector<std::string>> names = env.ListDir(metadata_dir);
    if (!names.ok()) s = names.status();
    for (size_t i = 0; s.ok() && i < names->size(); ++i) {
      const std::string& n = (*names)[i];
      if (n != "root.json" && n.size() > 5 &&
          n.compare(n.size() - 5, 5, ".json") == 0) {
        s = platform::RemoveFile(env, platform::JoinPath(metadata_dir, n));
      }
    }
  }
  if (s.ok()) {
    s = platform::WriteFileAtomic(env,
                                  platform::JoinPath(metadata_dir, "root.json"),
                                  root_bytes, kFileMode);
  }
  if (!s.ok()) return TufError(Error::kStorage, s.message());
  return Status::Ok();
}

Result<std::unique_ptr<Updater>> Updater::Open(
    platform::Env& env, const Clock& clock, Fetcher& fetcher,
    std::string metadata_dir, std::string metadata_url, std::string target_url,
    UpdaterOptions options) {
  Result<std::string> bytes =
      platform::ReadFile(env, platform::JoinPath(metadata_dir, "root.json"),
                         options.root_max_length);
  if (!bytes.ok()) {
    return TufError(Error::kStorage,
                    "trusted root: " + bytes.status().message());
  }
  Result<Metadata<Root>> root =
      Parse<Root>(*bytes, LimitsOf(options.root_max_length));
  if (!root.ok()) return root.status().WithContext("trusted root");
  WARDEN_TRY(VerifyThreshold(root->signed_json, root->signatures,
                             root->signed_.keys, root->signed_.roles.at("root"),
                             "trusted root"));
  return std::unique_ptr<Updater>(new Updater(
      env, clock, fetcher, std::move(metadata_dir), WithSlash(metadata_url),
      WithSlash(target_url), options, std::move(root).value()));
}

Updater::Updater(platform::Env& env, const Clock& clock, Fetcher& fetcher,
                 std::string metadata_dir, std::string metadata_url,
                 std::string target_url, UpdaterOptions options,
                 Metadata<Root> root)
    : env_(env),
      clock_(clock),
      fetcher_(fetcher),
      dir_(std::move(metadata_dir)),
      metadata_url_(std::move(metadata_url)),
      target_url_(std::move(target_url)),
      options_(options),
      root_(std::move(root)) {}

const Targets* Updater::targets(const std::string& role) const {
  auto it = targets_.find(role);
  return it == targets_.end() ? nullptr : &it->second.signed_;
}

Status Updater::Refresh() {
  refreshed_ = false;
  now_ = clock_.Now();
  timestamp_.reset();
  snapshot_.reset();
  targets_.clear();
  delegator_.clear();
  WARDEN_TRY(LoadRoot());
  WARDEN_TRY(LoadTimestamp());
  WARDEN_TRY(LoadSnapshot());
  WARDEN_TRY(LoadTargets("targets", "root").status());
  refreshed_ = true;
  return Status::Ok();
}

Result<std::string> Updater::FetchMetadata(const std::string& name,
                                           size_t max_length) {
  Result<std::string> r = fetcher_.Fetch(metadata_url_ + name, max_length);
  if (!r.ok()) return r.status();
  return r;
}

std::optional<std::string> Updater::ReadLocal(const std::string& role,
                                              size_t max_length) {
  Result<std::string> r = platform::ReadFile(
      env_, platform::JoinPath(dir_, QuoteName(role) + ".json"), max_length);
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
}

Status Updater::Persist(const std::string& role, std::string_view bytes) {
  Status s = platform::WriteFileAtomic(
      env_, platform::JoinPath(dir_, QuoteName(role) + ".json"), bytes,
      kFileMode);
  if (!s.ok()) return TufError(Error::kStorage, s.message());
  return Status::Ok();
}

Status Updater::LoadRoot() {
  const RoleKeys timestamp_keys = root_.signed_.roles.at("timestamp");
  const RoleKeys snapshot_keys = root_.signed_.roles.at("snapshot");
  const uint64_t first = root_.signed_.version + 1;
  for (uint64_t v = first;
       v < first + static_cast<uint64_t>(options_.max_root_rotations); ++v) {
    const std::string name = std::to_string(v) + ".root.json";
    Result<std::string> bytes = FetchMetadata(name, options_.root_max_length);
    if (!bytes.ok()) {
      Code c = bytes.status().code();
      if (c == Code::kNotFound || c == Code::kPermissionDenied) break;
      return FetchError(bytes.status(), name);
    }
    WARDEN_TRY(UpdateRoot(*bytes));
    WARDEN_TRY(Persist("root", *bytes));
  }
  // Fast-forward recovery (5.3.11): a timestamp or snapshot signed by keys
  // the root no longer trusts may carry a version an attacker pushed up;
  // it must not hold back the new keys' files.
  auto same = [](const RoleKeys& a, const RoleKeys& b) {
    return a.keyids == b.keyids && a.threshold == b.threshold;
  };
  const bool ts_rotated =
      !same(timestamp_keys, root_.signed_.roles.at("timestamp"));
  const bool snap_rotated =
      !same(snapshot_keys, root_.signed_.roles.at("snapshot"));
  if (ts_rotated || snap_rotated) {
    Status s = Status::Ok();
    if (ts_rotated) {
      s = platform::RemoveFile(env_,
                               platform::JoinPath(dir_, "timestamp.json"));
    }
    if (s.ok()) {
      s = platform::RemoveFile(env_, platform::JoinPath(dir_, "snapshot.json"));
    }
    if (s.ok()) s = env_.SyncDir(dir_);
    if (!s.ok()) return TufError(Error::kStorage, s.message());
  }
  return Status::Ok();
}

Status Updater::UpdateRoot(std::string_view bytes) {
  WARDEN_ASSIGN_OR_RETURN(
      Metadata<Root> next,
      Parse<Root>(bytes, LimitsOf(options_.root_max_length)));
  WARDEN_TRY(VerifyThreshold(next.signed_json, next.signatures,
                             root_.signed_.keys, root_.signed_.roles.at("root"),
                             "new root (by the trusted root)"));
  if (next.signed_.version != root_.signed_.version + 1) {
    return TufError(Error::kBadVersion,
                    "root version " + std::to_string(next.signed_.version) +
                        " where " + std::to_string(root_.signed_.version + 1) +
                        " was expected");
  }
  WARDEN_TRY(VerifyThreshold(next.signed_json, next.signatures,
                             next.signed_.keys, next.signed_.roles.at("root"),
                             "new root (by itself)"));
  root_ = std::move(next);
  return Status::Ok();
}

Status Updater::LoadTimestamp() {
  if (std::optional<std::string> local =
          ReadLocal("timestamp", options_.timestamp_max_length)) {
    bool equal = false;
    // A local timestamp that fails is only a cache miss; one that verifies
    // but has expired is still the floor for rollback checks.
    UpdateTimestamp(*local, &equal).IgnoreError();
  }
  Result<std::string> bytes =
      FetchMetadata("timestamp.json", options_.timestamp_max_length);
  if (!bytes.ok()) return FetchError(bytes.status(), "timestamp.json");
  bool equal = false;
  WARDEN_TRY(UpdateTimestamp(*bytes, &equal));
  if (equal) return Status::Ok();
  return Persist("timestamp", *bytes);
}

Status Updater::UpdateTimestamp(std::string_view bytes, bool* equal) {
  *equal = false;
  if (snapshot_) return TufError(Error::kState, "snapshot already loaded");
  if (root_.signed_.IsExpired(now_)) {
    return TufError(Error::kExpired,
                    Expired("final root", root_.signed_.expires));
  }
  WARDEN_ASSIGN_OR_RETURN(
      Metadata<Timestamp> next,
      Parse<Timestamp>(bytes, LimitsOf(options_.timestamp_max_length)));
  WARDEN_TRY(VerifyThreshold(next.signed_json, next.signatures,
                             root_.signed_.keys,
                             root_.signed_.roles.at("timestamp"), "timestamp"));
  if (timestamp_) {
    const Timestamp& old = timestamp_->signed_;
    if (next.signed_.version < old.version) {
      return TufError(
          Error::kRollback,
          "timestamp version " + std::to_string(next.signed_.version) +
              " is below the trusted " + std::to_string(old.version));
    }
    if (next.signed_.version == old.version) {
      *equal = true;
      return Status::Ok();
    }
    if (next.signed_.snapshot_meta.version < old.snapshot_meta.version) {
      return TufError(Error::kRollback,
                      "timestamp names snapshot version " +
                          std::to_string(next.signed_.snapshot_meta.version) +
                          ", below the trusted " +
                          std::to_string(old.snapshot_meta.version));
    }
  }
  timestamp_ = std::move(next);
  if (timestamp_->signed_.IsExpired(now_)) {
    return TufError(Error::kExpired,
                    Expired("timestamp", timestamp_->signed_.expires));
  }
  return Status::Ok();
}

Status Updater::LoadSnapshot() {
  if (std::optional<std::string> local =
          ReadLocal("snapshot", options_.snapshot_max_length)) {
    if (UpdateSnapshot(*local, true).ok()) return Status::Ok();
  }
  const MetaFile& meta = timestamp_->signed_.snapshot_meta;
  const size_t max = meta.length ? *meta.length : options_.snapshot_max_length;
  const std::string name = root_.signed_.consistent_snapshot
                               ? std::to_string(meta.version) + ".snapshot.json"
                               : "snapshot.json";
  Result<std::string> bytes = FetchMetadata(name, max);
  if (!bytes.ok()) return FetchError(bytes.status(), name);
  WARDEN_TRY(UpdateSnapshot(*bytes, false));
  return Persist("snapshot", *bytes);
}

Status Updater::UpdateSnapshot(std::string_view bytes, bool trusted_local) {
  if (!timestamp_) return TufError(Error::kState, "no trusted timestamp");
  if (!targets_.empty()) return TufError(Error::kState, "targets loaded");
  if (timestamp_->signed_.IsExpired(now_)) {
    return TufError(Error::kExpired,
                    Expired("timestamp", timestamp_->signed_.expires));
  }
  const MetaFile& meta = timestamp_->signed_.snapshot_meta;
  // A local copy passed these checks when it was stored; the version check
  // below ties it to this timestamp.
  if (!trusted_local) WARDEN_TRY(CheckMetaFile(bytes, meta, "snapshot"));
  WARDEN_ASSIGN_OR_RETURN(
      Metadata<Snapshot> next,
      Parse<Snapshot>(bytes, LimitsOf(options_.snapshot_max_length)));
  WARDEN_TRY(VerifyThreshold(next.signed_json, next.signatures,
                             root_.signed_.keys,
                             root_.signed_.roles.at("snapshot"), "snapshot"));
  if (snapshot_) {
    for (const auto& [name, old] : snapshot_->signed_.meta) {
      auto it = next.signed_.meta.find(name);
      if (it == next.signed_.meta.end()) {
        return TufError(Error::kMissingRole,
                        "new snapshot does not list " + name);
      }
      if (it->second.version < old.version) {
        return TufError(
            Error::kRollback,
            name + " version " + std::to_string(it->second.version) +
                " is below the trusted " + std::to_string(old.version));
      }
    }
  }
  snapshot_ = std::move(next);
  return CheckFinalSnapshot();
}

Status Updater::CheckFinalSnapshot() const {
  if (snapshot_->signed_.IsExpired(now_)) {
    return TufError(Error::kExpired,
                    Expired("snapshot", snapshot_->signed_.expires));
  }
  const uint64_t want = timestamp_->signed_.snapshot_meta.version;
  if (snapshot_->signed_.version != want) {
    return TufError(Error::kBadVersion,
                    "snapshot version " +
                        std::to_string(snapshot_->signed_.version) +
                        " where the timestamp names " + std::to_string(want));
  }
  return Status::Ok();
}

Result<const Targets*> Updater::LoadTargets(const std::string& role,
                                            const std::string& parent) {
  if (auto it = targets_.find(role); it != targets_.end()) {
    if (delegator_[role] != parent) {
      const std::map<std::string, Key>* keys = nullptr;
      const RoleKeys* role_keys = nullptr;
      WARDEN_TRY(DelegationOf(role, parent, &keys, &role_keys));
      WARDEN_TRY(VerifyThreshold(it->second.signed_json, it->second.signatures,
                                 *keys, *role_keys, role));
    }
    return &it->second.signed_;
  }
  if (std::optional<std::string> local =
          ReadLocal(role, options_.targets_max_length)) {
    if (UpdateTargets(*local, role, parent).ok()) {
      return &targets_.at(role).signed_;
    }
  }
  if (!snapshot_) return TufError(Error::kState, "no trusted snapshot");
  auto meta = snapshot_->signed_.meta.find(role + ".json");
  if (meta == snapshot_->signed_.meta.end()) {
    return TufError(Error::kMissingRole, "snapshot does not list " + role);
  }
  const size_t max =
      meta->second.length ? *meta->second.length : options_.targets_max_length;
  const std::string name = root_.signed_.consistent_snapshot
                               ? std::to_string(meta->second.version) + "." +
                                     QuoteName(role) + ".json"
                               : QuoteName(role) + ".json";
  Result<std::string> bytes = FetchMetadata(name, max);
  if (!bytes.ok()) return FetchError(bytes.status(), name);
  WARDEN_TRY(UpdateTargets(*bytes, role, parent));
  WARDEN_TRY(Persist(role, *bytes));
  return &targets_.at(role).signed_;
}

Status Updater::UpdateTargets(std::string_view bytes, const std::string& role,
                              const std::string& parent) {
  if (!snapshot_) return TufError(Error::kState, "no trusted snapshot");
  WARDEN_TRY(CheckFinalSnapshot());
  const std::map<std::string, Key>* keys = nullptr;
  const RoleKeys* role_keys = nullptr;
  WARDEN_TRY(DelegationOf(role, parent, &keys, &role_keys));
  auto meta = snapshot_->signed_.meta.find(role + ".json");
  if (meta == snapshot_->signed_.meta.end()) {
    return TufError(Error::kMissingRole, "snapshot does not list " + role);
  }
  WARDEN_TRY(CheckMetaFile(bytes, meta->second, role));
  WARDEN_ASSIGN_OR_RETURN(
      Metadata<Targets> next,
      Parse<Targets>(bytes, LimitsOf(options_.targets_max_length)));
  WARDEN_TRY(VerifyThreshold(next.signed_json, next.signatures, *keys,
                             *role_keys, role));
  if (next.signed_.version != meta->second.version) {
    return TufError(Error::kBadVersion,
                    role + " version " + std::to_string(next.signed_.version) +
                        " where the snapshot names " +
                        std::to_string(meta->second.version));
  }
  if (next.signed_.IsExpired(now_)) {
    return TufError(Error::kExpired, Expired(role, next.signed_.expires));
  }
  targets_.insert_or_assign(role, std::move(next));
  delegator_[role] = parent;
  return Status::Ok();
}

Status Updater::DelegationOf(const std::string& role, const std::string& parent,
                             const std::map<std::string, Key>** keys,
                             const RoleKeys** role_keys) const {
  if (parent == "root") {
    *keys = &root_.signed_.keys;
    *role_keys = &root_.signed_.roles.at("targets");
    return Status::Ok();
  }
  auto p = targets_.find(parent);
  if (p == targets_.end() || !p->second.signed_.delegations) {
    return TufError(Error::kState, "delegator " + parent + " not loaded");
  }
  const Delegations& d = *p->second.signed_.delegations;
  *keys = &d.keys;
  for (const DelegatedRole& r : d.roles) {
    if (r.name == role) {
      *role_keys = &r.keys;
      return Status::Ok();
    }
  }
  return TufError(Error::kState, parent + " does not delegate to " + role);
}

Result<TargetInfo> Updater::GetTargetInfo(std::string_view target_path) {
  if (!refreshed_) WARDEN_TRY(Refresh());
  struct Visit {
    std::string role;
    std::string parent;
    int depth;
  };
  std::vector<Visit> to_visit = {{"targets", "root", 0}};
  std::vector<std::string> visited;
  int budget = options_.max_delegations;
  bool cut_short = false;
  while (!to_visit.empty()) {
    if (budget <= 0) {
      cut_short = true;
      break;
    }
    Visit v = std::move(to_visit.back());
    to_visit.pop_back();
    if (std::find(visited.begin(), visited.end(), v.role) != visited.end()) {
      continue;
    }
    WARDEN_ASSIGN_OR_RETURN(const Targets* t, LoadTargets(v.role, v.parent));
    auto found = t->targets.find(std::string(target_path));
    if (found != t->targets.end()) {
      return TargetInfo{std::string(target_path), found->second};
    }
    visited.push_back(v.role);
    --budget;
    if (!t->delegations) continue;
    std::vector<Visit> children;
    for (const DelegatedRole& r : t->delegations->roles) {
      if (!r.IsDelegatedPath(target_path)) continue;
      if (v.depth + 1 > options_.max_delegation_depth) {
        cut_short = true;
      } else {
        children.push_back({r.name, v.role, v.depth + 1});
      }
      if (r.terminating) {
        to_visit.clear();
        break;
      }
    }
    to_visit.insert(to_visit.end(), children.rbegin(), children.rend());
  }
  if (cut_short) {
    return TufError(Error::kDelegationLimit,
                    "search for " + std::string(target_path.substr(0, 256)) +
                        " stopped at a delegation limit");
  }
  return TufError(
      Error::kTargetNotFound,
      "no trusted role names " + std::string(target_path.substr(0, 256)));
}

Status Updater::DownloadTarget(const TargetInfo& info, ByteSink& sink) {
  CheckingSink check(sink, info.file.length);
  for (const auto& [alg, hex] : info.file.hashes) {
    WARDEN_TRY(check.AddHash(alg, hex));
  }
  std::string path = info.path;
  if (root_.signed_.consistent_snapshot && options_.prefix_targets_with_hash &&
      !info.file.hashes.empty()) {
    auto h = info.file.hashes.find("sha256");
    const std::string& hash = h != info.file.hashes.end()
                                  ? h->second
                                  : info.file.hashes.begin()->second;
    size_t slash = path.rfind('/');
    path = slash == std::string::npos ? hash + "." + path
                                      : path.substr(0, slash + 1) + hash + "." +
                                            path.substr(slash + 1);
  }
  Status s = fetcher_.FetchTo(target_url_ + path, info.file.length, check);
  if (!s.ok()) {
    if (ErrorOf(s) != Error::kNone) return s;
    return FetchError(s, "target " + info.path.substr(0, 256));
  }
  return check.Finish();
}

Status Updater::DownloadTargetToFile(const TargetInfo& info,
                                     const std::string& path) {
  const std::string tmp = path + ".part";
  platform::OpenOptions o;
  o.write = true;
  o.create = platform::OpenOptions::Create::kTruncate;
  o.mode = kFileMode;
  Result<std::unique_ptr<platform::File>> file = env_.Open(tmp, o);
  if (!file.ok()) return TufError(Error::kStorage, file.status().message());
  FileSink sink(**file);
  Status s = DownloadTarget(info, sink);
  if (s.ok()) {
    Status w = (*file)->Sync();
    if (w.ok()) w = (*file)->Close();
    if (w.ok()) w = env_.Rename(tmp, path);
    if (w.ok()) w = env_.SyncDir(platform::DirName(path));
    if (!w.ok()) s = TufError(Error::kStorage, w.message());
  }
  if (!s.ok()) {
    (*file)->Close().IgnoreError();
    platform::RemoveFile(env_, tmp).IgnoreError();
  }
  return s;
}

bool Updater::IsCached(const TargetInfo& info, const std::string& path) {
  Result<std::string> bytes = platform::ReadFile(env_, path, info.file.length);
  return bytes.ok() && bytes->size() == info.file.length &&
         CheckHashes(AsBytes(*bytes), info.file.hashes).ok();
}

}  // namespace warden::tuf
