// Atomic replace and exclusive create at every fault point.
#include <gtest/gtest.h>

#include "platform/crash_testing.h"
#include "platform/file.h"

namespace warden::platform {
namespace {

using testing::CrashTest;
using testing::RunCrashTest;

// Of different lengths, and telling old from new at every byte.
const std::string kOld(5000, 'o');
const std::string kNew(6000, 'n');

// "old", "new", or what else the file holds, in a few words.
std::string Which(const std::string& content) {
  if (content == kOld) return "old";
  if (content == kNew) return "new";
  return std::to_string(content.size()) + " bytes of neither";
}

TEST(FileCrashTest, AtomicReplaceLeavesTheOldFileOrTheNewOne) {
  CrashTest t;
  t.setup = [](const std::string& root) {
    ASSERT_TRUE(
        WriteFileAtomic(JoinPath(root, "settings.json"), kOld, 0640).ok());
  };
  t.workload = [](Env& env, const std::string& root) {
    return WriteFileAtomic(env, JoinPath(root, "settings.json"), kNew, 0600);
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    auto content = ReadFile(env, JoinPath(root, "settings.json"), 1 << 20);
    ASSERT_TRUE(content.ok()) << content.status().ToString();
    if (acknowledged) {
      EXPECT_EQ(Which(*content), "new");
    } else {
      EXPECT_TRUE(Which(*content) == "old" || Which(*content) == "new")
          << Which(*content);
    }
    auto mode = env.Stat(JoinPath(root, "settings.json"))->mode;
    EXPECT_EQ(mode, *content == kNew ? 0600u : 0640u);
  };
  auto report = RunCrashTest(t);
  EXPECT_GT(report.fault_points, 4);
  EXPECT_GT(report.power_cuts, 5);
}

TEST(FileCrashTest, ExclusiveCreateLeavesNoFileOrTheWholeOne) {
  CrashTest t;
  t.setup = [](const std::string&) {};
  t.workload = [](Env& env, const std::string& root) {
    return CreateFileExclusive(env, JoinPath(root, "identity.key"), kNew, 0600);
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    const std::string path = JoinPath(root, "identity.key");
    auto content = ReadFile(env, path, 1 << 20);
    if (!acknowledged && content.status().code() == Code::kNotFound) return;
    ASSERT_TRUE(content.ok()) << content.status().ToString();
    EXPECT_EQ(Which(*content), "new");
  };
  auto report = RunCrashTest(t);
  EXPECT_GT(report.fault_points, 4);
}

TEST(FileCrashTest, MadeDirectoriesSurviveOnceMade) {
  CrashTest t;
  t.setup = [](const std::string&) {};
  t.workload = [](Env& env, const std::string& root) {
    return MakeDirs(env, JoinPath(root, "a/b/c"), 0700);
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    if (acknowledged) {
      EXPECT_TRUE(IsDirectory(env, JoinPath(root, "a/b/c")));
    }
  };
  RunCrashTest(t);
}

}  // namespace
}  // namespace warden::platform
