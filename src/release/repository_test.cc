// The maker's repository tool against the client that devices run: what
// Publish writes, tuf::Updater reads over a Fetcher on the published tree.
#include "release/repository.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/bytes.h"
#include "base/time_format.h"
#include "crypto/hash.h"
#include "platform/file.h"
#include "release/testing/dir_fetcher.h"
#include "tuf/error.h"
#include "tuf/metadata.h"
#include "tuf/updater.h"

namespace warden::release {
namespace {

namespace fs = std::filesystem;
using platform::DefaultEnv;

constexpr auto kDay = std::chrono::hours(24);

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Put(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class ReleaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-release-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    repo_ = dir_ + "/repo";
    out_ = dir_ + "/out";
    access_.root_keys_dir = dir_ + "/root-keys";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void InitRepo(const InitOptions& options = {}) {
    Status st = Init(DefaultEnv(), clock_, repo_, options, access_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::string Image(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    Put(path, content);
    return path;
  }

  Status Add(const std::string& version, const std::string& content,
             const std::string& model = "thermostat-v1") {
    TargetSpec spec;
    spec.hardware_model = model;
    spec.version = version;
    spec.min_from_version = "1.0.0";
    spec.support_until = "2031-12-31";
    return AddTarget(DefaultEnv(), clock_, repo_,
                     Image(model + "-" + version, content), spec, access_);
  }

  void PublishOk() {
    Status st = Publish(DefaultEnv(), repo_, out_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // A device that trusts the first root, reading the published tree.
  std::unique_ptr<tuf::Updater> Client(const std::string& name = "client") {
    const std::string md = dir_ + "/" + name;
    if (!fs::exists(md)) {
      Status st = tuf::Updater::Initialize(
          DefaultEnv(), md, Slurp(out_ + "/metadata/1.root.json"));
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    auto u = tuf::Updater::Open(DefaultEnv(), clock_, fetcher_, md,
                                out_ + "/metadata", out_ + "/targets");
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? std::move(u).value() : nullptr;
  }

  // The firmware the client downloads for the model, after a refresh.
  std::string Download(tuf::Updater& u,
                       const std::string& model = "thermostat-v1") {
    auto info = u.GetTargetInfo(model + ".img");
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    if (!info.ok()) return "";
    const std::string path = dir_ + "/downloaded";
    Status st = u.DownloadTargetToFile(*info, path);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return Slurp(path);
  }

  uint64_t Version(const std::string& role) {
    auto s = GetStatus(DefaultEnv(), repo_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return 0;
    for (const RoleStatus& r : s->roles) {
      if (r.name == role) return r.version;
    }
    return 0;
  }

  std::vector<std::string> KeyIds(const std::string& role) {
    auto s = GetStatus(DefaultEnv(), repo_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    for (const RoleStatus& r : s->roles) {
      if (r.name == role) return r.keyids;
    }
    return {};
  }

  std::string dir_, repo_, out_;
  KeyAccess access_;
  FakeClock clock_{FromUnixSeconds(1'800'000'000)};
  testing::DirFetcher fetcher_{DefaultEnv()};
};

TEST_F(ReleaseTest, AClientTrustingTheFirstRootGetsEachRelease) {
  InitRepo();
  ASSERT_TRUE(Add("1.0.0", "#!/bin/sh\necho one\n").ok());
  PublishOk();
  auto client = Client();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Refresh().ok());
  auto info = client->GetTargetInfo("thermostat-v1.img");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const schema::Json& w = info->file.custom["warden"];
  EXPECT_EQ(w["version"], "1.0.0");
  EXPECT_EQ(w["hardware_model"], "thermostat-v1");
  EXPECT_EQ(w["min_from_version"], "1.0.0");
  EXPECT_EQ(w["support_until"], "2031-12-31");
  EXPECT_EQ(info->file.hashes.size(), 2u);
  EXPECT_EQ(info->file.hashes.at("sha256"),
            HexEncode(crypto::Sha256(AsBytes("#!/bin/sh\necho one\n"))));
  EXPECT_EQ(Download(*client), "#!/bin/sh\necho one\n");

  ASSERT_TRUE(Add("1.1.0", "#!/bin/sh\necho two\n").ok());
  PublishOk();
  client = Client();
  ASSERT_TRUE(client->Refresh().ok());
  EXPECT_EQ(Download(*client), "#!/bin/sh\necho two\n");
  EXPECT_EQ(client->targets("targets")->version, 3u);
}

TEST_F(ReleaseTest, PublishWritesTheContractsTreeAndKeepsOldVersions) {
  InitRepo();
  ASSERT_TRUE(Add("1.0.0", "one").ok());
  PublishOk();
  const std::string one = HexEncode(crypto::Sha256(AsBytes("one")));
  for (const char* f :
       {"metadata/1.root.json", "metadata/root.json", "metadata/timestamp.json",
        "metadata/2.snapshot.json", "metadata/2.targets.json"}) {
    EXPECT_TRUE(fs::exists(out_ + "/" + f)) << f;
  }
  EXPECT_EQ(Slurp(out_ + "/targets/" + one + ".thermostat-v1.img"), "one");
  // Only versioned names besides root.json and timestamp.json.
  EXPECT_FALSE(fs::exists(out_ + "/metadata/targets.json"));
  EXPECT_FALSE(fs::exists(out_ + "/metadata/snapshot.json"));

  // Publishing again changes nothing.
  const std::string timestamp = Slurp(out_ + "/metadata/timestamp.json");
  PublishOk();
  EXPECT_EQ(Slurp(out_ + "/metadata/timestamp.json"), timestamp);

  ASSERT_TRUE(Add("1.1.0", "two").ok());
  PublishOk();
  EXPECT_TRUE(fs::exists(out_ + "/metadata/2.targets.json"));
  EXPECT_TRUE(fs::exists(out_ + "/metadata/3.targets.json"));
  EXPECT_TRUE(fs::exists(out_ + "/metadata/2.snapshot.json"));
  EXPECT_TRUE(fs::exists(out_ + "/targets/" + one + ".thermostat-v1.img"));
  EXPECT_NE(Slurp(out_ + "/metadata/timestamp.json"), timestamp);
}

TEST_F(ReleaseTest, InitRefusesAnExistingRepositoryAndWritesPrivateKeys) {
  InitRepo();
  InitOptions options;
  EXPECT_EQ(Init(DefaultEnv(), clock_, repo_, options, access_).code(),
            Code::kAlreadyExists);
  // Nothing of the first repository was touched.
  EXPECT_EQ(Version("root"), 1u);
  EXPECT_EQ(KeyIds("root").size(), 3u);
  int keys = 0;
  for (const std::string& dir : {repo_ + "/keys", access_.root_keys_dir}) {
    for (const auto& e : fs::directory_iterator(dir)) {
      struct stat st;
      ASSERT_EQ(stat(e.path().c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 077, 0u) << e.path();
      EXPECT_NE(Slurp(e.path()).find("BEGIN PRIVATE KEY"), std::string::npos);
      ++keys;
    }
  }
  EXPECT_EQ(keys, 6);  // 3 root keys offline, one per online role
  for (const auto& e : fs::directory_iterator(repo_ + "/keys")) {
    EXPECT_FALSE(
        fs::exists(access_.root_keys_dir + "/" + e.path().filename().string()));
  }
}

TEST_F(ReleaseTest, InitRefusesBadThresholds) {
  InitOptions options;
  options.threshold["root"] = 3;
  options.key_count["root"] = 2;
  EXPECT_EQ(Init(DefaultEnv(), clock_, repo_, options, access_).code(),
            Code::kInvalidArgument);
  InitOptions unknown;
  unknown.threshold["mirror"] = 1;
  EXPECT_EQ(Init(DefaultEnv(), clock_, repo_, unknown, access_).code(),
            Code::kInvalidArgument);
  EXPECT_FALSE(fs::exists(repo_));
}

TEST_F(ReleaseTest, AddRefusesAVersionNotNewerThanThePublishedOne) {
  InitRepo();
  ASSERT_TRUE(Add("1.1.0", "one").ok());
  const uint64_t targets = Version("targets");
  EXPECT_EQ(Add("1.1.0", "again").code(), Code::kRollback);
  EXPECT_EQ(Add("1.0.9", "older").code(), Code::kRollback);
  EXPECT_EQ(Add("1.1", "same").code(), Code::kRollback);
  EXPECT_EQ(Version("targets"), targets);
  // Another model has a version line of its own.
  EXPECT_TRUE(Add("1.0.0", "other", "hub-v2").ok());
  EXPECT_TRUE(Add("1.1.1", "newer").ok());
}

TEST_F(ReleaseTest, AddRefusesBadInput) {
  InitRepo();
  TargetSpec spec;
  spec.hardware_model = "thermostat-v1";
  spec.version = "1.0.0";
  const std::string image = Image("img", "x");
  auto add = [&](const TargetSpec& s, const std::string& path = "") {
    return AddTarget(DefaultEnv(), clock_, repo_, path.empty() ? image : path,
                     s, access_)
        .code();
  };
  for (const char* model : {"Thermostat", "-x", "", "a/b", "x.img",
                            "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
                            "abcdefghijabcd"}) {
    TargetSpec s = spec;
    s.hardware_model = model;
    EXPECT_EQ(add(s), Code::kInvalidArgument) << model;
  }
  for (const char* version : {"1.0.0-rc1", "01.0", "", "1..0", "v1"}) {
    TargetSpec s = spec;
    s.version = version;
    EXPECT_EQ(add(s), Code::kInvalidArgument) << version;
  }
  for (const char* date : {"2031-13-01", "2031-02-30", "31-12-2031", "soon"}) {
    TargetSpec s = spec;
    s.support_until = date;
    EXPECT_EQ(add(s), Code::kInvalidArgument) << date;
  }
  TargetSpec newer_floor = spec;
  newer_floor.min_from_version = "2.0";
  EXPECT_EQ(add(newer_floor), Code::kInvalidArgument);
  fs::create_directory(dir_ + "/a-dir");
  EXPECT_EQ(add(spec, dir_ + "/a-dir"), Code::kInvalidArgument);
  fs::create_symlink(image, dir_ + "/a-link");
  EXPECT_EQ(add(spec, dir_ + "/a-link"), Code::kInvalidArgument);
  EXPECT_EQ(add(spec, dir_ + "/missing"), Code::kNotFound);
  EXPECT_EQ(Version("targets"), 1u);
  EXPECT_EQ(add(spec), Code::kOk);
}

TEST_F(ReleaseTest, ExpiryDefaultsAndRefreshKeepTheClientGoing) {
  InitRepo();
  const WallTime now = clock_.Now();
  auto status = GetStatus(DefaultEnv(), repo_);
  ASSERT_TRUE(status.ok());
  std::map<std::string, WallTime> expires;
  for (const RoleStatus& r : status->roles) expires[r.name] = r.expires;
  EXPECT_EQ(expires["root"], now + 365 * kDay);
  EXPECT_EQ(expires["targets"], now + 90 * kDay);
  EXPECT_EQ(expires["snapshot"], now + 7 * kDay);
  EXPECT_EQ(expires["timestamp"], now + 1 * kDay);

  ASSERT_TRUE(Add("1.0.0", "one").ok());
  PublishOk();
  auto client = Client();
  ASSERT_TRUE(client->Refresh().ok());

  // A day later the timestamp has expired: the device refuses it until the
  // maker refreshes.
  clock_.Advance(kDay + std::chrono::seconds(1));
  client = Client();
  EXPECT_EQ(tuf::ErrorOf(client->Refresh()), tuf::Error::kExpired);
  ASSERT_TRUE(Refresh(DefaultEnv(), clock_, repo_, {}, access_).ok());
  PublishOk();
  client = Client();
  Status st = client->Refresh();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Download(*client), "one");

  // Expiry chosen per run; init's choice is the default.
  ASSERT_TRUE(
      Refresh(DefaultEnv(), clock_, repo_, {{"timestamp", 3}}, access_).ok());
  status = GetStatus(DefaultEnv(), repo_);
  for (const RoleStatus& r : status->roles) {
    if (r.name == "timestamp") {
      EXPECT_EQ(r.expires, clock_.Now() + 3 * kDay);
    }
  }
  EXPECT_EQ(
      Refresh(DefaultEnv(), clock_, repo_, {{"targets", 3}}, access_).code(),
      Code::kInvalidArgument);
}

TEST_F(ReleaseTest, InitExpiryChoicesBecomeTheDefaults) {
  InitOptions options;
  options.expires_days["timestamp"] = 2;
  options.expires_days["root"] = 730;
  InitRepo(options);
  ASSERT_TRUE(Refresh(DefaultEnv(), clock_, repo_, {}, access_).ok());
  auto status = GetStatus(DefaultEnv(), repo_);
  ASSERT_TRUE(status.ok());
  for (const RoleStatus& r : status->roles) {
    if (r.name == "timestamp") {
      EXPECT_EQ(r.expires, clock_.Now() + 2 * kDay);
    }
    if (r.name == "root") {
      EXPECT_EQ(r.expires, clock_.Now() + 730 * kDay);
    }
  }
}

TEST_F(ReleaseTest, AfterARotationTheRevokedKeySignsNothingAClientTakes) {
  InitRepo();
  ASSERT_TRUE(Add("1.0.0", "one").ok());
  PublishOk();
  auto client = Client();
  ASSERT_TRUE(client->Refresh().ok());

  const std::string revoked = KeyIds("timestamp").at(0);
  auto stolen =
      crypto::PrivateKey::FromPem(Slurp(repo_ + "/keys/" + revoked + ".pem"));
  ASSERT_TRUE(stolen.ok());
  RotateOptions rotate;
  rotate.role = "timestamp";
  rotate.revoke = revoked;
  Status st = Rotate(DefaultEnv(), clock_, repo_, rotate, access_);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_NE(KeyIds("timestamp").at(0), revoked);
  EXPECT_FALSE(fs::exists(repo_ + "/keys/" + revoked + ".pem"));
  PublishOk();

  // The device follows the new root and takes the new timestamp.
  client = Client();
  st = client->Refresh();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(client->root().version, 2u);
  EXPECT_EQ(Download(*client), "one");

  // A newer timestamp signed by the revoked key alone is refused.
  auto current =
      tuf::Parse<tuf::Timestamp>(Slurp(out_ + "/metadata/timestamp.json"));
  ASSERT_TRUE(current.ok());
  tuf::Timestamp forged = current->signed_;
  forged.version += 1;
  auto m = tuf::MakeMetadata(forged);
  ASSERT_TRUE(tuf::Sign(m, *stolen, revoked).ok());
  Put(out_ + "/metadata/timestamp.json", *tuf::Serialize(m));
  client = Client();
  EXPECT_EQ(tuf::ErrorOf(client->Refresh()), tuf::Error::kThreshold);
}

TEST_F(ReleaseTest, RotatingARootKeyIsFollowedByClientsOfTheOldRoot) {
  InitRepo();
  ASSERT_TRUE(Add("1.0.0", "one").ok());
  PublishOk();
  auto client = Client();
  ASSERT_TRUE(client->Refresh().ok());
  const std::vector<std::string> before = KeyIds("root");
  RotateOptions rotate;
  rotate.role = "root";
  EXPECT_EQ(Rotate(DefaultEnv(), clock_, repo_, rotate, access_).code(),
            Code::kInvalidArgument);  // three keys: which one?
  rotate.revoke = before[1];
  Status st = Rotate(DefaultEnv(), clock_, repo_, rotate, access_);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(Add("1.1.0", "two").ok());
  PublishOk();
  EXPECT_TRUE(fs::exists(out_ + "/metadata/2.root.json"));
  client = Client();
  st = client->Refresh();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(client->root().version, 2u);
  EXPECT_EQ(client->root().roles.at("root").keyids.size(), 3u);
  EXPECT_EQ(std::count(client->root().roles.at("root").keyids.begin(),
                       client->root().roles.at("root").keyids.end(), before[1]),
            0);
  EXPECT_EQ(Download(*client), "two");
  // A device that only ever knew the first root gets there too.
  auto fresh = Client("new-device");
  st = fresh->Refresh();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Download(*fresh), "two");
}

TEST_F(ReleaseTest, OneRootKeyOfTwoOfThreeCannotMakeARootClientsAccept) {
  InitRepo();
  PublishOk();
  auto client = Client();
  ASSERT_TRUE(client->Refresh().ok());
  // The tool refuses to rotate with one root key at hand.
  const std::vector<std::string> root_keys = KeyIds("root");
  KeyAccess one = access_;
  one.root_keys_dir = dir_ + "/one-root-key";
  fs::create_directory(one.root_keys_dir);
  fs::copy_file(access_.root_keys_dir + "/" + root_keys[0] + ".pem",
                one.root_keys_dir + "/" + root_keys[0] + ".pem");
  RotateOptions rotate;
  rotate.role = "targets";
  EXPECT_EQ(Rotate(DefaultEnv(), clock_, repo_, rotate, one).code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(Version("root"), 1u);

  // And a root signed by that one key by hand is refused by the device.
  auto key = crypto::PrivateKey::FromPem(
      Slurp(one.root_keys_dir + "/" + root_keys[0] + ".pem"));
  ASSERT_TRUE(key.ok());
  auto root = tuf::Parse<tuf::Root>(Slurp(out_ + "/metadata/1.root.json"));
  ASSERT_TRUE(root.ok());
  tuf::Root forged = root->signed_;
  forged.version = 2;
  auto m = tuf::MakeMetadata(forged);
  ASSERT_TRUE(tuf::Sign(m, *key, root_keys[0]).ok());
  Put(out_ + "/metadata/2.root.json", *tuf::Serialize(m));
  client = Client();
  EXPECT_EQ(tuf::ErrorOf(client->Refresh()), tuf::Error::kThreshold);
  // With a second root key it would have been accepted.
  auto second = crypto::PrivateKey::FromPem(
      Slurp(access_.root_keys_dir + "/" + root_keys[1] + ".pem"));
  ASSERT_TRUE(tuf::Sign(m, *second, root_keys[1]).ok());
  Put(out_ + "/metadata/2.root.json", *tuf::Serialize(m));
  client = Client();
  EXPECT_TRUE(client->Refresh().ok());
}

TEST_F(ReleaseTest, SigningTargetsAndRootAnewKeepsThemFromExpiring) {
  InitRepo();
  ASSERT_TRUE(Add("1.0.0", "one").ok());
  PublishOk();
  auto client = Client();
  ASSERT_TRUE(client->Refresh().ok());
  auto refreshed_client_downloads = [&] {
    EXPECT_TRUE(Refresh(DefaultEnv(), clock_, repo_, {}, access_).ok());
    PublishOk();
    auto c = Client();
    Status st = c->Refresh();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return st.ok() && Download(*c) == "one";
  };

  // Targets expire after 90 days unless signed anew.
  clock_.Advance(80 * kDay);
  ASSERT_TRUE(Resign(DefaultEnv(), clock_, repo_, "targets", {}, access_).ok());
  clock_.Advance(20 * kDay);
  EXPECT_TRUE(refreshed_client_downloads());

  // The root after 365; signing it needs the root keys.
  KeyAccess no_root_keys = access_;
  no_root_keys.root_keys_dir = dir_ + "/empty";
  EXPECT_EQ(
      Resign(DefaultEnv(), clock_, repo_, "root", {}, no_root_keys).code(),
      Code::kFailedPrecondition);
  ASSERT_TRUE(Resign(DefaultEnv(), clock_, repo_, "root", 400, access_).ok());
  clock_.Advance(260 * kDay);
  ASSERT_TRUE(Resign(DefaultEnv(), clock_, repo_, "targets", {}, access_).ok());
  clock_.Advance(10 * kDay);  // 370 days after init
  EXPECT_TRUE(refreshed_client_downloads());
  EXPECT_EQ(Version("root"), 2u);
  EXPECT_EQ(Resign(DefaultEnv(), clock_, repo_, "mirror", {}, access_).code(),
            Code::kInvalidArgument);
}

TEST_F(ReleaseTest, StatusListsRolesKeysAndTargets) {
  InitRepo();
  ASSERT_TRUE(Add("1.0.0", "one").ok());
  auto status = GetStatus(DefaultEnv(), repo_);
  ASSERT_TRUE(status.ok());
  schema::Json j = ToJson(*status);
  EXPECT_EQ(j["roles"]["root"]["threshold"], 2);
  EXPECT_EQ(j["roles"]["root"]["keyids"].size(), 3u);
  EXPECT_EQ(j["roles"]["targets"]["version"], 2);
  EXPECT_EQ(j["roles"]["timestamp"]["expires"],
            tuf::FormatExpires(clock_.Now() + kDay));
  EXPECT_EQ(j["targets"]["thermostat-v1.img"]["custom"]["warden"]["version"],
            "1.0.0");
  EXPECT_EQ(GetStatus(DefaultEnv(), dir_ + "/nothing").status().code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace warden::release
