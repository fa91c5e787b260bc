#include "tuf/updater.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <string>

#include "crypto/hash.h"
#include "platform/fault_injection_env.h"
#include "platform/file.h"
#include "tuf/testing/repository.h"

namespace warden::tuf {
namespace {

using testing::kMetadataUrl;
using testing::kTargetsUrl;
using testing::Repository;
using testing::RepositoryFetcher;

constexpr auto kDay = std::chrono::hours(24);

class StringSink : public ByteSink {
 public:
  Status Write(ByteView bytes) override {
    data.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return Status::Ok();
  }
  std::string data;
};

class UpdaterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tuf_test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    meta_dir_ = dir_ + "/metadata";
    Init();
  }
  void TearDown() override {
    platform::RemoveTree(platform::DefaultEnv(), dir_).IgnoreError();
  }

  void Init(const std::string& root_file = "metadata/1.root.json") {
    ASSERT_TRUE(Updater::Initialize(platform::DefaultEnv(), meta_dir_,
                                    repo_.files[root_file])
                    .ok());
  }

  // A new client, as each run of the CLI is.
  std::unique_ptr<Updater> Client(platform::Env& env = platform::DefaultEnv()) {
    Result<std::unique_ptr<Updater>> u = Updater::Open(
        env, clock_, fetcher_, meta_dir_, kMetadataUrl, kTargetsUrl, options_);
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? std::move(u).value() : nullptr;
  }

  Status Refresh() {
    std::unique_ptr<Updater> u = Client();
    if (!u) return InternalError("no client");
    return u->Refresh();
  }
  Error RefreshError() { return ErrorOf(Refresh()); }

  Result<std::string> Download(const std::string& path) {
    std::unique_ptr<Updater> u = Client();
    if (!u) return InternalError("no client");
    WARDEN_ASSIGN_OR_RETURN(TargetInfo info, u->GetTargetInfo(path));
    StringSink sink;
    WARDEN_TRY(u->DownloadTarget(info, sink));
    return sink.data;
  }
  Error DownloadError(const std::string& path) {
    return ErrorOf(Download(path).status());
  }

  // The local metadata: file name -> bytes.
  std::map<std::string, std::string> Local() {
    std::map<std::string, std::string> out;
    Result<std::vector<std::string>> names =
        platform::DefaultEnv().ListDir(meta_dir_);
    if (!names.ok()) return out;
    for (const std::string& n : *names) {
      Result<std::string> b =
          platform::ReadFile(platform::JoinPath(meta_dir_, n), 1 << 24);
      out[n] = b.ok() ? *b : "<unreadable>";
    }
    return out;
  }

  uint64_t LocalVersion(const std::string& file) {
    Result<std::string> b =
        platform::ReadFile(platform::JoinPath(meta_dir_, file), 1 << 24);
    if (!b.ok()) return 0;
    Result<schema::Json> j = schema::ParseJson(*b, {.max_bytes = 1 << 24});
    return j.ok() ? (*j)["signed"]["version"].get<uint64_t>() : 0;
  }

  // A new root version, signed by the previous root's keys as well.
  void PublishNextRoot() {
    std::vector<testing::Signer> old = repo_.signers["root"];
    ++repo_.root.version;
    repo_.PublishRoot(old);
  }

  FakeClock clock_;
  Repository repo_{clock_.Now()};
  RepositoryFetcher fetcher_{repo_};
  UpdaterOptions options_;
  std::string dir_;
  std::string meta_dir_;
};

TEST_F(UpdaterTest, RefreshesAndDownloadsAVerifiedTarget) {
  repo_.AddTarget("targets", "firmware.bin", "image bytes");
  repo_.Publish({"targets"});
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(LocalVersion("timestamp.json"), repo_.timestamp.version);
  EXPECT_EQ(LocalVersion("targets.json"), 2u);
  Result<std::string> got = Download("firmware.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "image bytes");
}

TEST_F(UpdaterTest, DownloadToFileIsAtomicAndCached) {
  repo_.AddTarget("targets", "dir/app.bin", std::string(5000, 'a'));
  repo_.Publish({"targets"});
  std::unique_ptr<Updater> u = Client();
  Result<TargetInfo> info = u->GetTargetInfo("dir/app.bin");
  ASSERT_TRUE(info.ok());
  const std::string out = dir_ + "/" + QuoteName("dir/app.bin");
  EXPECT_FALSE(u->IsCached(*info, out));
  ASSERT_TRUE(u->DownloadTargetToFile(*info, out).ok());
  EXPECT_TRUE(u->IsCached(*info, out));
  // A tampered download leaves the verified file as it was.
  repo_.files["targets/dir/app.bin"] = std::string(5000, 'b');
  EXPECT_EQ(ErrorOf(u->DownloadTargetToFile(*info, out)), Error::kHashMismatch);
  EXPECT_EQ(*platform::ReadFile(out, 10000), std::string(5000, 'a'));
  EXPECT_FALSE(platform::Exists(out + ".part"));
}

// ---- the attack classes -----------------------------------------------------

TEST_F(UpdaterTest, ArbitrarySoftwareIsRefused) {
  repo_.AddTarget("targets", "firmware.bin", "good image");
  repo_.Publish({"targets"});
  // A mirror swaps the image for one of the same length.
  repo_.files["targets/firmware.bin"] = "evil image";
  EXPECT_EQ(DownloadError("firmware.bin"), Error::kHashMismatch);
  // ...or a shorter one.
  repo_.files["targets/firmware.bin"] = "good";
  EXPECT_EQ(DownloadError("firmware.bin"), Error::kLengthMismatch);
  // An attacker without the targets key signs metadata naming its image.
  repo_.AddTarget("targets", "firmware.bin", "evil image");
  repo_.signers["targets"] = {testing::NewSigner()};
  repo_.Publish({"targets"});
  EXPECT_EQ(DownloadError("firmware.bin"), Error::kThreshold);
}

TEST_F(UpdaterTest, RollbackOfEachRoleIsRefused) {
  repo_.Publish({"targets"});
  repo_.Publish({"targets"});
  ASSERT_TRUE(Refresh().ok());
  const std::map<std::string, std::string> trusted = Local();
  // An old timestamp, validly signed.
  std::string new_ts = repo_.files["metadata/timestamp.json"];
  repo_.timestamp.version = 1;
  repo_.files["metadata/timestamp.json"] = repo_.Signed("timestamp");
  EXPECT_EQ(RefreshError(), Error::kRollback);
  // A newer timestamp naming an older snapshot.
  repo_.timestamp.version = 10;
  repo_.timestamp.snapshot_meta.version = 1;
  repo_.files["metadata/timestamp.json"] = repo_.Signed("timestamp");
  EXPECT_EQ(RefreshError(), Error::kRollback);
  // A newer snapshot naming an older targets.
  repo_.snapshot.meta["targets.json"].version = 1;
  repo_.snapshot.meta["targets.json"].length.reset();
  repo_.snapshot.meta["targets.json"].hashes.clear();
  repo_.snapshot.version = 10;
  std::string snap = repo_.Signed("snapshot");
  repo_.files["metadata/snapshot.json"] = snap;
  repo_.timestamp.version = 11;
  repo_.timestamp.snapshot_meta.version = 10;
  repo_.timestamp.snapshot_meta.length = snap.size();
  repo_.timestamp.snapshot_meta.hashes = {
      {"sha256", HexEncode(crypto::Sha256(AsBytes(snap)))}};
  repo_.files["metadata/timestamp.json"] = repo_.Signed("timestamp");
  EXPECT_EQ(RefreshError(), Error::kRollback);
  EXPECT_EQ(Local()["snapshot.json"], trusted.at("snapshot.json"));
  EXPECT_EQ(Local()["targets.json"], trusted.at("targets.json"));
}

TEST_F(UpdaterTest, IndefiniteFreezeIsRefusedByExpiry) {
  ASSERT_TRUE(Refresh().ok());
  // The repository (or a mirror) keeps serving what it served, and time
  // passes the timestamp's expiry.
  repo_.timestamp.expires = clock_.Now() + kDay;
  repo_.Publish();
  ASSERT_TRUE(Refresh().ok());
  clock_.Advance(2 * kDay);
  EXPECT_EQ(RefreshError(), Error::kExpired);
}

TEST_F(UpdaterTest, EachExpiredRoleIsRefusedWithTheInjectedClock) {
  ASSERT_TRUE(Refresh().ok());
  const WallTime soon =
      std::chrono::time_point_cast<std::chrono::seconds>(clock_.Now()) + kDay;
  repo_.snapshot.expires = soon;
  repo_.Publish();
  ASSERT_TRUE(Refresh().ok());
  clock_.Advance(kDay);  // exactly at expiry: expired
  EXPECT_EQ(RefreshError(), Error::kExpired);
  repo_.snapshot.expires = soon + 30 * kDay;
  repo_.targets.expires = soon;
  repo_.Publish({"targets"});
  EXPECT_EQ(RefreshError(), Error::kExpired);
  repo_.targets.expires = soon + 30 * kDay;
  repo_.root.expires = soon;
  PublishNextRoot();
  repo_.Publish({"targets"});
  EXPECT_EQ(RefreshError(), Error::kExpired);
  // The new root is verified and kept even so (5.3.10): only the freeze
  // check failed.
  EXPECT_EQ(LocalVersion("root.json"), 2u);
}

TEST_F(UpdaterTest, EndlessDataStopsAtTheLimit) {
  options_.timestamp_max_length = 4096;
  fetcher_.endless.insert("metadata/timestamp.json");
  EXPECT_EQ(RefreshError(), Error::kTooLarge);
  EXPECT_LE(fetcher_.bytes_delivered, 4096u + 1);
  fetcher_.endless.clear();
  // A snapshot longer than the timestamp says it is.
  fetcher_.bytes_delivered = 0;
  fetcher_.endless.insert("metadata/snapshot.json");
  EXPECT_EQ(RefreshError(), Error::kTooLarge);
  EXPECT_LE(fetcher_.bytes_delivered,
            4096u + *repo_.timestamp.snapshot_meta.length + 1);
  fetcher_.endless.clear();
  // A target longer than its signed length.
  repo_.AddTarget("targets", "a.bin", "12345");
  repo_.Publish({"targets"});
  fetcher_.endless.insert("targets/a.bin");
  fetcher_.bytes_delivered = 0;
  EXPECT_EQ(DownloadError("a.bin"), Error::kTooLarge);
}

TEST_F(UpdaterTest, ExtraneousDependenciesAreRefused) {
  // A delegated role trusted for apps/ only names a firmware image too.
  DelegatedRole apps;
  apps.name = "apps";
  apps.paths = std::vector<std::string>{"apps/*"};
  repo_.Delegate("targets", apps);
  repo_.AddTarget("apps", "apps/clock.bin", "clock");
  repo_.AddTarget("apps", "firmware.bin", "evil");
  repo_.Publish({"targets"});
  EXPECT_TRUE(Download("apps/clock.bin").ok());
  EXPECT_EQ(DownloadError("firmware.bin"), Error::kTargetNotFound);
  // A mirror adds a dependency to a target's signed custom data.
  repo_.AddTarget("targets", "main.bin", "main");
  repo_.Publish({"targets"});
  schema::Json j = *schema::ParseJson(repo_.files["metadata/targets.json"],
                                      {.max_bytes = 1 << 20});
  j["signed"]["targets"]["main.bin"]["custom"] = {{"requires", "evil.bin"}};
  std::string tampered = j.dump();
  repo_.files["metadata/targets.json"] = tampered;
  // The snapshot lists no hashes, so only the signature can catch it.
  repo_.meta_lengths_and_hashes = false;
  repo_.Publish();
  repo_.files["metadata/targets.json"] = tampered;
  EXPECT_EQ(DownloadError("main.bin"), Error::kThreshold);
}

TEST_F(UpdaterTest, MixAndMatchIsRefused) {
  repo_.AddTarget("targets", "a.bin", "one");
  repo_.Publish({"targets"});
  const std::string old_targets = repo_.files["metadata/targets.json"];
  repo_.AddTarget("targets", "a.bin", "two");
  repo_.Publish({"targets"});
  // The mirror serves the new snapshot with the old (validly signed)
  // targets: the snapshot's hash catches it...
  repo_.files["metadata/targets.json"] = old_targets;
  Error e = RefreshError();
  EXPECT_TRUE(e == Error::kHashMismatch || e == Error::kLengthMismatch)
      << ErrorName(e);
  // ...and without hashes in the snapshot, its version does.
  repo_.meta_lengths_and_hashes = false;
  repo_.Publish();
  repo_.files["metadata/targets.json"] = old_targets;
  EXPECT_EQ(RefreshError(), Error::kBadVersion);
}

TEST_F(UpdaterTest, FastForwardIsRecoveredFromAfterKeyRotation) {
  ASSERT_TRUE(Refresh().ok());
  // An attacker with the timestamp key pushes the version far ahead.
  repo_.timestamp.version = 1000;
  repo_.files["metadata/timestamp.json"] = repo_.Signed("timestamp");
  ASSERT_TRUE(Refresh().ok());
  ASSERT_EQ(LocalVersion("timestamp.json"), 1000u);
  // The repository rotates the timestamp key and starts again lower.
  repo_.RotateKey("timestamp");
  PublishNextRoot();
  repo_.timestamp.version = 5;
  repo_.Publish();
  // The timestamp cannot be fetched at all this time: the stale one must
  // be gone regardless (5.3.11).
  std::string ts = repo_.files["metadata/timestamp.json"];
  repo_.files.erase("metadata/timestamp.json");
  EXPECT_EQ(RefreshError(), Error::kFetchFailed);
  EXPECT_EQ(LocalVersion("root.json"), 2u);
  EXPECT_FALSE(platform::Exists(meta_dir_ + "/timestamp.json"));
  EXPECT_FALSE(platform::Exists(meta_dir_ + "/snapshot.json"));
  repo_.files["metadata/timestamp.json"] = ts;
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(LocalVersion("timestamp.json"), 6u);
}

TEST_F(UpdaterTest, KeyCompromiseBelowThresholdIsRefused) {
  // Two of three keys for targets and root.
  for (const char* role : {"targets", "root"}) {
    std::vector<testing::Signer> by = repo_.signers[role];
    for (int i = 0; i < 2; ++i) {
      testing::Signer s = testing::NewSigner(
          i == 0 ? crypto::KeyType::kEcdsaP256 : crypto::KeyType::kEd25519);
      repo_.root.keys[s.keyid] = s.public_key;
      repo_.root.roles[role].keyids.push_back(s.keyid);
      by.push_back(s);
    }
    repo_.root.roles[role].threshold = 2;
    if (std::string(role) == "root") {
      std::vector<testing::Signer> old = {repo_.signers["root"][0]};
      repo_.signers["root"] = by;
      ++repo_.root.version;
      repo_.PublishRoot(old);
    } else {
      repo_.signers[role] = by;
    }
  }
  repo_.Publish({"targets"});
  ASSERT_TRUE(Refresh().ok()) << Refresh().ToString();
  ASSERT_EQ(LocalVersion("root.json"), 2u);
  // The attacker holds one targets key.
  testing::Signer stolen = repo_.signers["targets"][1];
  repo_.AddTarget("targets", "firmware.bin", "evil");
  std::vector<testing::Signer> good = repo_.signers["targets"];
  repo_.signers["targets"] = {stolen};
  repo_.Publish({"targets"});
  EXPECT_EQ(RefreshError(), Error::kThreshold);
  repo_.signers["targets"] = good;
  repo_.Publish({"targets"});
  ASSERT_TRUE(Refresh().ok());
  // The attacker holds one root key and tries to give itself the others.
  testing::Signer root_stolen = repo_.signers["root"][1];
  testing::Signer mine = testing::NewSigner();
  repo_.root.keys[mine.keyid] = mine.public_key;
  repo_.root.roles["root"] = RoleKeys{{mine.keyid, root_stolen.keyid}, 1};
  repo_.signers["root"] = {mine};
  ++repo_.root.version;
  repo_.PublishRoot({root_stolen});
  EXPECT_EQ(RefreshError(), Error::kThreshold);
  EXPECT_EQ(LocalVersion("root.json"), 2u);
}

TEST_F(UpdaterTest, MaliciousMirrorsAreRefused) {
  ASSERT_TRUE(Refresh().ok());
  const std::map<std::string, std::string> trusted = Local();
  const std::string ts = repo_.files["metadata/timestamp.json"];
  // Another role's file in the timestamp's place.
  repo_.files["metadata/timestamp.json"] =
      repo_.files["metadata/snapshot.json"];
  EXPECT_EQ(RefreshError(), Error::kWrongType);
  // Garbage.
  repo_.files["metadata/timestamp.json"] = "<html>mirror</html>";
  EXPECT_EQ(RefreshError(), Error::kMalformed);
  // Another repository's timestamp, signed by its own keys.
  Repository other(clock_.Now());
  other.Publish();
  other.Publish();
  repo_.files["metadata/timestamp.json"] =
      other.files["metadata/timestamp.json"];
  EXPECT_EQ(RefreshError(), Error::kThreshold);
  // Nothing at all.
  repo_.files.erase("metadata/timestamp.json");
  EXPECT_EQ(RefreshError(), Error::kFetchFailed);
  EXPECT_EQ(Local(), trusted);
  repo_.files["metadata/timestamp.json"] = ts;
  EXPECT_TRUE(Refresh().ok());
}

// ---- root rotation
// -----------------------------------------------------------

TEST_F(UpdaterTest, RootRotatesThroughEveryIntermediateVersion) {
  for (int v = 2; v <= 5; ++v) {
    std::vector<testing::Signer> old = repo_.signers["root"];
    repo_.RotateKey("root");
    ++repo_.root.version;
    repo_.PublishRoot(old);
  }
  repo_.Publish();
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(LocalVersion("root.json"), 5u);
  for (int v = 2; v <= 6; ++v) {
    const std::string url =
        std::string(kMetadataUrl) + "/" + std::to_string(v) + ".root.json";
    EXPECT_NE(
        std::find(fetcher_.requests.begin(), fetcher_.requests.end(), url),
        fetcher_.requests.end())
        << url;
  }
}

TEST_F(UpdaterTest, RootSignedOnlyByTheNewKeysIsRefused) {
  repo_.RotateKey("root");
  ++repo_.root.version;
  repo_.PublishRoot();  // not signed by version 1's key
  EXPECT_EQ(RefreshError(), Error::kThreshold);
  EXPECT_EQ(LocalVersion("root.json"), 1u);
}

TEST_F(UpdaterTest, RootSignedOnlyByTheOldKeysIsRefused) {
  std::vector<testing::Signer> old = repo_.signers["root"];
  repo_.RotateKey("root");
  ++repo_.root.version;
  repo_.files["metadata/2.root.json"] = repo_.Signed("root", old);
  EXPECT_EQ(RefreshError(), Error::kThreshold);
}

TEST_F(UpdaterTest, RootWithTheWrongVersionIsRefused) {
  repo_.root.version = 3;
  repo_.PublishRoot();
  repo_.files["metadata/2.root.json"] = repo_.files["metadata/3.root.json"];
  EXPECT_EQ(RefreshError(), Error::kBadVersion);
}

TEST_F(UpdaterTest, RootRotationsAreBounded) {
  for (int v = 2; v <= 5; ++v) PublishNextRoot();
  repo_.Publish();
  options_.max_root_rotations = 2;
  Refresh().IgnoreError();
  EXPECT_EQ(LocalVersion("root.json"), 3u);
  const std::string v4 = std::string(kMetadataUrl) + "/4.root.json";
  EXPECT_EQ(std::find(fetcher_.requests.begin(), fetcher_.requests.end(), v4),
            fetcher_.requests.end());
}

// ---- delegations
// -------------------------------------------------------------

TEST_F(UpdaterTest, DelegationsAreSearchedInPreorderAndTerminatingStops) {
  DelegatedRole a, b, c;
  a.name = "a";
  a.paths = std::vector<std::string>{"*"};
  a.terminating = true;
  b.name = "b";
  b.paths = std::vector<std::string>{"*"};
  c.name = "c";
  c.paths = std::vector<std::string>{"*"};
  repo_.Delegate("targets", a);
  repo_.Delegate("targets", b);
  repo_.Delegate("a", c);
  repo_.AddTarget("b", "only-in-b.bin", "b");
  repo_.AddTarget("c", "in-c.bin", "c");
  repo_.Publish();
  fetcher_.requests.clear();
  EXPECT_TRUE(Download("in-c.bin").ok());
  // a is terminating: b is never asked about.
  EXPECT_EQ(DownloadError("only-in-b.bin"), Error::kTargetNotFound);
  std::vector<std::string> meta;
  for (const std::string& r : fetcher_.requests) {
    if (r.find("/metadata/") != std::string::npos) meta.push_back(r);
  }
  for (const std::string& r : meta) {
    EXPECT_EQ(r.find("/b.json"), std::string::npos) << r;
  }
  // Without terminating, b is searched after a's subtree.
  repo_.targets.delegations->roles[0].terminating = false;
  repo_.Publish({"targets"});
  EXPECT_TRUE(Download("only-in-b.bin").ok());
}

TEST_F(UpdaterTest, DelegatedThresholdIsEnforced) {
  DelegatedRole a;
  a.name = "a";
  a.paths = std::vector<std::string>{"*"};
  a.keys.threshold = 2;
  repo_.Delegate("targets", a, 2);
  repo_.AddTarget("a", "x.bin", "x");
  std::vector<testing::Signer> both = repo_.signers["a"];
  repo_.signers["a"] = {both[0]};
  repo_.Publish();
  EXPECT_EQ(DownloadError("x.bin"), Error::kThreshold);
  repo_.signers["a"] = both;
  repo_.Publish({"a"});
  EXPECT_TRUE(Download("x.bin").ok());
}

TEST_F(UpdaterTest, DelegationDepthAndCountAreLimited) {
  std::string parent = "targets";
  for (int i = 0; i < 4; ++i) {
    DelegatedRole r;
    r.name = "d" + std::to_string(i);
    r.paths = std::vector<std::string>{"*"};
    repo_.Delegate(parent, r);
    parent = r.name;
  }
  repo_.AddTarget(parent, "deep.bin", "deep");
  repo_.Publish();
  EXPECT_TRUE(Download("deep.bin").ok());
  options_.max_delegation_depth = 3;
  EXPECT_EQ(DownloadError("deep.bin"), Error::kDelegationLimit);
  options_.max_delegation_depth = 32;
  options_.max_delegations = 4;
  EXPECT_EQ(DownloadError("deep.bin"), Error::kDelegationLimit);
  options_.max_delegations = 5;
  EXPECT_TRUE(Download("deep.bin").ok());
}

TEST_F(UpdaterTest, ARoleReachedThroughAnotherDelegatorIsVerifiedAgainstIt) {
  DelegatedRole pa, pb, release_a, release_b;
  pa.name = "parent-a";
  pa.paths = std::vector<std::string>{"team-a/*"};
  pb.name = "parent-b";
  pb.paths = std::vector<std::string>{"team-b/*"};
  repo_.Delegate("targets", pa);
  repo_.Delegate("targets", pb);
  release_a.name = release_b.name = "release";
  release_a.paths = pa.paths;
  release_b.paths = pb.paths;
  repo_.Delegate("parent-a", release_a);
  std::vector<testing::Signer> key_a = repo_.signers["release"];
  repo_.Delegate("parent-b", release_b);
  // Signed only with the key parent-a gives it.
  repo_.signers["release"] = key_a;
  repo_.AddTarget("release", "team-a/x", "a");
  repo_.AddTarget("release", "team-b/x", "b");
  repo_.Publish();
  std::unique_ptr<Updater> u = Client();
  EXPECT_TRUE(u->GetTargetInfo("team-a/x").ok());
  EXPECT_EQ(ErrorOf(u->GetTargetInfo("team-b/x").status()), Error::kThreshold);
}

TEST_F(UpdaterTest, PathHashPrefixesDelegate) {
  DelegatedRole bin;
  bin.name = "bin";
  bin.path_hash_prefixes = std::vector<std::string>{
      HexEncode(crypto::Sha256(AsBytes("x.bin"))).substr(0, 2)};
  repo_.Delegate("targets", bin);
  repo_.AddTarget("bin", "x.bin", "x");
  repo_.Publish();
  EXPECT_TRUE(Download("x.bin").ok());
}

// ---- consistent snapshots
// ----------------------------------------------------

TEST(ConsistentSnapshotTest, VersionedMetadataAndHashPrefixedTargets) {
  FakeClock clock;
  Repository repo(clock.Now(), /*consistent_snapshot=*/true);
  repo.AddTarget("targets", "dir/app.bin", "app");
  repo.Publish({"targets"});
  // Only versioned names: a client asking for any other fails.
  std::string hash = repo.targets.targets["dir/app.bin"].hashes["sha256"];
  repo.files.erase("metadata/snapshot.json");
  repo.files.erase("metadata/targets.json");
  repo.files.erase("targets/dir/app.bin");
  RepositoryFetcher fetcher(repo);
  char tmpl[] = "/tmp/tuf_cs.XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  ASSERT_TRUE(Updater::Initialize(platform::DefaultEnv(), dir,
                                  repo.files["metadata/1.root.json"])
                  .ok());
  Result<std::unique_ptr<Updater>> u = Updater::Open(
      platform::DefaultEnv(), clock, fetcher, dir, kMetadataUrl, kTargetsUrl);
  ASSERT_TRUE(u.ok());
  Result<TargetInfo> info = (*u)->GetTargetInfo("dir/app.bin");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  StringSink sink;
  ASSERT_TRUE((*u)->DownloadTarget(*info, sink).ok());
  EXPECT_EQ(sink.data, "app");
  std::vector<std::string> want = {
      std::string(kMetadataUrl) + "/" + std::to_string(repo.snapshot.version) +
          ".snapshot.json",
      std::string(kMetadataUrl) + "/2.targets.json",
      std::string(kTargetsUrl) + "/dir/" + hash + ".app.bin"};
  for (const std::string& w : want) {
    EXPECT_NE(std::find(fetcher.requests.begin(), fetcher.requests.end(), w),
              fetcher.requests.end())
        << w;
  }
  // Stored under plain names.
  EXPECT_TRUE(platform::Exists(dir + "/snapshot.json"));
  platform::RemoveTree(platform::DefaultEnv(), dir).IgnoreError();
}

// ---- local state
// ---------------------------------------------------------------

TEST_F(UpdaterTest, FailedRefreshLeavesLocalMetadataByteForByte) {
  repo_.Publish({"targets"});
  ASSERT_TRUE(Refresh().ok());
  const std::map<std::string, std::string> before = Local();
  ASSERT_EQ(before.size(), 4u);
  // A timestamp signed by the wrong key.
  repo_.signers["timestamp"] = {testing::NewSigner()};
  repo_.Publish({"targets"});
  EXPECT_EQ(RefreshError(), Error::kThreshold);
  EXPECT_EQ(Local(), before);
}

TEST_F(UpdaterTest, FaultsOnMetadataWritesLeaveTheOldOrTheNewSet) {
  ASSERT_TRUE(Refresh().ok());
  const std::map<std::string, std::string> old_set = Local();
  // The next release: a new root and every role new.
  repo_.RotateKey("snapshot");
  PublishNextRoot();
  repo_.AddTarget("targets", "a.bin", "a");
  repo_.Publish({"targets"});
  // The new set, as a clean refresh stores it.
  platform::RemoveTree(platform::DefaultEnv(), meta_dir_).IgnoreError();
  ASSERT_TRUE(platform::MakeDirs(meta_dir_, 0755).ok());
  for (const auto& [name, bytes] : old_set) {
    ASSERT_TRUE(
        platform::WriteFileAtomic(meta_dir_ + "/" + name, bytes, 0644).ok());
  }
  ASSERT_TRUE(Refresh().ok());
  const std::map<std::string, std::string> new_set = Local();
  ASSERT_NE(new_set, old_set);

  auto restore_old = [&] {
    platform::RemoveTree(platform::DefaultEnv(), meta_dir_).IgnoreError();
    ASSERT_TRUE(platform::MakeDirs(meta_dir_, 0755).ok());
    for (const auto& [name, bytes] : old_set) {
      ASSERT_TRUE(
          platform::WriteFileAtomic(meta_dir_ + "/" + name, bytes, 0644).ok());
    }
  };
  int faults = 0;
  for (platform::FaultInjectionEnv::Op op :
       platform::FaultInjectionEnv::kAllOps) {
    for (int n = 1; n < 40; ++n) {
      restore_old();
      bool happened = false;
      {
        platform::FaultInjectionEnv env(platform::DefaultEnv(), meta_dir_);
        env.FailNth(op, n);
        std::unique_ptr<Updater> u = Client(env);
        ASSERT_TRUE(u);
        Status s = u->Refresh();
        happened = env.fault_happened();
        if (happened) {
          EXPECT_EQ(ErrorOf(s), Error::kStorage)
              << platform::FaultInjectionEnv::OpName(op) << " " << n;
        }
      }
      if (!happened) break;
      ++faults;
      // Each file is the old or the new one, never a torn one...
      for (const auto& [name, bytes] : Local()) {
        const bool is_old = old_set.count(name) && old_set.at(name) == bytes;
        const bool is_new = new_set.count(name) && new_set.at(name) == bytes;
        EXPECT_TRUE(is_old || is_new)
            << name << " after failing "
            << platform::FaultInjectionEnv::OpName(op) << " " << n;
      }
      // ...and the next refresh, without faults, reaches the new set.
      ASSERT_TRUE(Refresh().ok());
      EXPECT_EQ(Local(), new_set);
    }
  }
  EXPECT_GT(faults, 10);
  // Power cuts at every point of the refresh.
  for (int n = 0; n < 60; ++n) {
    restore_old();
    bool happened = false;
    {
      platform::FaultInjectionEnv env(platform::DefaultEnv(), meta_dir_);
      env.CutPowerAfter(n);
      std::unique_ptr<Updater> u = Client(env);
      ASSERT_TRUE(u);
      u->Refresh().IgnoreError();
      happened = env.fault_happened();
    }
    if (!happened) break;
    for (const auto& [name, bytes] : Local()) {
      if (name.find(".tmp") != std::string::npos) continue;
      const bool is_old = old_set.count(name) && old_set.at(name) == bytes;
      const bool is_new = new_set.count(name) && new_set.at(name) == bytes;
      EXPECT_TRUE(is_old || is_new) << name << " after a cut at " << n;
    }
    ASSERT_TRUE(Refresh().ok()) << "after a cut at " << n;
    EXPECT_EQ(LocalVersion("root.json"), 2u);
  }
}

}  // namespace
}  // namespace warden::tuf
