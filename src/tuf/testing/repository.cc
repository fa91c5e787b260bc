#include "tuf/testing/repository.h"

#include <cstdlib>

#include "crypto/hash.h"
#include "platform/file.h"

namespace warden::tuf::testing {
namespace {

void Check(const Status& s) {
  if (!s.ok()) {
    fprintf(stderr, "test repository: %s\n", s.ToString().c_str());
    abort();
  }
}

MetaFile Describe(const std::string& bytes, uint64_t version, bool full) {
  MetaFile m;
  m.version = version;
  if (full) {
    m.length = bytes.size();
    m.hashes["sha256"] = HexEncode(crypto::Sha256(AsBytes(bytes)));
  }
  return m;
}

}  // namespace

Signer NewSigner(crypto::KeyType type) {
  Result<crypto::PrivateKey> key = crypto::PrivateKey::Generate(type);
  Check(key.status());
  Key pub = Key::FromPublicKey(key->public_key());
  return Signer{pub.Id(), *key, pub};
}

Repository::Repository(WallTime now, bool consistent_snapshot) {
  const WallTime expires =
      std::chrono::time_point_cast<std::chrono::seconds>(now) +
      std::chrono::hours(24 * 365);
  for (Common* c :
       std::initializer_list<Common*>{&root, &timestamp, &snapshot, &targets}) {
    c->expires = expires;
  }
  root.consistent_snapshot = consistent_snapshot;
  for (const char* role : {"root", "timestamp", "snapshot", "targets"}) {
    Signer s = NewSigner();
    root.keys[s.keyid] = s.public_key;
    root.roles[role] = RoleKeys{{s.keyid}, 1};
    signers[role] = {s};
  }
  PublishRoot();
  Publish();
}

std::string Repository::Signed(const std::string& role) {
  return Signed(role, signers[role]);
}

std::string Repository::Signed(const std::string& role,
                               const std::vector<Signer>& by) {
  Json j;
  if (role == "root") {
    j = ToJson(root);
  } else if (role == "timestamp") {
    j = ToJson(timestamp);
  } else if (role == "snapshot") {
    j = ToJson(snapshot);
  } else if (role == "targets") {
    j = ToJson(targets);
  } else {
    j = ToJson(delegated.at(role));
  }
  std::vector<Signature> sigs;
  for (const Signer& s : by) Check(Sign(j, sigs, s.key, s.keyid));
  Result<std::string> bytes = Serialize(j, sigs);
  Check(bytes.status());
  return *bytes;
}

void Repository::PublishRoot(const std::vector<Signer>& also) {
  std::vector<Signer> by = signers["root"];
  for (const Signer& s : also) {
    bool dup = false;
    for (const Signer& t : by) dup = dup || t.keyid == s.keyid;
    if (!dup) by.push_back(s);
  }
  files["metadata/" + std::to_string(root.version) + ".root.json"] =
      Signed("root", by);
}

void Repository::Publish(const std::set<std::string>& bump) {
  if (bump.count("targets")) ++targets.version;
  for (auto& [name, t] : delegated) {
    if (bump.count(name)) ++t.version;
  }
  ++snapshot.version;
  ++timestamp.version;
  auto put = [this](const std::string& role, uint64_t version) {
    std::string bytes = Signed(role);
    files["metadata/" + role + ".json"] = bytes;
    files["metadata/" + std::to_string(version) + "." + role + ".json"] = bytes;
    return bytes;
  };
  snapshot.meta.clear();
  snapshot.meta["targets.json"] =
      Describe(put("targets", targets.version), targets.version,
               meta_lengths_and_hashes);
  for (auto& [name, t] : delegated) {
    snapshot.meta[name + ".json"] =
        Describe(put(name, t.version), t.version, meta_lengths_and_hashes);
  }
  timestamp.snapshot_meta = Describe(put("snapshot", snapshot.version),
                                     snapshot.version, meta_lengths_and_hashes);
  files["metadata/timestamp.json"] = Signed("timestamp");
}

Signer Repository::RotateKey(const std::string& role) {
  Signer s = NewSigner();
  root.keys[s.keyid] = s.public_key;
  root.roles[role] = RoleKeys{{s.keyid}, 1};
  signers[role] = {s};
  return s;
}

void Repository::AddTarget(const std::string& role, const std::string& path,
                           const std::string& content) {
  TargetFile f;
  f.length = content.size();
  std::string hash = HexEncode(crypto::Sha256(AsBytes(content)));
  f.hashes["sha256"] = hash;
  (role == "targets" ? targets : delegated.at(role)).targets[path] = f;
  files["targets/" + path] = content;
  size_t slash = path.rfind('/');
  std::string prefixed =
      slash == std::string::npos
          ? hash + "." + path
          : path.substr(0, slash + 1) + hash + "." + path.substr(slash + 1);
  files["targets/" + prefixed] = content;
}

void Repository::AddImage(const std::string& model, const std::string& version,
                          const std::string& content,
                          const std::string& min_from_version,
                          const std::string& support_until) {
  const std::string path = model + ".img";
  AddTarget("targets", path, content);
  TargetFile& f = targets.targets[path];
  f.hashes["sha512"] =
      HexEncode(crypto::Digest(crypto::HashAlg::kSha512, AsBytes(content)));
  Json warden = {{"version", version}, {"hardware_model", model}};
  if (!min_from_version.empty()) warden["min_from_version"] = min_from_version;
  if (!support_until.empty()) warden["support_until"] = support_until;
  f.custom = Json{{"warden", warden}};
}

Status Repository::WriteTo(const std::string& dir) const {
  platform::Env& env = platform::DefaultEnv();
  for (const char* sub : {"metadata", "targets"}) {
    WARDEN_TRY(platform::MakeDirs(env, platform::JoinPath(dir, sub), 0755));
  }
  for (const auto& [name, bytes] : files) {
    const std::string path = platform::JoinPath(dir, name);
    WARDEN_TRY(platform::MakeDirs(env, platform::DirName(path), 0755));
    WARDEN_TRY(platform::WriteFileAtomic(env, path, bytes, 0644));
  }
  auto newest =
      files.find("metadata/" + std::to_string(root.version) + ".root.json");
  if (newest == files.end()) return NotFoundError("no root published");
  return platform::WriteFileAtomic(
      env, platform::JoinPath(dir, "metadata/root.json"), newest->second, 0644);
}

void Repository::Delegate(const std::string& parent, DelegatedRole role,
                          size_t keys) {
  Targets& p = parent == "targets" ? targets : delegated.at(parent);
  if (!p.delegations) p.delegations = Delegations{};
  role.keys.keyids.clear();
  std::vector<Signer> by;
  for (size_t i = 0; i < keys; ++i) {
    Signer s = NewSigner();
    p.delegations->keys[s.keyid] = s.public_key;
    role.keys.keyids.push_back(s.keyid);
    by.push_back(s);
  }
  signers[role.name] = by;
  Targets t;
  t.expires = targets.expires;
  delegated[role.name] = t;
  p.delegations->roles.push_back(std::move(role));
}

Result<std::string> RepositoryFetcher::Lookup(const std::string& url,
                                              uint64_t max_length) {
  requests.push_back(url);
  std::string rel;
  for (const char* base : {kMetadataUrl, kTargetsUrl}) {
    std::string b = std::string(base) + "/";
    if (url.compare(0, b.size(), b) == 0) {
      rel = (base == kMetadataUrl ? "metadata/" : "targets/") +
            url.substr(b.size());
    }
  }
  if (endless.count(rel)) {
    // An unending body: the transfer stops once the limit is passed.
    bytes_delivered += max_length + 1;
    return ResourceExhaustedError(url + ": body over " +
                                  std::to_string(max_length) + " bytes");
  }
  auto it = repo_.files.find(rel);
  if (rel.empty() || it == repo_.files.end()) {
    return NotFoundError(url + ": HTTP 404");
  }
  if (it->second.size() > max_length) {
    bytes_delivered += max_length + 1;
    return ResourceExhaustedError(url + ": body over " +
                                  std::to_string(max_length) + " bytes");
  }
  bytes_delivered += it->second.size();
  return it->second;
}

Result<std::string> RepositoryFetcher::Fetch(const std::string& url,
                                             size_t max_length) {
  return Lookup(url, max_length);
}

Status RepositoryFetcher::FetchTo(const std::string& url, uint64_t max_length,
                                  ByteSink& sink) {
  WARDEN_ASSIGN_OR_RETURN(std::string body, Lookup(url, max_length));
  // In pieces, as a network would deliver them.
  for (size_t off = 0; off < body.size(); off += 1000) {
    WARDEN_TRY(sink.Write(AsBytes(std::string_view(body).substr(off, 1000))));
  }
  return Status::Ok();
}

}  // namespace warden::tuf::testing
