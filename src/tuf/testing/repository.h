// Test only (target warden_tuf_testing): a TUF repository the tests build,
// sign and tamper with, served through a Fetcher over memory.
//
// The repository holds the model of each role and the keys that sign it.
// Publish*() turns the model into signed files under "metadata/..." and
// "targets/..." in `files`, which is what the fetcher serves; a test may
// then change the model, the signers or the bytes of any file.
#ifndef WARDEN_TUF_TESTING_REPOSITORY_H_
#define WARDEN_TUF_TESTING_REPOSITORY_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "tuf/fetcher.h"
#include "tuf/metadata.h"

namespace warden::tuf::testing {

inline constexpr char kMetadataUrl[] = "https://repo.test/metadata";
inline constexpr char kTargetsUrl[] = "https://repo.test/targets";

struct Signer {
  std::string keyid;
  crypto::PrivateKey key;
  Key public_key;
};

Signer NewSigner(crypto::KeyType type = crypto::KeyType::kEd25519);

class Repository {
 public:
  // Version 1 of every role, one ed25519 key each, threshold 1, all
  // expiring a year after `now`; published.
  explicit Repository(WallTime now, bool consistent_snapshot = false);

  Root root;
  Timestamp timestamp;
  Snapshot snapshot;
  Targets targets;
  std::map<std::string, Targets> delegated;            // by role name
  std::map<std::string, std::vector<Signer>> signers;  // by role name
  // Served files: "metadata/1.root.json", "targets/a.txt", ...
  std::map<std::string, std::string> files;
  // Whether snapshot and timestamp list lengths and hashes of the files
  // they describe.
  bool meta_lengths_and_hashes = true;

  // The file a role's model makes, signed by `signers[role]` (or `by`).
  std::string Signed(const std::string& role);
  std::string Signed(const std::string& role, const std::vector<Signer>& by);

  // Publishes root as "metadata/<version>.root.json", signed by the root
  // signers and `also` (the previous root's keys during a rotation).
  void PublishRoot(const std::vector<Signer>& also = {});
  // Bumps the version of each role in `bump` (targets and delegated roles
  // by name; "snapshot" and "timestamp" are always bumped), then publishes
  // targets roles, snapshot and timestamp with consistent meta.
  void Publish(const std::set<std::string>& bump = {});
  // Replaces the root key set of `role` with one new signer.
  Signer RotateKey(const std::string& role);
  // Adds a target to `role` and its content to the served files.
  void AddTarget(const std::string& role, const std::string& path,
                 const std::string& content);
  // A firmware image as the release contract describes it (docs/
  // PROTOCOLS.md, "Update repository"): target "<model>.img" in the
  // top-level targets role, sha256 and sha512, custom.warden with the
  // version, the model and the optional fields (empty: left out).
  void AddImage(const std::string& model, const std::string& version,
                const std::string& content,
                const std::string& min_from_version = "",
                const std::string& support_until = "");
  // Writes every served file under `dir` (created), and the newest root
  // as "metadata/root.json" too, as `warden release publish` lays it out.
  Status WriteTo(const std::string& dir) const;

  // Delegates from `parent` to a new role with one new key.
  void Delegate(const std::string& parent, DelegatedRole role, size_t keys = 1);
};

// Serves `repo.files` for URLs under kMetadataUrl and kTargetsUrl. URLs in
// `endless` serve an unending stream of bytes instead. Records every URL
// asked for and the bytes delivered.
class RepositoryFetcher : public Fetcher {
 public:
  explicit RepositoryFetcher(Repository& repo) : repo_(repo) {}

  Result<std::string> Fetch(const std::string& url, size_t max_length) override;
  Status FetchTo(const std::string& url, uint64_t max_length,
                 ByteSink& sink) override;

  std::set<std::string> endless;  // paths relative to the repo, as in files
  std::vector<std::string> requests;
  uint64_t bytes_delivered = 0;

 private:
  Result<std::string> Lookup(const std::string& url, uint64_t max_length);
  Repository& repo_;
};

}  // namespace warden::tuf::testing

#endif  // WARDEN_TUF_TESTING_REPOSITORY_H_
