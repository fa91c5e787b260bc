// The maker's TUF repository: keys, the signed metadata of every role, the
// firmware images, and publishing them as the static tree a device reads
// (docs/RELEASES.md; the published layout is the contract in
// docs/PROTOCOLS.md, "Update repository").
//
// The working directory REPO holds:
//   repository.json            which version of each role is current, and
//                              the default expiry of each role: the one
//                              file whose atomic replacement commits a
//                              change
//   metadata/N.<role>.json     signed metadata (every root version; the
//                              current version of the other roles)
//   keys/<keyid>.pem           the online roles' private keys (PKCS#8, 0600)
//   keys/<keyid>.pkcs11.json   or where a key lives in a PKCS#11 token
//   targets/<sha256>.<name>    the images
// The root keys live elsewhere (the `root_keys_dir` of each call, an
// offline medium), as <keyid>.pem or <keyid>.pkcs11.json too.
//
// Every change writes its new files under names nothing current uses, then
// commits by replacing repository.json, so a crash at any point leaves the
// repository as it was or as it became; leftovers of an interrupted change
// are overwritten or removed by the next one. Files are written through the
// Env (platform/env.h), atomically. A change takes an flock on REPO/lock.
//
// Metadata is signed by every key of its role that is at hand, and a change
// is refused (kFailedPrecondition) unless that reaches the role's
// threshold: the repository never holds metadata a client would refuse.
//
// Not thread-safe; the Env and Clock must outlive each call.
#ifndef WARDEN_RELEASE_REPOSITORY_H_
#define WARDEN_RELEASE_REPOSITORY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "platform/env.h"
#include "schema/json.h"

namespace warden::release {

// The four top-level roles, in the order they are listed.
inline constexpr const char* kRoles[] = {"root", "targets", "snapshot",
                                         "timestamp"};

// A key that lives in a PKCS#11 token (ECDSA P-256 only).
struct Pkcs11Key {
  std::string module;  // path of the PKCS#11 module
  std::string token;   // token label
  std::string key;     // private key label
};

// What opens keys: the PIN of the PKCS#11 tokens named (the same for all),
// and the directory of the offline root keys when the call needs them.
struct KeyAccess {
  std::string root_keys_dir;
  std::string pkcs11_pin;  // wiped by the caller
};

struct InitOptions {
  // Per role; roles not named get the defaults: root 2 of 3, the others
  // 1 of 1. A threshold above the key count is kInvalidArgument.
  std::map<std::string, int> threshold;
  std::map<std::string, int> key_count;
  crypto::KeyType key_type = crypto::KeyType::kEd25519;
  // Days until each role's metadata expires; defaults root 365, targets 90,
  // snapshot 7, timestamp 1. Kept as the repository's defaults.
  std::map<std::string, int> expires_days;
  // Roles whose key is this one token key instead of new file keys (the
  // role then has that one key; its key count must be 1).
  std::map<std::string, Pkcs11Key> pkcs11;
};

// The custom fields of a firmware target (contract: "custom.warden").
struct TargetSpec {
  std::string hardware_model;  // ^[a-z0-9][a-z0-9-]{0,62}$
  std::string version;         // dotted numbers
  std::optional<std::string> min_from_version;
  std::optional<std::string> support_until;  // YYYY-MM-DD
};

// Creates the repository at `repo` (which must not exist, or be an empty
// directory: kAlreadyExists otherwise) with new keys and version 1 of every
// role; the root keys go to `access.root_keys_dir` (created 0700 when
// missing). kInvalidArgument for a bad role name, threshold, count or
// expiry; the token's errors for a PKCS#11 key.
Status Init(platform::Env& env, const Clock& clock, const std::string& repo,
            const InitOptions& options, const KeyAccess& access);

// Adds `image` (a regular file) as the target "<hardware_model>.img",
// replacing the model's earlier release, then signs targets, snapshot and
// timestamp. kInvalidArgument for a bad model name, version, minimum
// version or date, or an image that is not a regular file; kRollback for a
// version not newer than the one the model has.
Status AddTarget(platform::Env& env, const Clock& clock,
                 const std::string& repo, const std::string& image,
                 const TargetSpec& spec, const KeyAccess& access);

// New snapshot and timestamp (what a scheduled job runs before the
// timestamp expires). `expires_days` overrides the defaults for this run.
Status Refresh(platform::Env& env, const Clock& clock, const std::string& repo,
               const std::map<std::string, int>& expires_days,
               const KeyAccess& access);

// A new version of `role` with a new expiry (`expires_days`, or the
// repository's default), unchanged otherwise, then snapshot and timestamp:
// how targets and root are kept from expiring. Root needs the root keys
// (its new version signed by the threshold of the old one and its own).
// Signing snapshot or timestamp this way is Refresh. kInvalidArgument for
// a bad role or expiry.
Status Resign(platform::Env& env, const Clock& clock, const std::string& repo,
              const std::string& role, std::optional<int> expires_days,
              const KeyAccess& access);

struct RotateOptions {
  std::string role;
  // The key to replace; may be left out when the role has one key.
  std::optional<std::string> revoke;
  // The new key lives in this token instead of a new file.
  std::optional<Pkcs11Key> pkcs11;
};

// Replaces one key of a role with a new one: a new root lists it instead
// of the revoked key, signed by the threshold of the old root and of the
// new one (so that clients follow it), then the role itself (when not
// root), snapshot and timestamp are signed anew. Needs the root keys.
// kInvalidArgument for a bad role or a key ID the role does not have;
// kFailedPrecondition when too few root keys are at hand.
Status Rotate(platform::Env& env, const Clock& clock, const std::string& repo,
              const RotateOptions& options, const KeyAccess& access);

// Writes the published tree (the contract's OUT layout) into `out`:
// targets first, then root versions, targets and snapshot metadata, and
// the timestamp last, so that a mirror serving `out` while this runs never
// names a file it does not have yet. Files already there are kept (old
// versions stay for clients in the middle of a refresh); running it again
// changes nothing. Each role is checked against its threshold before
// anything is written (kFailedPrecondition).
Status Publish(platform::Env& env, const std::string& repo,
               const std::string& out);

struct RoleStatus {
  std::string name;
  uint64_t version = 0;
  WallTime expires;
  uint64_t threshold = 0;
  std::vector<std::string> keyids;
};

struct TargetStatus {
  std::string name;
  uint64_t length = 0;
  std::map<std::string, std::string> hashes;
  schema::Json custom;
};

struct RepositoryStatus {
  std::vector<RoleStatus> roles;  // root, targets, snapshot, timestamp
  std::vector<TargetStatus> targets;
};

// What the repository holds now. kNotFound when `repo` is no repository,
// kDataLoss when its files do not load.
Result<RepositoryStatus> GetStatus(platform::Env& env, const std::string& repo);
schema::Json ToJson(const RepositoryStatus& status);

// Limits and formats shared with the tests.
inline constexpr size_t kMaxMetadataBytes = 16 * 1024 * 1024;
Status ValidateHardwareModel(const std::string& model);

}  // namespace warden::release

#endif  // WARDEN_RELEASE_REPOSITORY_H_
