#include "release/repository.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>

#include "base/bytes.h"
#include "base/time_format.h"
#include "base/version.h"
#include "crypto/hash.h"
#include "crypto/pkcs11.h"
#include "crypto/secret.h"
#include "platform/file.h"
#include "tuf/metadata.h"

namespace warden::release {
namespace {

using platform::Env;
using platform::JoinPath;
using schema::Json;

constexpr int kFormat = 1;
constexpr size_t kMaxStateBytes = 64 * 1024;
constexpr size_t kMaxKeyBytes = 16 * 1024;
constexpr size_t kChunk = 64 * 1024;

const std::map<std::string, int>& DefaultExpiresDays() {
  static const auto* days = new std::map<std::string, int>{
      {"root", 365}, {"targets", 90}, {"snapshot", 7}, {"timestamp", 1}};
  return *days;
}

bool IsRole(const std::string& role) {
  for (const char* r : kRoles) {
    if (role == r) return true;
  }
  return false;
}

// ---- the commit file --------------------------------------------------------

struct State {
  std::map<std::string, uint64_t> versions;
  std::map<std::string, int> expires_days;
};

std::string StateJson(const State& s) {
  Json versions = Json::object();
  for (const auto& [role, v] : s.versions) versions[role] = v;
  Json days = Json::object();
  for (const auto& [role, d] : s.expires_days) days[role] = d;
  return Json{{"format", kFormat},
              {"versions", versions},
              {"expires_days", days}}
             .dump(2) +
         "\n";
}

Result<State> ParseState(std::string_view text) {
  schema::JsonLimits limits;
  limits.max_bytes = kMaxStateBytes;
  Result<Json> j = schema::ParseJson(text, limits);
  if (!j.ok()) return DataLossError("repository.json: " + j.status().message());
  State s;
  const Json& v = *j;
  if (!v.is_object() || v.value("format", 0) != kFormat ||
      !v.contains("versions") || !v["versions"].is_object() ||
      !v.contains("expires_days") || !v["expires_days"].is_object()) {
    return DataLossError("repository.json: not a repository of this format");
  }
  for (const char* role : kRoles) {
    const Json& ver = v["versions"].value(role, Json());
    const Json& days = v["expires_days"].value(role, Json());
    if (!ver.is_number_unsigned() || ver.get<uint64_t>() < 1 ||
        !days.is_number_integer() || days.get<int64_t>() < 1 ||
        days.get<int64_t>() > 36500) {
      return DataLossError(std::string("repository.json: bad entry for ") +
                           role);
    }
    s.versions[role] = ver.get<uint64_t>();
    s.expires_days[role] = days.get<int>();
  }
  return s;
}

std::string MetadataName(const std::string& role, uint64_t version) {
  return std::to_string(version) + "." + role + ".json";
}

// ---- keys -------------------------------------------------------------------

struct Signer {
  std::string keyid;
  crypto::PrivateKey key;
};

Json Pkcs11Json(const Pkcs11Key& k) {
  return Json{{"module", k.module}, {"token", k.token}, {"key", k.key}};
}

// The tokens one call opens, each once: libp11 finalises the module when
// a token's context goes, which ends every session of the process with it.
// Declared before the keys taken from it, so that they go first.
struct Tokens {
  std::map<std::pair<std::string, std::string>, crypto::Pkcs11Token> open;
};

Result<crypto::PrivateKey> OpenPkcs11(Tokens& tokens, const Pkcs11Key& k,
                                      const std::string& pin) {
  auto it = tokens.open.find({k.module, k.token});
  if (it == tokens.open.end()) {
    WARDEN_ASSIGN_OR_RETURN(crypto::Pkcs11Token token,
                            crypto::Pkcs11Token::Open(k.module, k.token, pin));
    it =
        tokens.open.emplace(std::make_pair(k.module, k.token), std::move(token))
            .first;
  }
  return it->second.PrivateKeyByLabel(k.key);
}

// The signer for `keyid` from `dir`, or nullopt when the directory has no
// file for it. A file holding another key than its name says is refused:
// it would sign under the wrong ID.
Result<std::optional<Signer>> LoadSigner(Env& env, Tokens& tokens,
                                         const std::string& dir,
                                         const std::string& keyid,
                                         const std::string& pin) {
  const std::string pem_path = JoinPath(dir, keyid + ".pem");
  const std::string p11_path = JoinPath(dir, keyid + ".pkcs11.json");
  std::optional<crypto::PrivateKey> key;
  if (platform::Exists(env, pem_path)) {
    WARDEN_ASSIGN_OR_RETURN(std::string pem,
                            platform::ReadFile(env, pem_path, kMaxKeyBytes));
    Result<crypto::PrivateKey> k = crypto::PrivateKey::FromPem(pem);
    crypto::Wipe(pem);
    if (!k.ok()) return k.status().WithContext(pem_path);
    key = std::move(k).value();
  } else if (platform::Exists(env, p11_path)) {
    WARDEN_ASSIGN_OR_RETURN(std::string text,
                            platform::ReadFile(env, p11_path, kMaxKeyBytes));
    Result<Json> j = schema::ParseJson(text, {});
    if (!j.ok() || !j->is_object() || !(*j)["module"].is_string() ||
        !(*j)["token"].is_string() || !(*j)["key"].is_string()) {
      return DataLossError(p11_path + ": not a PKCS#11 key reference");
    }
    Pkcs11Key ref{(*j)["module"].get<std::string>(),
                  (*j)["token"].get<std::string>(),
                  (*j)["key"].get<std::string>()};
    if (pin.empty()) {
      return FailedPreconditionError(
          "key " + keyid.substr(0, 16) +
          " is in a PKCS#11 token and no PIN was given (WARDEN_PKCS11_PIN)");
    }
    Result<crypto::PrivateKey> k = OpenPkcs11(tokens, ref, pin);
    if (!k.ok()) return k.status().WithContext(p11_path);
    key = std::move(k).value();
  } else {
    return std::optional<Signer>();
  }
  const std::string id = tuf::Key::FromPublicKey(key->public_key()).Id();
  if (id != keyid) {
    return DataLossError(dir + ": the file for key " + keyid.substr(0, 16) +
                         " holds key " + id.substr(0, 16));
  }
  return std::optional<Signer>(Signer{keyid, std::move(*key)});
}

// Every key of `keyids` found in `dir`, leaving out `except`.
Result<std::vector<Signer>> LoadSigners(Env& env, Tokens& tokens,
                                        const std::string& dir,
                                        const std::vector<std::string>& keyids,
                                        const std::string& pin,
                                        const std::set<std::string>& except) {
  std::vector<Signer> out;
  if (dir.empty()) return out;
  for (const std::string& id : keyids) {
    if (except.count(id)) continue;
    WARDEN_ASSIGN_OR_RETURN(std::optional<Signer> s,
                            LoadSigner(env, tokens, dir, id, pin));
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

// A new file key written (0600) into `dir` under its key ID.
Result<Signer> NewFileKey(Env& env, const std::string& dir,
                          crypto::KeyType type, bool exclusive_commit) {
  WARDEN_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                          crypto::PrivateKey::Generate(type));
  const std::string id = tuf::Key::FromPublicKey(key.public_key()).Id();
  std::string pem = key.ToPem();
  const std::string path = JoinPath(dir, id + ".pem");
  Status st = exclusive_commit
                  ? platform::CreateFileExclusive(env, path, pem, 0600)
                  : platform::WriteNewFile(env, path, pem, 0600);
  crypto::Wipe(pem);
  WARDEN_TRY(st);
  return Signer{id, std::move(key)};
}

// A token key, with its reference written into `dir`.
Result<Signer> NewPkcs11Key(Env& env, Tokens& tokens, const std::string& dir,
                            const Pkcs11Key& ref, const std::string& pin,
                            bool exclusive_commit) {
  if (pin.empty()) {
    return InvalidArgumentError(
        "a PKCS#11 key needs the token's PIN in WARDEN_PKCS11_PIN");
  }
  WARDEN_ASSIGN_OR_RETURN(crypto::PrivateKey key, OpenPkcs11(tokens, ref, pin));
  const std::string id = tuf::Key::FromPublicKey(key.public_key()).Id();
  const std::string path = JoinPath(dir, id + ".pkcs11.json");
  const std::string text = Pkcs11Json(ref).dump(2) + "\n";
  if (platform::Exists(env, path)) {
    WARDEN_TRY(platform::WriteFileAtomic(env, path, text, 0600));
  } else {
    WARDEN_TRY(exclusive_commit
                   ? platform::CreateFileExclusive(env, path, text, 0600)
                   : platform::WriteNewFile(env, path, text, 0600));
  }
  return Signer{id, std::move(key)};
}

// ---- signing ----------------------------------------------------------------

// Signs `signed_json` with each signer and checks that this reaches the
// threshold of every role in `must_satisfy` (root keys with role keys).
Result<std::string> SignFile(
    const Json& signed_json, const std::vector<const Signer*>& signers,
    const std::vector<std::pair<const tuf::Root*, std::string>>& must_satisfy) {
  std::vector<tuf::Signature> sigs;
  for (const Signer* s : signers) {
    WARDEN_TRY(tuf::Sign(signed_json, sigs, s->key, s->keyid));
  }
  for (const auto& [root, role] : must_satisfy) {
    Status st = tuf::VerifyThreshold(signed_json, sigs, root->keys,
                                     root->roles.at(role), role);
    if (!st.ok()) {
      return FailedPreconditionError(role +
                                     ": too few of its keys at hand to sign (" +
                                     st.message() + ")");
    }
  }
  return tuf::Serialize(signed_json, sigs);
}

std::vector<const Signer*> Ptrs(const std::vector<Signer>& v) {
  std::vector<const Signer*> out;
  for (const Signer& s : v) out.push_back(&s);
  return out;
}

WallTime ExpiresIn(const Clock& clock, int days) {
  return std::chrono::time_point_cast<std::chrono::seconds>(clock.Now()) +
         std::chrono::hours(24) * days;
}

// ---- the loaded repository --------------------------------------------------

struct Loaded {
  State state;
  std::map<uint64_t, std::string> root_files;  // every root version
  tuf::Metadata<tuf::Root> root;
  tuf::Metadata<tuf::Targets> targets;
  tuf::Metadata<tuf::Snapshot> snapshot;
  tuf::Metadata<tuf::Timestamp> timestamp;
  std::string targets_file, snapshot_file, timestamp_file;
};

template <typename T>
Result<tuf::Metadata<T>> ParseOwn(const std::string& name,
                                  const std::string& bytes) {
  tuf::ParseLimits limits;
  limits.max_bytes = kMaxMetadataBytes;
  Result<tuf::Metadata<T>> m = tuf::Parse<T>(bytes, limits);
  if (!m.ok()) return DataLossError(name + ": " + m.status().message());
  return m;
}

Result<Loaded> Load(Env& env, const std::string& repo) {
  const std::string state_path = JoinPath(repo, "repository.json");
  if (!platform::Exists(env, state_path)) {
    return NotFoundError(repo +
                         " is not a release repository (no "
                         "repository.json)");
  }
  WARDEN_ASSIGN_OR_RETURN(std::string text,
                          platform::ReadFile(env, state_path, kMaxStateBytes));
  Loaded l;
  WARDEN_ASSIGN_OR_RETURN(l.state, ParseState(text));
  const std::string md = JoinPath(repo, "metadata");
  auto read = [&](const std::string& role,
                  uint64_t version) -> Result<std::string> {
    const std::string path = JoinPath(md, MetadataName(role, version));
    Result<std::string> bytes =
        platform::ReadFile(env, path, kMaxMetadataBytes);
    if (!bytes.ok()) return DataLossError(bytes.status().message());
    return bytes;
  };
  for (uint64_t v = 1; v <= l.state.versions["root"]; ++v) {
    WARDEN_ASSIGN_OR_RETURN(l.root_files[v], read("root", v));
  }
  WARDEN_ASSIGN_OR_RETURN(
      l.root,
      ParseOwn<tuf::Root>("root", l.root_files[l.state.versions["root"]]));
  WARDEN_ASSIGN_OR_RETURN(l.targets_file,
                          read("targets", l.state.versions["targets"]));
  WARDEN_ASSIGN_OR_RETURN(l.targets,
                          ParseOwn<tuf::Targets>("targets", l.targets_file));
  WARDEN_ASSIGN_OR_RETURN(l.snapshot_file,
                          read("snapshot", l.state.versions["snapshot"]));
  WARDEN_ASSIGN_OR_RETURN(l.snapshot,
                          ParseOwn<tuf::Snapshot>("snapshot", l.snapshot_file));
  WARDEN_ASSIGN_OR_RETURN(l.timestamp_file,
                          read("timestamp", l.state.versions["timestamp"]));
  WARDEN_ASSIGN_OR_RETURN(
      l.timestamp, ParseOwn<tuf::Timestamp>("timestamp", l.timestamp_file));
  return l;
}

Result<std::unique_ptr<platform::FileLock>> LockRepo(Env& env,
                                                     const std::string& repo) {
  if (!platform::Exists(env, JoinPath(repo, "repository.json"))) {
    return NotFoundError(repo +
                         " is not a release repository (no repository.json)");
  }
  Result<std::unique_ptr<platform::FileLock>> lock =
      env.Lock(JoinPath(repo, "lock"), false);
  if (!lock.ok() && lock.status().code() == Code::kUnavailable) {
    return UnavailableError(repo + " is in use by another warden release");
  }
  return lock;
}

// A change in the making: new metadata files and the state that commits
// them.
struct Change {
  State state;
  std::map<std::string, std::string> files;  // metadata/ name -> bytes
};

tuf::MetaFile Describe(const std::string& bytes, uint64_t version) {
  tuf::MetaFile m;
  m.version = version;
  m.length = bytes.size();
  m.hashes["sha256"] = HexEncode(crypto::Sha256(AsBytes(bytes)));
  return m;
}

// Removes what no current version uses: earlier versions of the online
// roles' metadata, images no target names, leftovers of interrupted
// changes. Best effort: what stays is never read.
void CollectGarbage(Env& env, const std::string& repo, const State& state,
                    const tuf::Targets& targets) {
  const std::string md = JoinPath(repo, "metadata");
  std::set<std::string> keep;
  for (uint64_t v = 1; v <= state.versions.at("root"); ++v) {
    keep.insert(MetadataName("root", v));
  }
  for (const char* role : {"targets", "snapshot", "timestamp"}) {
    keep.insert(MetadataName(role, state.versions.at(role)));
  }
  if (Result<std::vector<std::string>> names = env.ListDir(md); names.ok()) {
    for (const std::string& n : *names) {
      if (!keep.count(n)) env.Unlink(JoinPath(md, n)).IgnoreError();
    }
  }
  std::set<std::string> images;
  for (const auto& [name, f] : targets.targets) {
    auto it = f.hashes.find("sha256");
    if (it != f.hashes.end()) images.insert(it->second + "." + name);
  }
  const std::string td = JoinPath(repo, "targets");
  if (Result<std::vector<std::string>> names = env.ListDir(td); names.ok()) {
    for (const std::string& n : *names) {
      if (!images.count(n)) env.Unlink(JoinPath(td, n)).IgnoreError();
    }
  }
}

// Writes the new files, then commits by replacing repository.json.
Status Commit(Env& env, const std::string& repo, const Change& change) {
  const std::string md = JoinPath(repo, "metadata");
  for (const auto& [name, bytes] : change.files) {
    WARDEN_TRY(platform::WriteFileAtomic(env, JoinPath(md, name), bytes, 0644));
  }
  return platform::WriteFileAtomic(env, JoinPath(repo, "repository.json"),
                                   StateJson(change.state), 0644);
}

// New snapshot and timestamp over `targets_file` (version `targets_version`)
// into `change`.
Status SignSnapshotAndTimestamp(Env& env, Tokens& tokens, const Clock& clock,
                                const std::string& repo, const Loaded& l,
                                const tuf::Root& root,
                                const std::string& targets_file,
                                uint64_t targets_version,
                                const std::map<std::string, int>& days,
                                const KeyAccess& access, Change& change) {
  const std::string keys = JoinPath(repo, "keys");
  tuf::Snapshot snapshot;
  snapshot.version = l.state.versions.at("snapshot") + 1;
  snapshot.expires = ExpiresIn(clock, days.at("snapshot"));
  snapshot.meta["targets.json"] = Describe(targets_file, targets_version);
  WARDEN_ASSIGN_OR_RETURN(
      std::vector<Signer> snapshot_keys,
      LoadSigners(env, tokens, keys, root.roles.at("snapshot").keyids,
                  access.pkcs11_pin, {}));
  WARDEN_ASSIGN_OR_RETURN(std::string snapshot_file,
                          SignFile(tuf::ToJson(snapshot), Ptrs(snapshot_keys),
                                   {{&root, "snapshot"}}));
  tuf::Timestamp timestamp;
  timestamp.version = l.state.versions.at("timestamp") + 1;
  timestamp.expires = ExpiresIn(clock, days.at("timestamp"));
  timestamp.snapshot_meta = Describe(snapshot_file, snapshot.version);
  WARDEN_ASSIGN_OR_RETURN(
      std::vector<Signer> timestamp_keys,
      LoadSigners(env, tokens, keys, root.roles.at("timestamp").keyids,
                  access.pkcs11_pin, {}));
  WARDEN_ASSIGN_OR_RETURN(std::string timestamp_file,
                          SignFile(tuf::ToJson(timestamp), Ptrs(timestamp_keys),
                                   {{&root, "timestamp"}}));
  change.files[MetadataName("snapshot", snapshot.version)] =
      std::move(snapshot_file);
  change.files[MetadataName("timestamp", timestamp.version)] =
      std::move(timestamp_file);
  change.state.versions["snapshot"] = snapshot.version;
  change.state.versions["timestamp"] = timestamp.version;
  return Status::Ok();
}

Result<std::string> SignTargets(Env& env, Tokens& tokens,
                                const std::string& repo, const tuf::Root& root,
                                const tuf::Targets& targets,
                                const KeyAccess& access) {
  WARDEN_ASSIGN_OR_RETURN(
      std::vector<Signer> keys,
      LoadSigners(env, tokens, JoinPath(repo, "keys"),
                  root.roles.at("targets").keyids, access.pkcs11_pin, {}));
  return SignFile(tuf::ToJson(targets), Ptrs(keys), {{&root, "targets"}});
}

// Streams `from` into a new file at `to` (replacing it atomically), with
// the SHA-256 and SHA-512 of what was copied.
struct Copied {
  uint64_t length = 0;
  std::string sha256, sha512;
};

Result<Copied> CopyFile(Env& env, const std::string& from,
                        const std::string& to) {
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<platform::File> in,
                          env.Open(from, platform::OpenOptions{}));
  const std::string tmp = to + ".incoming";
  platform::OpenOptions wo;
  wo.write = true;
  wo.create = platform::OpenOptions::Create::kTruncate;
  wo.mode = 0644;
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<platform::File> out,
                          env.Open(tmp, wo));
  crypto::Hasher h256(crypto::HashAlg::kSha256), h512(crypto::HashAlg::kSha512);
  std::string buf(kChunk, '\0');
  Copied c;
  auto copy = [&]() -> Status {
    while (true) {
      WARDEN_ASSIGN_OR_RETURN(size_t n,
                              in->ReadAt(c.length, buf.data(), kChunk));
      if (n == 0) break;
      std::string_view piece(buf.data(), n);
      WARDEN_TRY(out->WriteAt(c.length, piece));
      h256.Update(AsBytes(piece));
      h512.Update(AsBytes(piece));
      c.length += n;
    }
    WARDEN_TRY(out->Sync());
    WARDEN_TRY(out->Close());
    WARDEN_TRY(env.Rename(tmp, to));
    return env.SyncDir(platform::DirName(to));
  };
  if (Status st = copy(); !st.ok()) {
    out.reset();
    env.Unlink(tmp).IgnoreError();
    return st;
  }
  c.sha256 = HexEncode(h256.Finish());
  c.sha512 = HexEncode(h512.Finish());
  return c;
}

Status ValidateDays(const std::map<std::string, int>& days) {
  for (const auto& [role, d] : days) {
    if (!IsRole(role)) return InvalidArgumentError("unknown role " + role);
    if (d < 1 || d > 36500) {
      return InvalidArgumentError(role + ": expiry must be 1 to 36500 days");
    }
  }
  return Status::Ok();
}

}  // namespace

// ---- validation -------------------------------------------------------------

Status ValidateHardwareModel(const std::string& model) {
  bool ok = !model.empty() && model.size() <= 63;
  for (size_t i = 0; ok && i < model.size(); ++i) {
    char c = model[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    ok = alnum || (i > 0 && c == '-');
  }
  if (!ok) {
    return InvalidArgumentError(
        "hardware model must be 1 to 63 of a-z, 0-9 and '-', not starting "
        "with '-'");
  }
  return Status::Ok();
}

// ---- init -------------------------------------------------------------------

Status Init(Env& env, const Clock& clock, const std::string& repo,
            const InitOptions& options, const KeyAccess& access) {
  Tokens tokens;
  std::map<std::string, int> threshold{
      {"root", 2}, {"targets", 1}, {"snapshot", 1}, {"timestamp", 1}};
  std::map<std::string, int> count{
      {"root", 3}, {"targets", 1}, {"snapshot", 1}, {"timestamp", 1}};
  for (const auto& [role, n] : options.threshold) {
    if (!IsRole(role)) return InvalidArgumentError("unknown role " + role);
    threshold[role] = n;
    // A threshold alone raises the key count with it.
    if (!options.key_count.count(role) && count[role] < n) count[role] = n;
  }
  for (const auto& [role, n] : options.key_count) {
    if (!IsRole(role)) return InvalidArgumentError("unknown role " + role);
    count[role] = n;
  }
  for (const auto& [role, ref] : options.pkcs11) {
    if (!IsRole(role)) return InvalidArgumentError("unknown role " + role);
    if (options.key_count.count(role) && options.key_count.at(role) != 1) {
      return InvalidArgumentError(role +
                                  ": a PKCS#11 key is the role's one key");
    }
    count[role] = 1;
  }
  for (const char* role : kRoles) {
    if (count[role] < 1 || count[role] > 16 || threshold[role] < 1 ||
        threshold[role] > count[role]) {
      return InvalidArgumentError(std::string(role) +
                                  ": need 1 <= threshold <= key count <= 16");
    }
  }
  WARDEN_TRY(ValidateDays(options.expires_days));
  if (access.root_keys_dir.empty()) {
    return InvalidArgumentError("the root keys need a directory");
  }
  if (!options.pkcs11.empty() && access.pkcs11_pin.empty()) {
    return InvalidArgumentError(
        "a PKCS#11 key needs the token's PIN in WARDEN_PKCS11_PIN");
  }
  if (platform::Exists(env, repo) && !platform::IsEmptyDirectory(env, repo)) {
    return AlreadyExistsError(repo + " exists and is not empty");
  }
  State state;
  state.expires_days = DefaultExpiresDays();
  for (const auto& [role, d] : options.expires_days)
    state.expires_days[role] = d;
  for (const char* role : kRoles) state.versions[role] = 1;

  WARDEN_TRY(platform::MakeDirs(env, access.root_keys_dir, 0700));
  WARDEN_ASSIGN_OR_RETURN(std::string tmp,
                          platform::MakeTempDirBeside(env, repo, 0755));
  auto build = [&]() -> Status {
    const std::string keys_dir = JoinPath(tmp, "keys");
    for (const char* sub : {"metadata", "targets"}) {
      WARDEN_TRY(env.MakeDir(JoinPath(tmp, sub), 0755));
    }
    WARDEN_TRY(env.MakeDir(keys_dir, 0700));
    std::map<std::string, std::vector<Signer>> signers;
    tuf::Root root;
    root.consistent_snapshot = true;
    root.expires = ExpiresIn(clock, state.expires_days["root"]);
    // The online roles' keys first: a token that fails leaves nothing on
    // the offline medium.
    for (const char* role : {"targets", "snapshot", "timestamp", "root"}) {
      const bool offline = std::string(role) == "root";
      const std::string dir = offline ? access.root_keys_dir : keys_dir;
      for (int i = 0; i < count[role]; ++i) {
        Result<Signer> s =
            options.pkcs11.count(role)
                ? NewPkcs11Key(env, tokens, dir, options.pkcs11.at(role),
                               access.pkcs11_pin, offline)
                : NewFileKey(env, dir, options.key_type, offline);
        WARDEN_TRY(s.status());
        root.keys[s->keyid] = tuf::Key::FromPublicKey(s->key.public_key());
        root.roles[role].keyids.push_back(s->keyid);
        signers[role].push_back(std::move(s).value());
      }
      root.roles[role].threshold = threshold[role];
    }
    for (const auto& [role, keys] : root.roles) {
      std::set<std::string> distinct(keys.keyids.begin(), keys.keyids.end());
      if (distinct.size() != keys.keyids.size()) {
        return InvalidArgumentError(role + ": the same key given twice");
      }
    }
    Change change;
    change.state = state;
    WARDEN_ASSIGN_OR_RETURN(
        std::string root_file,
        SignFile(tuf::ToJson(root), Ptrs(signers["root"]), {{&root, "root"}}));
    tuf::Targets targets;
    targets.expires = ExpiresIn(clock, state.expires_days["targets"]);
    WARDEN_ASSIGN_OR_RETURN(
        std::string targets_file,
        SignFile(tuf::ToJson(targets), Ptrs(signers["targets"]),
                 {{&root, "targets"}}));
    tuf::Snapshot snapshot;
    snapshot.expires = ExpiresIn(clock, state.expires_days["snapshot"]);
    snapshot.meta["targets.json"] = Describe(targets_file, 1);
    WARDEN_ASSIGN_OR_RETURN(
        std::string snapshot_file,
        SignFile(tuf::ToJson(snapshot), Ptrs(signers["snapshot"]),
                 {{&root, "snapshot"}}));
    tuf::Timestamp timestamp;
    timestamp.expires = ExpiresIn(clock, state.expires_days["timestamp"]);
    timestamp.snapshot_meta = Describe(snapshot_file, 1);
    WARDEN_ASSIGN_OR_RETURN(
        std::string timestamp_file,
        SignFile(tuf::ToJson(timestamp), Ptrs(signers["timestamp"]),
                 {{&root, "timestamp"}}));
    const std::string md = JoinPath(tmp, "metadata");
    WARDEN_TRY(platform::WriteNewFile(env, JoinPath(md, "1.root.json"),
                                      root_file, 0644));
    WARDEN_TRY(platform::WriteNewFile(env, JoinPath(md, "1.targets.json"),
                                      targets_file, 0644));
    WARDEN_TRY(platform::WriteNewFile(env, JoinPath(md, "1.snapshot.json"),
                                      snapshot_file, 0644));
    WARDEN_TRY(platform::WriteNewFile(env, JoinPath(md, "1.timestamp.json"),
                                      timestamp_file, 0644));
    WARDEN_TRY(platform::WriteNewFile(env, JoinPath(tmp, "repository.json"),
                                      StateJson(state), 0644));
    for (const char* sub : {"metadata", "keys", "targets"}) {
      WARDEN_TRY(env.SyncDir(JoinPath(tmp, sub)));
    }
    WARDEN_TRY(env.SyncDir(tmp));
    if (platform::Exists(env, repo)) WARDEN_TRY(env.RemoveDir(repo));
    WARDEN_TRY(env.Rename(tmp, repo));
    return env.SyncDir(platform::DirName(repo));
  };
  Status st = build();
  if (!st.ok()) platform::RemoveTree(env, tmp).IgnoreError();
  return st;
}

// ---- add --------------------------------------------------------------------

Status AddTarget(Env& env, const Clock& clock, const std::string& repo,
                 const std::string& image, const TargetSpec& spec,
                 const KeyAccess& access) {
  Tokens tokens;
  WARDEN_TRY(ValidateHardwareModel(spec.hardware_model));
  WARDEN_TRY(CompareVersionText(spec.version, spec.version).status());
  if (spec.min_from_version) {
    WARDEN_ASSIGN_OR_RETURN(
        int c, CompareVersionText(*spec.min_from_version, spec.version));
    if (c > 0) {
      return InvalidArgumentError("minimum version " + *spec.min_from_version +
                                  " is newer than the release " + spec.version);
    }
  }
  if (spec.support_until) {
    Result<WallTime> d = ParseDate(*spec.support_until);
    if (!d.ok()) {
      return InvalidArgumentError("support end " + *spec.support_until +
                                  ": not a date YYYY-MM-DD");
    }
  }
  Result<platform::FileInfo> info = env.Stat(image);
  if (!info.ok()) return info.status();
  if (info->type != platform::FileType::kRegular) {
    return InvalidArgumentError(image + " is not a regular file");
  }
  WARDEN_ASSIGN_OR_RETURN(auto lock, LockRepo(env, repo));
  WARDEN_ASSIGN_OR_RETURN(Loaded l, Load(env, repo));
  const std::string name = spec.hardware_model + ".img";
  if (auto it = l.targets.signed_.targets.find(name);
      it != l.targets.signed_.targets.end()) {
    const Json& old = it->second.custom;
    if (old.is_object() && old.contains("warden") &&
        old["warden"].is_object() && old["warden"].contains("version") &&
        old["warden"]["version"].is_string()) {
      const std::string published = old["warden"]["version"].get<std::string>();
      Result<int> c = CompareVersionText(spec.version, published);
      if (c.ok() && *c <= 0) {
        return RollbackError(name + ": version " + spec.version +
                             " is not newer than the published " + published);
      }
    }
  }
  // The image is copied in under a name of its own first: until the
  // commit nothing names it.
  const std::string staged = JoinPath(repo, "targets/" + name);
  WARDEN_ASSIGN_OR_RETURN(Copied c, CopyFile(env, image, staged));
  const std::string final_name = c.sha256 + "." + name;
  WARDEN_TRY(env.Rename(staged, JoinPath(repo, "targets/" + final_name)));
  WARDEN_TRY(env.SyncDir(JoinPath(repo, "targets")));

  tuf::Targets targets = l.targets.signed_;
  targets.version = l.state.versions["targets"] + 1;
  targets.expires = ExpiresIn(clock, l.state.expires_days["targets"]);
  tuf::TargetFile f;
  f.length = c.length;
  f.hashes["sha256"] = c.sha256;
  f.hashes["sha512"] = c.sha512;
  Json w{{"version", spec.version}, {"hardware_model", spec.hardware_model}};
  if (spec.min_from_version) w["min_from_version"] = *spec.min_from_version;
  if (spec.support_until) w["support_until"] = *spec.support_until;
  f.custom = Json{{"warden", w}};
  targets.targets[name] = f;

  Change change;
  change.state = l.state;
  WARDEN_ASSIGN_OR_RETURN(
      std::string targets_file,
      SignTargets(env, tokens, repo, l.root.signed_, targets, access));
  WARDEN_TRY(SignSnapshotAndTimestamp(
      env, tokens, clock, repo, l, l.root.signed_, targets_file,
      targets.version, l.state.expires_days, access, change));
  change.files[MetadataName("targets", targets.version)] = targets_file;
  change.state.versions["targets"] = targets.version;
  WARDEN_TRY(Commit(env, repo, change));
  CollectGarbage(env, repo, change.state, targets);
  return Status::Ok();
}

// ---- refresh ----------------------------------------------------------------

Status Refresh(Env& env, const Clock& clock, const std::string& repo,
               const std::map<std::string, int>& expires_days,
               const KeyAccess& access) {
  Tokens tokens;
  WARDEN_TRY(ValidateDays(expires_days));
  for (const auto& [role, d] : expires_days) {
    if (role != "snapshot" && role != "timestamp") {
      return InvalidArgumentError(
          "refresh signs snapshot and timestamp only, "
          "not " +
          role);
    }
  }
  WARDEN_ASSIGN_OR_RETURN(auto lock, LockRepo(env, repo));
  WARDEN_ASSIGN_OR_RETURN(Loaded l, Load(env, repo));
  std::map<std::string, int> days = l.state.expires_days;
  for (const auto& [role, d] : expires_days) days[role] = d;
  Change change;
  change.state = l.state;
  WARDEN_TRY(SignSnapshotAndTimestamp(
      env, tokens, clock, repo, l, l.root.signed_, l.targets_file,
      l.state.versions["targets"], days, access, change));
  WARDEN_TRY(Commit(env, repo, change));
  CollectGarbage(env, repo, change.state, l.targets.signed_);
  return Status::Ok();
}

// ---- resign -----------------------------------------------------------------

Status Resign(Env& env, const Clock& clock, const std::string& repo,
              const std::string& role, std::optional<int> expires_days,
              const KeyAccess& access) {
  Tokens tokens;
  if (!IsRole(role)) return InvalidArgumentError("unknown role " + role);
  if (expires_days) WARDEN_TRY(ValidateDays({{role, *expires_days}}));
  if (role == "snapshot" || role == "timestamp") {
    std::map<std::string, int> days;
    if (expires_days) days[role] = *expires_days;
    return Refresh(env, clock, repo, days, access);
  }
  WARDEN_ASSIGN_OR_RETURN(auto lock, LockRepo(env, repo));
  WARDEN_ASSIGN_OR_RETURN(Loaded l, Load(env, repo));
  const int days = expires_days.value_or(l.state.expires_days[role]);
  Change change;
  change.state = l.state;
  tuf::Root root = l.root.signed_;
  std::string targets_file = l.targets_file;
  if (role == "root") {
    if (access.root_keys_dir.empty()) {
      return InvalidArgumentError("signing root needs the root keys");
    }
    root.version += 1;
    root.expires = ExpiresIn(clock, days);
    WARDEN_ASSIGN_OR_RETURN(
        std::vector<Signer> signers,
        LoadSigners(env, tokens, access.root_keys_dir,
                    root.roles.at("root").keyids, access.pkcs11_pin, {}));
    WARDEN_ASSIGN_OR_RETURN(
        std::string root_file,
        SignFile(tuf::ToJson(root), Ptrs(signers),
                 {{&l.root.signed_, "root"}, {&root, "root"}}));
    change.files[MetadataName("root", root.version)] = root_file;
    change.state.versions["root"] = root.version;
  } else {
    tuf::Targets targets = l.targets.signed_;
    targets.version += 1;
    targets.expires = ExpiresIn(clock, days);
    WARDEN_ASSIGN_OR_RETURN(
        targets_file, SignTargets(env, tokens, repo, root, targets, access));
    change.files[MetadataName("targets", targets.version)] = targets_file;
    change.state.versions["targets"] = targets.version;
  }
  WARDEN_TRY(SignSnapshotAndTimestamp(
      env, tokens, clock, repo, l, root, targets_file,
      change.state.versions["targets"], l.state.expires_days, access, change));
  WARDEN_TRY(Commit(env, repo, change));
  CollectGarbage(env, repo, change.state, l.targets.signed_);
  return Status::Ok();
}

// ---- rotate -----------------------------------------------------------------

Status Rotate(Env& env, const Clock& clock, const std::string& repo,
              const RotateOptions& options, const KeyAccess& access) {
  Tokens tokens;
  if (!IsRole(options.role)) {
    return InvalidArgumentError("unknown role " + options.role);
  }
  if (access.root_keys_dir.empty()) {
    return InvalidArgumentError("a rotation needs the root keys");
  }
  WARDEN_ASSIGN_OR_RETURN(auto lock, LockRepo(env, repo));
  WARDEN_ASSIGN_OR_RETURN(Loaded l, Load(env, repo));
  const tuf::Root& old_root = l.root.signed_;
  const tuf::RoleKeys& role_keys = old_root.roles.at(options.role);
  std::string revoked;
  if (options.revoke) {
    auto it = std::find(role_keys.keyids.begin(), role_keys.keyids.end(),
                        *options.revoke);
    if (it == role_keys.keyids.end()) {
      return InvalidArgumentError(options.role + " has no key " +
                                  *options.revoke);
    }
    revoked = *options.revoke;
  } else if (role_keys.keyids.size() == 1) {
    revoked = role_keys.keyids[0];
  } else {
    return InvalidArgumentError(options.role +
                                " has several keys: name the one to replace "
                                "(--revoke KEYID)");
  }
  const bool is_root = options.role == "root";
  const std::string key_dir =
      is_root ? access.root_keys_dir : JoinPath(repo, "keys");
  const tuf::Key& old_key = old_root.keys.at(revoked);
  const crypto::KeyType type =
      old_key.verifier ? old_key.verifier->type() : crypto::KeyType::kEd25519;
  // Only the root's keys first: nothing is written before they are known
  // to reach the old root's threshold.
  WARDEN_ASSIGN_OR_RETURN(std::vector<Signer> old_signers,
                          LoadSigners(env, tokens, access.root_keys_dir,
                                      old_root.roles.at("root").keyids,
                                      access.pkcs11_pin, {revoked}));
  {
    std::vector<tuf::Signature> probe;
    const Json probe_json = tuf::ToJson(old_root);
    for (const Signer& s : old_signers) {
      WARDEN_TRY(tuf::Sign(probe_json, probe, s.key, s.keyid));
    }
    if (!tuf::VerifyThreshold(probe_json, probe, old_root.keys,
                              old_root.roles.at("root"), "root")
             .ok() &&
        !is_root) {
      return FailedPreconditionError(
          "root: " + std::to_string(old_signers.size()) + " of the " +
          std::to_string(old_root.roles.at("root").threshold) +
          " root keys needed are in " + access.root_keys_dir);
    }
  }
  Result<Signer> fresh =
      options.pkcs11 ? NewPkcs11Key(env, tokens, key_dir, *options.pkcs11,
                                    access.pkcs11_pin, true)
                     : NewFileKey(env, key_dir, type, true);
  WARDEN_TRY(fresh.status());
  if (std::count(role_keys.keyids.begin(), role_keys.keyids.end(),
                 fresh->keyid)) {
    return InvalidArgumentError(options.role + " has that key already");
  }

  tuf::Root root = old_root;
  root.version = old_root.version + 1;
  root.expires = ExpiresIn(clock, l.state.expires_days["root"]);
  tuf::RoleKeys& keys = root.roles[options.role];
  std::replace(keys.keyids.begin(), keys.keyids.end(), revoked, fresh->keyid);
  root.keys[fresh->keyid] = tuf::Key::FromPublicKey(fresh->key.public_key());
  bool still_used = false;
  for (const auto& [r, k] : root.roles) {
    still_used =
        still_used || std::count(k.keyids.begin(), k.keyids.end(), revoked) > 0;
  }
  if (!still_used) root.keys.erase(revoked);

  // Signed by the new root's keys and the old root's threshold; the
  // revoked key signs only when the old threshold cannot be met without
  // it (a 1-of-1 root replacing its own key).
  std::vector<std::string> wanted = old_root.roles.at("root").keyids;
  for (const std::string& id : root.roles.at("root").keyids) {
    if (std::find(wanted.begin(), wanted.end(), id) == wanted.end()) {
      wanted.push_back(id);
    }
  }
  WARDEN_ASSIGN_OR_RETURN(std::vector<Signer> root_signers,
                          LoadSigners(env, tokens, access.root_keys_dir, wanted,
                                      access.pkcs11_pin, {revoked}));
  const Json root_json = tuf::ToJson(root);
  Result<std::string> root_file = SignFile(
      root_json, Ptrs(root_signers), {{&old_root, "root"}, {&root, "root"}});
  if (!root_file.ok() && is_root) {
    WARDEN_ASSIGN_OR_RETURN(std::optional<Signer> r,
                            LoadSigner(env, tokens, access.root_keys_dir,
                                       revoked, access.pkcs11_pin));
    if (r) {
      root_signers.push_back(std::move(*r));
      root_file = SignFile(root_json, Ptrs(root_signers),
                           {{&old_root, "root"}, {&root, "root"}});
    }
  }
  if (!root_file.ok()) {
    env.Unlink(JoinPath(key_dir, fresh->keyid + ".pem")).IgnoreError();
    env.Unlink(JoinPath(key_dir, fresh->keyid + ".pkcs11.json")).IgnoreError();
    return root_file.status();
  }

  Change change;
  change.state = l.state;
  change.state.versions["root"] = root.version;
  change.files[MetadataName("root", root.version)] = *root_file;
  std::string targets_file = l.targets_file;
  uint64_t targets_version = l.state.versions["targets"];
  tuf::Targets targets = l.targets.signed_;
  if (options.role == "targets") {
    targets.version = targets_version + 1;
    targets.expires = ExpiresIn(clock, l.state.expires_days["targets"]);
    WARDEN_ASSIGN_OR_RETURN(
        targets_file, SignTargets(env, tokens, repo, root, targets, access));
    targets_version = targets.version;
    change.files[MetadataName("targets", targets_version)] = targets_file;
    change.state.versions["targets"] = targets_version;
  }
  WARDEN_TRY(SignSnapshotAndTimestamp(env, tokens, clock, repo, l, root,
                                      targets_file, targets_version,
                                      l.state.expires_days, access, change));
  WARDEN_TRY(Commit(env, repo, change));
  // The revoked key is of no use any more; a copy left on other media
  // signs nothing a client accepts.
  env.Unlink(JoinPath(key_dir, revoked + ".pem")).IgnoreError();
  env.Unlink(JoinPath(key_dir, revoked + ".pkcs11.json")).IgnoreError();
  CollectGarbage(env, repo, change.state, targets);
  return Status::Ok();
}

// ---- publish ----------------------------------------------------------------

namespace {

// Writes `bytes` to `path` unless it already holds exactly them.
Status PutFile(Env& env, const std::string& path, const std::string& bytes) {
  if (platform::Exists(env, path)) {
    Result<std::string> have = platform::ReadFile(env, path, bytes.size() + 1);
    if (have.ok() && *have == bytes) return Status::Ok();
  }
  return platform::WriteFileAtomic(env, path, bytes, 0644);
}

Status CheckRoot(const std::string& name, const tuf::Root& trusted,
                 const tuf::Metadata<tuf::Root>& root) {
  Status st =
      tuf::VerifyThreshold(root.signed_json, root.signatures, trusted.keys,
                           trusted.roles.at("root"), "root");
  if (!st.ok()) return FailedPreconditionError(name + ": " + st.message());
  return Status::Ok();
}

template <typename T>
Status CheckRole(const std::string& role, const tuf::Root& root,
                 const tuf::Metadata<T>& m) {
  Status st = tuf::VerifyThreshold(m.signed_json, m.signatures, root.keys,
                                   root.roles.at(role), role);
  if (!st.ok()) return FailedPreconditionError(role + ": " + st.message());
  return Status::Ok();
}

}  // namespace

Status Publish(Env& env, const std::string& repo, const std::string& out) {
  WARDEN_ASSIGN_OR_RETURN(auto lock, LockRepo(env, repo));
  WARDEN_ASSIGN_OR_RETURN(Loaded l, Load(env, repo));
  // What clients would refuse is not published.
  std::optional<tuf::Metadata<tuf::Root>> previous;
  for (const auto& [v, bytes] : l.root_files) {
    const std::string name = MetadataName("root", v);
    WARDEN_ASSIGN_OR_RETURN(tuf::Metadata<tuf::Root> r,
                            ParseOwn<tuf::Root>(name, bytes));
    if (previous) WARDEN_TRY(CheckRoot(name, previous->signed_, r));
    WARDEN_TRY(CheckRoot(name, r.signed_, r));
    previous = std::move(r);
  }
  const tuf::Root& root = l.root.signed_;
  WARDEN_TRY(CheckRole("targets", root, l.targets));
  WARDEN_TRY(CheckRole("snapshot", root, l.snapshot));
  WARDEN_TRY(CheckRole("timestamp", root, l.timestamp));

  const std::string md = JoinPath(out, "metadata");
  const std::string td = JoinPath(out, "targets");
  WARDEN_TRY(platform::MakeDirs(env, md, 0755));
  WARDEN_TRY(platform::MakeDirs(env, td, 0755));
  for (const auto& [name, f] : l.targets.signed_.targets) {
    const std::string file = f.hashes.at("sha256") + "." + name;
    const std::string dest = JoinPath(td, file);
    if (Result<platform::FileInfo> have = env.Stat(dest);
        have.ok() && have->size == f.length) {
      continue;
    }
    WARDEN_ASSIGN_OR_RETURN(
        Copied c, CopyFile(env, JoinPath(repo, "targets/" + file), dest));
    if (c.sha256 != f.hashes.at("sha256") || c.length != f.length) {
      env.Unlink(dest).IgnoreError();
      return DataLossError(repo + "/targets/" + file +
                           ": not the image the targets role signed");
    }
  }
  // A target found already there may be a name not yet durable (an
  // interrupted run): the directory is synced before metadata names it.
  WARDEN_TRY(env.SyncDir(td));
  for (const auto& [v, bytes] : l.root_files) {
    WARDEN_TRY(PutFile(env, JoinPath(md, MetadataName("root", v)), bytes));
  }
  WARDEN_TRY(
      PutFile(env, JoinPath(md, "root.json"), l.root_files.rbegin()->second));
  WARDEN_TRY(PutFile(
      env, JoinPath(md, MetadataName("targets", l.state.versions["targets"])),
      l.targets_file));
  WARDEN_TRY(PutFile(
      env, JoinPath(md, MetadataName("snapshot", l.state.versions["snapshot"])),
      l.snapshot_file));
  // Names found already there are made durable before the timestamp
  // names them, and the timestamp before this returns.
  WARDEN_TRY(env.SyncDir(md));
  WARDEN_TRY(PutFile(env, JoinPath(md, "timestamp.json"), l.timestamp_file));
  return env.SyncDir(md);
}

// ---- status -----------------------------------------------------------------

Result<RepositoryStatus> GetStatus(Env& env, const std::string& repo) {
  WARDEN_ASSIGN_OR_RETURN(Loaded l, Load(env, repo));
  RepositoryStatus s;
  const tuf::Root& root = l.root.signed_;
  auto role = [&](const std::string& name, const tuf::Common& c) {
    RoleStatus r;
    r.name = name;
    r.version = c.version;
    r.expires = c.expires;
    r.threshold = root.roles.at(name).threshold;
    r.keyids = root.roles.at(name).keyids;
    s.roles.push_back(r);
  };
  role("root", root);
  role("targets", l.targets.signed_);
  role("snapshot", l.snapshot.signed_);
  role("timestamp", l.timestamp.signed_);
  for (const auto& [name, f] : l.targets.signed_.targets) {
    s.targets.push_back(TargetStatus{name, f.length, f.hashes, f.custom});
  }
  return s;
}

Json ToJson(const RepositoryStatus& s) {
  Json roles = Json::object();
  for (const RoleStatus& r : s.roles) {
    roles[r.name] = Json{{"version", r.version},
                         {"expires", tuf::FormatExpires(r.expires)},
                         {"threshold", r.threshold},
                         {"keyids", r.keyids}};
  }
  Json targets = Json::object();
  for (const TargetStatus& t : s.targets) {
    Json j{{"length", t.length}, {"hashes", t.hashes}};
    if (!t.custom.is_null()) j["custom"] = t.custom;
    targets[t.name] = j;
  }
  return Json{{"roles", roles}, {"targets", targets}};
}

}  // namespace warden::release
