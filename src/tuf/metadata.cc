#include "tuf/metadata.h"

#include <cstdlib>
#include <set>
#include <utility>

#include "base/bytes.h"
#include "base/time_format.h"
#include "crypto/hash.h"
#include "schema/schema.h"
#include "tuf/canonical_json.h"

namespace warden::tuf {
namespace {

// ---- schemas ---------------------------------------------------------------

Json Str() { return Json{{"type", "string"}}; }
Json Int(int minimum) {
  return Json{{"type", "integer"}, {"minimum", minimum}};
}
Json Bool() { return Json{{"type", "boolean"}}; }
Json StrArray(bool unique) {
  Json j{{"type", "array"}, {"items", Str()}};
  if (unique) j["uniqueItems"] = true;
  return j;
}
Json Obj(Json properties, std::vector<std::string> required) {
  return Json{{"type", "object"},
              {"properties", std::move(properties)},
              {"required", std::move(required)}};
}
Json MapOf(Json value, int min_properties = 0) {
  Json j{{"type", "object"}, {"additionalProperties", std::move(value)}};
  if (min_properties > 0) j["minProperties"] = min_properties;
  return j;
}

Json KeySchema() {
  return Obj({{"keytype", Str()},
              {"scheme", Str()},
              {"keyval", Obj({{"public", Str()}}, {"public"})}},
             {"keytype", "scheme", "keyval"});
}
Json RoleKeysSchema() {
  return Obj({{"keyids", StrArray(true)}, {"threshold", Int(1)}},
             {"keyids", "threshold"});
}
Json HashesSchema() { return MapOf(Str(), 1); }
Json MetaFileSchema() {
  return Obj(
      {{"version", Int(1)}, {"length", Int(0)}, {"hashes", HashesSchema()}},
      {"version"});
}

Json SignedSchema(RoleType type) {
  Json props{{"_type", Str()},
             {"spec_version", Str()},
             {"version", Int(1)},
             {"expires",
              {{"type", "string"},
               {"pattern",
                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"}}}};
  std::vector<std::string> required = {"_type", "spec_version", "version",
                                       "expires"};
  switch (type) {
    case RoleType::kRoot:
      props["consistent_snapshot"] = Bool();
      props["keys"] = MapOf(KeySchema());
      props["roles"] = MapOf(RoleKeysSchema());
      required.push_back("keys");
      required.push_back("roles");
      break;
    case RoleType::kTimestamp:
      props["meta"] =
          Obj({{"snapshot.json", MetaFileSchema()}}, {"snapshot.json"});
      required.push_back("meta");
      break;
    case RoleType::kSnapshot:
      props["meta"] = MapOf(MetaFileSchema());
      required.push_back("meta");
      break;
    case RoleType::kTargets: {
      props["targets"] = MapOf(
          Obj({{"length", Int(0)}, {"hashes", HashesSchema()}, {"custom", {}}},
              {"length", "hashes"}));
      Json role = Obj({{"name", Str()},
                       {"keyids", StrArray(true)},
                       {"threshold", Int(1)},
                       {"terminating", Bool()},
                       {"paths", StrArray(false)},
                       {"path_hash_prefixes", StrArray(false)}},
                      {"name", "keyids", "threshold"});
      props["delegations"] =
          Obj({{"keys", MapOf(KeySchema())},
               {"roles", {{"type", "array"}, {"items", role}}}},
              {"keys", "roles"});
      required.push_back("targets");
      break;
    }
  }
  // An empty schema for "custom" is written as {} above; nlohmann turns
  // {} into null, so put the object back.
  if (type == RoleType::kTargets) {
    props["targets"]["additionalProperties"]["properties"]["custom"] =
        Json::object();
  }
  return Json{{"type", "object"},
              {"required", {"signatures", "signed"}},
              {"properties",
               {{"signatures",
                 {{"type", "array"},
                  {"items",
                   Obj({{"keyid", Str()}, {"sig", Str()}}, {"keyid", "sig"})}}},
                {"signed", Obj(std::move(props), std::move(required))}}}};
}

const schema::Schema& SchemaFor(RoleType type) {
  // Compiled once, on first use, by a thread-safe static; never freed.
  static const schema::Schema* const* schemas = [] {
    static const schema::Schema* all[4];
    schema::SchemaLimits limits;
    limits.max_keywords = 1024;
    limits.max_depth = 16;
    for (RoleType t : {RoleType::kRoot, RoleType::kTimestamp,
                       RoleType::kSnapshot, RoleType::kTargets}) {
      Result<schema::Schema> compiled =
          schema::Schema::Compile(SignedSchema(t), limits);
      // The schemas are ours: one that does not compile is a bug that
      // every test parsing metadata catches.
      if (!compiled.ok()) std::abort();
      all[static_cast<int>(t)] =
          new schema::Schema(std::move(compiled).value());
    }
    return all;
  }();
  return *schemas[static_cast<int>(type)];
}

Status Malformed(std::string_view what) {
  return TufError(Error::kMalformed, what);
}

// ---- fields ----------------------------------------------------------------

Key KeyFromJson(const Json& j) {
  Key key;
  key.keytype = j["keytype"].get<std::string>();
  key.scheme = j["scheme"].get<std::string>();
  key.public_value = j["keyval"]["public"].get<std::string>();
  key.raw = j;
  if (key.keytype == "ed25519" && key.scheme == "ed25519") {
    Result<Bytes> raw = HexDecode(key.public_value);
    if (raw.ok()) {
      Result<crypto::PublicKey> pk =
          crypto::PublicKey::FromRaw(crypto::KeyType::kEd25519, *raw);
      if (pk.ok()) key.verifier = *pk;
    }
  } else if ((key.keytype == "ecdsa" || key.keytype == "ecdsa-sha2-nistp256") &&
             key.scheme == "ecdsa-sha2-nistp256") {
    Result<crypto::PublicKey> pk = crypto::PublicKey::FromPem(key.public_value);
    if (pk.ok() && pk->type() == crypto::KeyType::kEcdsaP256) {
      key.verifier = *pk;
    }
  } else if (key.keytype == "rsa" && key.scheme == "rsassa-pss-sha256") {
    key.rsa_pss = true;
  }
  return key;
}

std::map<std::string, Key> KeysFromJson(const Json& j) {
  std::map<std::string, Key> keys;
  for (const auto& [id, k] : j.items()) keys.emplace(id, KeyFromJson(k));
  return keys;
}

RoleKeys RoleKeysFromJson(const Json& j) {
  RoleKeys r;
  r.keyids = j["keyids"].get<std::vector<std::string>>();
  r.threshold = j["threshold"].get<uint64_t>();
  return r;
}

Result<MetaFile> MetaFileFromJson(const Json& j) {
  MetaFile m;
  m.version = j["version"].get<uint64_t>();
  if (j.contains("length")) m.length = j["length"].get<uint64_t>();
  if (j.contains("hashes")) {
    m.hashes = j["hashes"].get<std::map<std::string, std::string>>();
  }
  return m;
}

Status CommonFromJson(const Json& j, Common& c) {
  c.spec_version = j["spec_version"].get<std::string>();
  // "1.x" or "1.x.y", digits only: the major version is the one we speak.
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = c.spec_version.find('.', start);
    parts.push_back(c.spec_version.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  bool digits = parts.size() == 2 || parts.size() == 3;
  for (const std::string& p : parts) {
    if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos) {
      digits = false;
    }
  }
  if (!digits || parts[0] != "1") {
    return Malformed("unsupported spec_version \"" +
                     c.spec_version.substr(0, 32) + "\"");
  }
  c.version = j["version"].get<uint64_t>();
  WARDEN_ASSIGN_OR_RETURN(c.expires,
                          ParseExpires(j["expires"].get<std::string>()));
  return Status::Ok();
}

bool IsTopRole(std::string_view name) {
  return name == "root" || name == "timestamp" || name == "snapshot" ||
         name == "targets";
}

Status FromJson(const Json& j, Root& root) {
  WARDEN_TRY(CommonFromJson(j, root));
  if (j.contains("consistent_snapshot")) {
    root.consistent_snapshot = j["consistent_snapshot"].get<bool>();
  }
  root.keys = KeysFromJson(j["keys"]);
  for (const auto& [name, r] : j["roles"].items()) {
    if (!IsTopRole(name))
      return Malformed("root names a role \"" + name + "\"");
    root.roles.emplace(name, RoleKeysFromJson(r));
  }
  if (root.roles.size() != 4) {
    return Malformed("root must name root, timestamp, snapshot and targets");
  }
  return Status::Ok();
}

Status FromJson(const Json& j, Timestamp& ts) {
  WARDEN_TRY(CommonFromJson(j, ts));
  WARDEN_ASSIGN_OR_RETURN(ts.snapshot_meta,
                          MetaFileFromJson(j["meta"]["snapshot.json"]));
  return Status::Ok();
}

Status FromJson(const Json& j, Snapshot& s) {
  WARDEN_TRY(CommonFromJson(j, s));
  for (const auto& [name, m] : j["meta"].items()) {
    WARDEN_ASSIGN_OR_RETURN(MetaFile file, MetaFileFromJson(m));
    s.meta.emplace(name, std::move(file));
  }
  return Status::Ok();
}

Status FromJson(const Json& j, Targets& t) {
  WARDEN_TRY(CommonFromJson(j, t));
  for (const auto& [path, f] : j["targets"].items()) {
    TargetFile file;
    file.length = f["length"].get<uint64_t>();
    file.hashes = f["hashes"].get<std::map<std::string, std::string>>();
    if (f.contains("custom")) file.custom = f["custom"];
    t.targets.emplace(path, std::move(file));
  }
  if (j.contains("delegations")) {
    const Json& d = j["delegations"];
    Delegations del;
    del.keys = KeysFromJson(d["keys"]);
    std::set<std::string> names;
    for (const Json& r : d["roles"]) {
      DelegatedRole role;
      role.name = r["name"].get<std::string>();
      if (role.name.empty() || IsTopRole(role.name)) {
        return Malformed("a delegated role may not be called \"" + role.name +
                         "\"");
      }
      if (!names.insert(role.name).second) {
        return Malformed("delegated role \"" + role.name + "\" twice");
      }
      role.keys = RoleKeysFromJson(r);
      if (r.contains("terminating")) {
        role.terminating = r["terminating"].get<bool>();
      }
      if (r.contains("paths")) {
        role.paths = r["paths"].get<std::vector<std::string>>();
      }
      if (r.contains("path_hash_prefixes")) {
        role.path_hash_prefixes =
            r["path_hash_prefixes"].get<std::vector<std::string>>();
      }
      if (role.paths.has_value() == role.path_hash_prefixes.has_value()) {
        return Malformed("delegated role \"" + role.name +
                         "\" needs exactly one of paths and "
                         "path_hash_prefixes");
      }
      del.roles.push_back(std::move(role));
    }
    t.delegations = std::move(del);
  }
  return Status::Ok();
}

// fnmatch(3) without flags, on one path segment: '*' any run, '?' one
// character, [...] a set ('!' or '^' negates, a-z ranges).
bool MatchSegment(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0;
  size_t star_p = std::string_view::npos, star_i = 0;
  auto match_one = [&](size_t& pp, char c) -> int {
    // Returns 1 on a match, 0 on a miss; advances pp past the token.
    char pc = pat[pp];
    if (pc == '?') {
      ++pp;
      return 1;
    }
    if (pc == '[') {
      size_t q = pp + 1;
      bool negate = q < pat.size() && (pat[q] == '!' || pat[q] == '^');
      if (negate) ++q;
      size_t first = q;
      bool found = false;
      while (q < pat.size() && (pat[q] != ']' || q == first)) {
        if (q + 2 < pat.size() && pat[q + 1] == '-' && pat[q + 2] != ']') {
          if (pat[q] <= c && c <= pat[q + 2]) found = true;
          q += 3;
        } else {
          if (pat[q] == c) found = true;
          ++q;
        }
      }
      if (q >= pat.size()) {
        // No closing bracket: '[' is an ordinary character.
        ++pp;
        return c == '[' ? 1 : 0;
      }
      pp = q + 1;
      return found != negate ? 1 : 0;
    }
    ++pp;
    return pc == c ? 1 : 0;
  };
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star_p = p++;
      star_i = i;
      continue;
    }
    size_t next = p;
    if (p < pat.size() && match_one(next, s[i]) == 1) {
      p = next;
      ++i;
      continue;
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    i = ++star_i;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

std::vector<std::string_view> SplitSlash(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    parts.push_back(s.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

Json MetaFileToJson(const MetaFile& m) {
  Json j{{"version", m.version}};
  if (m.length) j["length"] = *m.length;
  if (!m.hashes.empty()) j["hashes"] = m.hashes;
  return j;
}

Json CommonToJson(const Common& c, RoleType type) {
  return Json{{"_type", RoleTypeName(type)},
              {"spec_version", c.spec_version},
              {"version", c.version},
              {"expires", FormatExpires(c.expires)}};
}

Json RoleKeysToJson(const RoleKeys& r) {
  return Json{{"keyids", r.keyids}, {"threshold", r.threshold}};
}

Json KeysToJson(const std::map<std::string, Key>& keys) {
  Json j = Json::object();
  for (const auto& [id, k] : keys) j[id] = k.ToJson();
  return j;
}

}  // namespace

std::string_view RoleTypeName(RoleType type) {
  switch (type) {
    case RoleType::kRoot:
      return "root";
    case RoleType::kTimestamp:
      return "timestamp";
    case RoleType::kSnapshot:
      return "snapshot";
    case RoleType::kTargets:
      return "targets";
  }
  return "";
}

Key Key::FromPublicKey(const crypto::PublicKey& pk) {
  Key key;
  if (pk.type() == crypto::KeyType::kEd25519) {
    key.keytype = "ed25519";
    key.scheme = "ed25519";
    key.public_value = HexEncode(pk.ToRaw());
  } else {
    key.keytype = "ecdsa";
    key.scheme = "ecdsa-sha2-nistp256";
    key.public_value = pk.ToPem();
  }
  key.verifier = pk;
  key.raw = key.ToJson();
  return key;
}

Status Key::Verify(ByteView data, ByteView signature) const {
  if (verifier) return verifier->Verify(data, signature);
  if (rsa_pss) {
    Status s = crypto::VerifyRsaPssSha256(public_value, data, signature);
    if (!s.ok() && s.code() != Code::kBadSignature) {
      return BadSignatureError("RSA key unusable: " + s.message());
    }
    return s;
  }
  return BadSignatureError("unsupported key type " + keytype.substr(0, 32) +
                           " / " + scheme.substr(0, 32));
}

Json Key::ToJson() const {
  if (!raw.is_null()) return raw;
  return Json{{"keytype", keytype},
              {"scheme", scheme},
              {"keyval", {{"public", public_value}}}};
}

std::string Key::Id() const {
  Result<std::string> c = EncodeCanonical(ToJson());
  return HexEncode(crypto::Sha256(AsBytes(c.ok() ? *c : std::string())));
}

bool DelegatedRole::IsDelegatedPath(std::string_view target_path) const {
  if (paths) {
    std::vector<std::string_view> target = SplitSlash(target_path);
    for (const std::string& pattern : *paths) {
      std::vector<std::string_view> pat = SplitSlash(pattern);
      if (pat.size() != target.size()) continue;
      bool all = true;
      for (size_t i = 0; i < pat.size() && all; ++i) {
        all = MatchSegment(pat[i], target[i]);
      }
      if (all) return true;
    }
    return false;
  }
  if (path_hash_prefixes) {
    std::string hash = HexEncode(crypto::Sha256(AsBytes(target_path)));
    for (const std::string& prefix : *path_hash_prefixes) {
      if (hash.compare(0, prefix.size(), prefix) == 0) return true;
    }
  }
  return false;
}

template <typename T>
Result<Metadata<T>> Parse(std::string_view bytes, const ParseLimits& limits) {
  const std::string_view role = RoleTypeName(T::kType);
  if (bytes.size() > limits.max_bytes) {
    return TufError(Error::kTooLarge, std::string(role) + " metadata of " +
                                          std::to_string(bytes.size()) +
                                          " bytes is over " +
                                          std::to_string(limits.max_bytes));
  }
  schema::JsonLimits jl;
  jl.max_bytes = limits.max_bytes;
  jl.max_depth = limits.max_depth;
  jl.max_string = limits.max_bytes;
  jl.max_items = limits.max_items;
  Result<Json> parsed = schema::ParseJson(bytes, jl);
  if (!parsed.ok()) {
    return Malformed(std::string(role) +
                     " metadata: " + parsed.status().message());
  }
  Json& doc = *parsed;
  // _type first, so that a file of another role says so rather than
  // failing this role's schema.
  if (doc.is_object() && doc.contains("signed") && doc["signed"].is_object() &&
      doc["signed"].contains("_type") && doc["signed"]["_type"].is_string() &&
      doc["signed"]["_type"].get<std::string>() != role) {
    return TufError(
        Error::kWrongType,
        "expected " + std::string(role) + " metadata, got \"" +
            doc["signed"]["_type"].get<std::string>().substr(0, 32) + "\"");
  }
  if (std::optional<schema::Violation> v = SchemaFor(T::kType).Check(doc)) {
    return Malformed(std::string(role) + " metadata at \"" + v->pointer +
                     "\": " + v->message);
  }
  Metadata<T> md;
  md.signed_json = std::move(doc["signed"]);
  if (!EncodeCanonical(md.signed_json).ok()) {
    return Malformed(std::string(role) +
                     " metadata holds a floating-point number");
  }
  std::set<std::string> seen;
  for (const Json& s : doc["signatures"]) {
    Signature sig{s["keyid"].get<std::string>(), s["sig"].get<std::string>()};
    if (!seen.insert(sig.keyid).second) {
      return Malformed(std::string(role) +
                       " metadata has two signatures by key " + sig.keyid);
    }
    md.signatures.push_back(std::move(sig));
  }
  Status st = FromJson(md.signed_json, md.signed_);
  if (!st.ok()) return st;
  return md;
}

template Result<Metadata<Root>> Parse<Root>(std::string_view,
                                            const ParseLimits&);
template Result<Metadata<Timestamp>> Parse<Timestamp>(std::string_view,
                                                      const ParseLimits&);
template Result<Metadata<Snapshot>> Parse<Snapshot>(std::string_view,
                                                    const ParseLimits&);
template Result<Metadata<Targets>> Parse<Targets>(std::string_view,
                                                  const ParseLimits&);

Status VerifyThreshold(const Json& signed_json,
                       const std::vector<Signature>& signatures,
                       const std::map<std::string, Key>& keys,
                       const RoleKeys& role, std::string_view role_name) {
  Result<std::string> canonical = EncodeCanonical(signed_json);
  if (!canonical.ok()) return Malformed(canonical.status().message());
  std::set<std::string> valid;
  for (const std::string& keyid : role.keyids) {
    auto key = keys.find(keyid);
    if (key == keys.end()) continue;
    for (const Signature& sig : signatures) {
      if (sig.keyid != keyid) continue;
      Result<Bytes> raw = HexDecode(sig.sig);
      if (raw.ok() && key->second.Verify(AsBytes(*canonical), *raw).ok()) {
        valid.insert(keyid);
      }
    }
  }
  if (valid.size() < role.threshold) {
    return TufError(Error::kThreshold, std::string(role_name) + " has " +
                                           std::to_string(valid.size()) +
                                           " valid signatures of the " +
                                           std::to_string(role.threshold) +
                                           " required");
  }
  return Status::Ok();
}

Json ToJson(const Root& root) {
  Json j = CommonToJson(root, RoleType::kRoot);
  j["consistent_snapshot"] = root.consistent_snapshot;
  j["keys"] = KeysToJson(root.keys);
  Json roles = Json::object();
  for (const auto& [name, r] : root.roles) roles[name] = RoleKeysToJson(r);
  j["roles"] = roles;
  return j;
}

Json ToJson(const Timestamp& ts) {
  Json j = CommonToJson(ts, RoleType::kTimestamp);
  j["meta"] = Json{{"snapshot.json", MetaFileToJson(ts.snapshot_meta)}};
  return j;
}

Json ToJson(const Snapshot& s) {
  Json j = CommonToJson(s, RoleType::kSnapshot);
  Json meta = Json::object();
  for (const auto& [name, m] : s.meta) meta[name] = MetaFileToJson(m);
  j["meta"] = meta;
  return j;
}

Json ToJson(const Targets& t) {
  Json j = CommonToJson(t, RoleType::kTargets);
  Json targets = Json::object();
  for (const auto& [path, f] : t.targets) {
    Json tf{{"length", f.length}, {"hashes", f.hashes}};
    if (!f.custom.is_null()) tf["custom"] = f.custom;
    targets[path] = tf;
  }
  j["targets"] = targets;
  if (t.delegations) {
    Json roles = Json::array();
    for (const DelegatedRole& r : t.delegations->roles) {
      Json rj = RoleKeysToJson(r.keys);
      rj["name"] = r.name;
      rj["terminating"] = r.terminating;
      if (r.paths) rj["paths"] = *r.paths;
      if (r.path_hash_prefixes)
        rj["path_hash_prefixes"] = *r.path_hash_prefixes;
      roles.push_back(rj);
    }
    j["delegations"] =
        Json{{"keys", KeysToJson(t.delegations->keys)}, {"roles", roles}};
  }
  return j;
}

Status Sign(const Json& signed_json, std::vector<Signature>& signatures,
            const crypto::PrivateKey& key, const std::string& keyid) {
  WARDEN_ASSIGN_OR_RETURN(std::string canonical, EncodeCanonical(signed_json));
  WARDEN_ASSIGN_OR_RETURN(Bytes sig, key.Sign(AsBytes(canonical)));
  Signature s{keyid, HexEncode(sig)};
  for (Signature& existing : signatures) {
    if (existing.keyid == keyid) {
      existing = std::move(s);
      return Status::Ok();
    }
  }
  signatures.push_back(std::move(s));
  return Status::Ok();
}

Result<std::string> Serialize(const Json& signed_json,
                              const std::vector<Signature>& signatures) {
  Json sigs = Json::array();
  for (const Signature& s : signatures) {
    sigs.push_back(Json{{"keyid", s.keyid}, {"sig", s.sig}});
  }
  // The file is plain JSON (control characters escaped, which canonical
  // JSON does not do); only the signatures are over the canonical form.
  try {
    return Json{{"signatures", sigs}, {"signed", signed_json}}.dump();
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("metadata is not valid JSON: ") +
                                e.what());
  }
}

Result<WallTime> ParseExpires(std::string_view s) {
  const Status bad = Malformed("expires \"" + std::string(s.substr(0, 32)) +
                               "\" is not YYYY-MM-DDThh:mm:ssZ");
  if (s.size() != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s[19] != 'Z') {
    return bad;
  }
  Result<WallTime> day = ParseDate(s.substr(0, 10));
  if (!day.ok()) return bad;
  auto two = [&](size_t pos) {
    if (s[pos] < '0' || s[pos] > '9' || s[pos + 1] < '0' || s[pos + 1] > '9') {
      return -1;
    }
    return (s[pos] - '0') * 10 + (s[pos + 1] - '0');
  };
  int h = two(11), m = two(14), sec = two(17);
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59) return bad;
  return *day + std::chrono::hours(h) + std::chrono::minutes(m) +
         std::chrono::seconds(sec);
}

std::string FormatExpires(WallTime t) { return FormatTimestamp(t); }

Status CheckHashes(ByteView data,
                   const std::map<std::string, std::string>& hashes) {
  for (const auto& [alg, hex] : hashes) {
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
    if (!want.ok() || *want != crypto::Digest(a, data)) {
      return TufError(Error::kHashMismatch, alg + " does not match");
    }
  }
  return Status::Ok();
}

}  // namespace warden::tuf
