// The TUF 1.0 client workflow (specification section 5), after python-tuf's
// ngclient: refresh the top-level metadata from a repository, then find
// and download targets, each checked against what the trusted roles signed.
//
// Order of a refresh (5.2 to 5.6):
//   root       every intermediate version N+1, N+2, ... is fetched until the
//              repository has no next one (or max_root_rotations), each
//              signed by the threshold of the trusted root and of itself,
//              its version exactly one more; then the final root must not
//              be expired. When the timestamp or snapshot keys changed, the
//              local timestamp and snapshot are deleted (fast-forward
//              recovery, 5.3.11).
//   timestamp  signed by the root's timestamp keys, no rollback of its
//              version or of the snapshot version it names, not expired. A
//              remote timestamp equal in version to the trusted one is
//              ignored.
//   snapshot   a valid local copy is used as is; otherwise fetched (named
//              "N.snapshot.json" with consistent snapshots), checked against
//              the timestamp's length and hashes, signed, no role in the old
//              snapshot missing or rolled back, its version the one the
//              timestamp names, not expired.
//   targets    likewise against the snapshot; delegated roles are loaded
//              when a target is looked up, in preorder depth-first order.
// The local copy of each file is replaced (atomically, on the Env) only once
// that file has passed every check; a file that fails is never written, so
// a refresh that fails keeps every file it did not get to, byte for byte.
// This is the spec's order and python-tuf's: a new root that verified is
// kept even when a later role fails.
//
// Every check has its own failure (error.h): kExpired, kRollback,
// kThreshold, kBadVersion, kLengthMismatch, kHashMismatch, kTooLarge,
// kMalformed, kWrongType, kMissingRole, kFetchFailed, kTargetNotFound,
// kDelegationLimit, kStorage, kState.
//
// Not thread-safe. The Env, Clock and Fetcher must outlive the Updater.
#ifndef WARDEN_TUF_UPDATER_H_
#define WARDEN_TUF_UPDATER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "platform/env.h"
#include "tuf/fetcher.h"
#include "tuf/metadata.h"

namespace warden::tuf {

struct UpdaterOptions {
  // Root versions followed in one refresh.
  int max_root_rotations = 256;
  // Delegated roles (targets included) visited to find one target, and
  // how deep the search goes below the top-level targets role.
  int max_delegations = 32;
  int max_delegation_depth = 32;
  // Size limits for files whose length no signed metadata gives (root and
  // timestamp always; snapshot and targets when the length is not listed).
  // With room over what a real repository needs; an endless-data attack
  // stops at the limit.
  size_t root_max_length = 512 * 1024;
  size_t timestamp_max_length = 16 * 1024;
  size_t snapshot_max_length = 2000 * 1000;
  size_t targets_max_length = 5000 * 1000;
  // With consistent snapshots, targets are fetched as "<hash>.<name>".
  bool prefix_targets_with_hash = true;
};

// A target as the trusted targets role that names it describes it.
struct TargetInfo {
  std::string path;
  TargetFile file;
};

// "name" percent-encoded with nothing left unencoded but A-Z a-z 0-9 and
// "_.-~" (Python's urllib.parse.quote(name, "")): how a role name becomes a
// file name and a URL segment, and a target path a file name.
std::string QuoteName(std::string_view name);

class Updater {
 public:
  // Stores `root_bytes` as the trusted root in `metadata_dir` (created when
  // missing), replacing whatever metadata was there. The root must parse
  // and carry its own threshold of signatures (kMalformed, kThreshold);
  // kStorage when it cannot be written.
  static Status Initialize(platform::Env& env, const std::string& metadata_dir,
                           std::string_view root_bytes,
                           const UpdaterOptions& options = {});

  // An updater over the trusted root in `metadata_dir`/root.json. The
  // metadata is fetched from `metadata_url` + "/" + name and targets from
  // `target_url` + "/" + path (a slash is added when missing). kStorage
  // when the root cannot be read; kMalformed or kThreshold when it is not
  // a root that signs itself.
  static Result<std::unique_ptr<Updater>> Open(
      platform::Env& env, const Clock& clock, Fetcher& fetcher,
      std::string metadata_dir, std::string metadata_url,
      std::string target_url, UpdaterOptions options = {});

  // The refresh described above; the clock is read once, at the start.
  Status Refresh();

  // The trusted description of `target_path`, searching delegations.
  // Refreshes first when no refresh has succeeded yet. kTargetNotFound when
  // no role names it; kDelegationLimit when the search stopped at a limit
  // before finding it; a delegated role's load failure as it happened.
  Result<TargetInfo> GetTargetInfo(std::string_view target_path);

  // Streams the target into `sink`, checking it against `info`: at most
  // info.file.length bytes are accepted (kTooLarge past it), then
  // kLengthMismatch when fewer came, kHashMismatch when a hash differs or
  // names an algorithm other than sha256 and sha512. What the sink got is
  // trusted only when this returns OK.
  Status DownloadTarget(const TargetInfo& info, ByteSink& sink);

  // Downloads the target to `path` atomically: a temporary file beside it
  // is renamed over `path` only once the target verified (and removed
  // otherwise). kStorage when it cannot be written.
  Status DownloadTargetToFile(const TargetInfo& info, const std::string& path);

  // Whether `path` already holds the target (length and every hash match).
  bool IsCached(const TargetInfo& info, const std::string& path);

  const Root& root() const { return root_.signed_; }
  // The trusted metadata of a role as of the last refresh (or lookup), or
  // null: "timestamp", "snapshot", "targets" and delegated role names.
  const Timestamp* timestamp() const {
    return timestamp_ ? &timestamp_->signed_ : nullptr;
  }
  const Snapshot* snapshot() const {
    return snapshot_ ? &snapshot_->signed_ : nullptr;
  }
  const Targets* targets(const std::string& role) const;

 private:
  Updater(platform::Env& env, const Clock& clock, Fetcher& fetcher,
          std::string metadata_dir, std::string metadata_url,
          std::string target_url, UpdaterOptions options, Metadata<Root> root);

  Status LoadRoot();
  Status LoadTimestamp();
  Status LoadSnapshot();
  Result<const Targets*> LoadTargets(const std::string& role,
                                     const std::string& parent);

  Status UpdateRoot(std::string_view bytes);
  // Sets *equal (and keeps the trusted timestamp) when the new one has the
  // trusted one's version.
  Status UpdateTimestamp(std::string_view bytes, bool* equal);
  Status UpdateSnapshot(std::string_view bytes, bool trusted_local);
  Status UpdateTargets(std::string_view bytes, const std::string& role,
                       const std::string& parent);

  Result<std::string> FetchMetadata(const std::string& name, size_t max_length);
  std::optional<std::string> ReadLocal(const std::string& role,
                                       size_t max_length);
  Status Persist(const std::string& role, std::string_view bytes);
  Status CheckFinalSnapshot() const;
  // The keys and threshold `parent` gives `role` ("root" for targets).
  Status DelegationOf(const std::string& role, const std::string& parent,
                      const std::map<std::string, Key>** keys,
                      const RoleKeys** role_keys) const;

  platform::Env& env_;
  const Clock& clock_;
  Fetcher& fetcher_;
  std::string dir_;
  std::string metadata_url_;
  std::string target_url_;
  UpdaterOptions options_;
  WallTime now_;
  bool refreshed_ = false;

  Metadata<Root> root_;
  std::optional<Metadata<Timestamp>> timestamp_;
  std::optional<Metadata<Snapshot>> snapshot_;
  std::map<std::string, Metadata<Targets>> targets_;
  // Which role's delegation each of targets_ was verified against: a role
  // reached again through another delegator is verified again.
  std::map<std::string, std::string> delegator_;
};

}  // namespace warden::tuf

#endif  // WARDEN_TUF_UPDATER_H_
