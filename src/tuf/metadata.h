// The TUF 1.0 metadata model: root, timestamp, snapshot and targets (with
// delegations), parsed from untrusted bytes and written back as canonical
// JSON, signed.
//
// Parsing goes in a fixed order so that a hostile file costs little: the
// size limit before anything is read into a JSON value, the JSON limits
// while parsing, the JSON Schema of the role before any field is used, and
// only then the fields. Signatures are not looked at here: VerifyThreshold()
// does that against the delegating role, and the client (updater.h) decides
// which role delegates.
//
// Unrecognised fields are kept: a signature covers the canonical form of
// the "signed" object exactly as it arrived (Envelope::signed_json), not of
// what this model understood of it.
#ifndef WARDEN_TUF_METADATA_H_
#define WARDEN_TUF_METADATA_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "schema/json.h"
#include "tuf/error.h"

namespace warden::tuf {

using schema::Json;

enum class RoleType { kRoot, kTimestamp, kSnapshot, kTargets };

// "root", "timestamp", "snapshot", "targets".
std::string_view RoleTypeName(RoleType type);

// A public key as TUF writes it. Supported: keytype "ed25519" with scheme
// "ed25519" (public key in hex), and keytype "ecdsa" or
// "ecdsa-sha2-nistp256" with scheme "ecdsa-sha2-nistp256" (public key as
// SubjectPublicKeyInfo PEM), and keytype "rsa" with scheme
// "rsassa-pss-sha256" (PEM; verification only). Any other key parses, but
// no signature by it counts.
struct Key {
  std::string keytype;
  std::string scheme;
  std::string public_value;                   // keyval.public
  Json raw;                                   // the key object as it arrived
  std::optional<crypto::PublicKey> verifier;  // ed25519 and P-256
  bool rsa_pss = false;  // an RSA key: public_value is its PEM

  // Whether `signature` by this key is valid over `data`. kBadSignature
  // when not, or when the key is not one we support.
  Status Verify(ByteView data, ByteView signature) const;

  // The TUF form of `key`: ed25519 as hex, P-256 as PEM.
  static Key FromPublicKey(const crypto::PublicKey& key);
  Json ToJson() const;
  // The key ID: hex SHA-256 of the canonical JSON of ToJson().
  std::string Id() const;
};

struct RoleKeys {
  std::vector<std::string> keyids;  // distinct
  uint64_t threshold = 1;           // at least 1
};

// What the signed part of every role has.
struct Common {
  std::string spec_version = "1.0.31";
  uint64_t version = 1;  // at least 1
  WallTime expires;      // whole seconds, UTC
  bool IsExpired(WallTime now) const { return now >= expires; }
};

struct Root : Common {
  static constexpr RoleType kType = RoleType::kRoot;
  bool consistent_snapshot = false;
  std::map<std::string, Key> keys;
  std::map<std::string, RoleKeys> roles;  // exactly the four top roles
};

// A metadata file as snapshot and timestamp describe it.
struct MetaFile {
  uint64_t version = 1;
  std::optional<uint64_t> length;
  std::map<std::string, std::string> hashes;  // algorithm -> hex; may be empty
};

struct Timestamp : Common {
  static constexpr RoleType kType = RoleType::kTimestamp;
  MetaFile snapshot_meta;  // meta["snapshot.json"]
};

struct Snapshot : Common {
  static constexpr RoleType kType = RoleType::kSnapshot;
  std::map<std::string, MetaFile> meta;  // "targets.json", "<role>.json"
};

struct TargetFile {
  uint64_t length = 0;
  std::map<std::string, std::string> hashes;  // at least one
  Json custom;                                // null when absent
};

struct DelegatedRole {
  std::string name;
  RoleKeys keys;
  bool terminating = false;
  // Exactly one of the two is set.
  std::optional<std::vector<std::string>> paths;
  std::optional<std::vector<std::string>> path_hash_prefixes;

  // Whether this role is trusted for `target_path`: a path pattern matches
  // segment by segment ('/' separated, same number of segments, each as
  // fnmatch with '*', '?' and [...]), a hash prefix is a prefix of the hex
  // SHA-256 of the path.
  bool IsDelegatedPath(std::string_view target_path) const;
};

struct Delegations {
  std::map<std::string, Key> keys;
  std::vector<DelegatedRole> roles;  // in the order given: the search order
};

struct Targets : Common {
  static constexpr RoleType kType = RoleType::kTargets;
  std::map<std::string, TargetFile> targets;
  std::optional<Delegations> delegations;
};

struct Signature {
  std::string keyid;
  std::string sig;  // hex
};

// A parsed metadata file: the model of its signed part, the signed part as
// it arrived, and its signatures (distinct key IDs).
template <typename T>
struct Metadata {
  T signed_;
  Json signed_json;
  std::vector<Signature> signatures;
};

// Limits on one metadata file. `max_bytes` is checked before parsing.
struct ParseLimits {
  size_t max_bytes = 512 * 1024;
  int max_depth = 32;
  size_t max_items = 100000;  // per object or array
};

// Parses a metadata file of role type T (Root, Timestamp, Snapshot,
// Targets). Errors: kTooLarge over `limits.max_bytes`; kWrongType when
// "_type" is another role; kMalformed for anything else (not JSON, schema
// violation, unsupported spec_version, duplicate signature key IDs,
// delegation rules broken).
template <typename T>
Result<Metadata<T>> Parse(std::string_view bytes,
                          const ParseLimits& limits = {});

// Verifies that `signed_json` carries at least `role.threshold` valid
// signatures by distinct keys of `role`, whose keys are looked up in
// `keys`. kThreshold (naming the count) otherwise.
Status VerifyThreshold(const Json& signed_json,
                       const std::vector<Signature>& signatures,
                       const std::map<std::string, Key>& keys,
                       const RoleKeys& role, std::string_view role_name);

// The signed part of T as JSON (unrecognised fields are not kept: this is
// for metadata we make).
Json ToJson(const Root& root);
Json ToJson(const Timestamp& timestamp);
Json ToJson(const Snapshot& snapshot);
Json ToJson(const Targets& targets);

// New metadata for `signed_`: signed_json from the model, no signatures.
template <typename T>
Metadata<T> MakeMetadata(T signed_) {
  Json j = ToJson(signed_);
  return Metadata<T>{std::move(signed_), std::move(j), {}};
}

// Adds a signature by `key` under `keyid` over the canonical form of
// `signed_json` (replacing one under the same key ID). kInvalidArgument
// when signed_json has no canonical form; the key's own errors.
Status Sign(const Json& signed_json, std::vector<Signature>& signatures,
            const crypto::PrivateKey& key, const std::string& keyid);
template <typename T>
Status Sign(Metadata<T>& metadata, const crypto::PrivateKey& key,
            const std::string& keyid) {
  return Sign(metadata.signed_json, metadata.signatures, key, keyid);
}

// The file: compact JSON of {"signatures": [...], "signed": ...}, keys
// sorted. kInvalidArgument for a string that is not UTF-8.
Result<std::string> Serialize(const Json& signed_json,
                              const std::vector<Signature>& signatures);
template <typename T>
Result<std::string> Serialize(const Metadata<T>& metadata) {
  return Serialize(metadata.signed_json, metadata.signatures);
}

// "YYYY-MM-DDThh:mm:ssZ" <-> time.
Result<WallTime> ParseExpires(std::string_view text);
std::string FormatExpires(WallTime t);

// Whether `hashes` lists only supported algorithms ("sha256", "sha512")
// and each matches `data`: kHashMismatch otherwise (an unsupported or
// malformed entry is a mismatch too: it cannot be checked).
Status CheckHashes(ByteView data,
                   const std::map<std::string, std::string>& hashes);

}  // namespace warden::tuf

#endif  // WARDEN_TUF_METADATA_H_
