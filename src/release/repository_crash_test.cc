// Adding a release and publishing it, interrupted at every failed write,
// fsync, rename and every power cut: the repository and the published tree
// are always the old ones or the new ones, and a device reading the tree
// always gets a release that verifies.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "base/clock.h"
#include "platform/crash_testing.h"
#include "platform/file.h"
#include "release/repository.h"
#include "release/testing/dir_fetcher.h"
#include "tuf/updater.h"

namespace warden::release {
namespace {

namespace fs = std::filesystem;
using platform::DefaultEnv;
using platform::Env;
using platform::JoinPath;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;

const FakeClock& Clock() {
  static const FakeClock* clock = new FakeClock(FromUnixSeconds(1'800'000'000));
  return *clock;
}

KeyAccess Access(const std::string& root) {
  KeyAccess a;
  a.root_keys_dir = JoinPath(root, "root-keys");
  return a;
}

std::string Content(const std::string& version) {
  return "#!/bin/sh\necho thermostat " + version + "\n";
}

void MakeImage(const std::string& root, const std::string& version) {
  ASSERT_TRUE(platform::WriteFileAtomic(JoinPath(root, "image-" + version),
                                        Content(version), 0644)
                  .ok());
}

Status Add(Env& env, const std::string& root, const std::string& version) {
  TargetSpec spec;
  spec.hardware_model = "thermostat-v1";
  spec.version = version;
  return AddTarget(env, Clock(), JoinPath(root, "repo"),
                   JoinPath(root, "image-" + version), spec, Access(root));
}

// The published release as a device that trusted the first root sees it:
// refreshed, downloaded and verified. Empty on any failure.
std::string DeviceSees(Env& env, const std::string& root,
                       const std::string& out) {
  testing::DirFetcher fetcher(env);
  auto u =
      tuf::Updater::Open(env, Clock(), fetcher, JoinPath(root, "client"),
                         JoinPath(out, "metadata"), JoinPath(out, "targets"));
  EXPECT_TRUE(u.ok()) << u.status().ToString();
  if (!u.ok()) return "";
  Status st = (*u)->Refresh();
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto info = (*u)->GetTargetInfo("thermostat-v1.img");
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  if (!st.ok() || !info.ok()) return "";
  struct Sink : tuf::ByteSink {
    Status Write(ByteView b) override {
      bytes.append(reinterpret_cast<const char*>(b.data()), b.size());
      return Status::Ok();
    }
    std::string bytes;
  } sink;
  st = (*u)->DownloadTarget(*info, sink);
  EXPECT_TRUE(st.ok()) << st.ToString();
  const std::string version =
      info->file.custom["warden"]["version"].get<std::string>();
  EXPECT_EQ(sink.bytes, Content(version));
  return version;
}

// The repository with 1.0.0 published and a device that has seen it.
void SetUpPublished(const std::string& root) {
  Env& env = DefaultEnv();
  const std::string repo = JoinPath(root, "repo");
  const std::string out = JoinPath(root, "out");
  ASSERT_TRUE(Init(env, Clock(), repo, {}, Access(root)).ok());
  for (const char* v : {"1.0.0", "1.1.0", "1.2.0"}) MakeImage(root, v);
  ASSERT_TRUE(Add(env, root, "1.0.0").ok());
  ASSERT_TRUE(Publish(env, repo, out).ok());
  auto first =
      platform::ReadFile(JoinPath(out, "metadata/1.root.json"), 1 << 20);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(
      tuf::Updater::Initialize(env, JoinPath(root, "client"), *first).ok());
  EXPECT_EQ(DeviceSees(env, root, out), "1.0.0");
}

std::string RepoVersion(Env& env, const std::string& root) {
  auto s = GetStatus(env, JoinPath(root, "repo"));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok() || s->targets.size() != 1) return "";
  return s->targets[0].custom["warden"]["version"].get<std::string>();
}

// A copy of what is under `root` now, on the real file system outside the
// faulted tree: checks that go on writing (publishing again, a device
// refreshing) work there, so that the state the crash left is checked
// again after the power cut exactly as the crash left it.
class Scratch {
 public:
  explicit Scratch(const std::string& root) {
    // In memory where there is /dev/shm: the copies are synced often.
    char tmpl[] = "/dev/shm/warden-release-scratch-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::copy(root, dir_, fs::copy_options::recursive);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

TEST(ReleaseCrashTest, AddLeavesTheRepositoryBeforeOrAfter) {
  CrashTest t;
  t.setup = SetUpPublished;
  t.workload = [](Env& env, const std::string& root) {
    return Add(env, root, "1.1.0");
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    const std::string version = RepoVersion(env, root);
    if (acknowledged) {
      EXPECT_EQ(version, "1.1.0");
    } else {
      EXPECT_TRUE(version == "1.0.0" || version == "1.1.0") << version;
    }
    // What it holds publishes, and a device takes it.
    Scratch copy(root);
    const std::string& s = copy.dir();
    const std::string out = JoinPath(s, "out");
    Status st = Publish(DefaultEnv(), JoinPath(s, "repo"), out);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(DeviceSees(DefaultEnv(), s, out), version);
    // Leftovers of the interrupted change stand in the way of nothing.
    st = Add(DefaultEnv(), s, "1.2.0");
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_TRUE(Publish(DefaultEnv(), JoinPath(s, "repo"), out).ok());
    EXPECT_EQ(DeviceSees(DefaultEnv(), s, out), "1.2.0");
  };
  auto report = RunCrashTest(t);
  EXPECT_GT(report.fault_points, 20);
  EXPECT_GT(report.power_cuts, 20);
}

TEST(ReleaseCrashTest, AMirrorMidPublishServesTheOldReleaseOrTheNew) {
  CrashTest t;
  t.setup = [](const std::string& root) {
    SetUpPublished(root);
    ASSERT_TRUE(Add(DefaultEnv(), root, "1.1.0").ok());
  };
  t.workload = [](Env& env, const std::string& root) {
    return Publish(env, JoinPath(root, "repo"), JoinPath(root, "out"));
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    // A device that saw 1.0.0 refreshes from the tree as it is.
    Scratch copy(root);
    const std::string& s = copy.dir();
    const std::string out = JoinPath(s, "out");
    const std::string version = DeviceSees(DefaultEnv(), s, out);
    if (acknowledged) {
      EXPECT_EQ(version, "1.1.0");
    } else {
      EXPECT_TRUE(version == "1.0.0" || version == "1.1.0") << version;
    }
    // Publishing again finishes the job.
    Status st = Publish(DefaultEnv(), JoinPath(s, "repo"), out);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(DeviceSees(DefaultEnv(), s, out), "1.1.0");
    (void)env;
  };
  auto report = RunCrashTest(t);
  EXPECT_GT(report.fault_points, 10);
  EXPECT_GT(report.power_cuts, 10);
}

}  // namespace
}  // namespace warden::release
