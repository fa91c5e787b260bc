#include "platform/fault_injection_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "platform/file.h"

namespace warden::platform {
namespace {

using Op = FaultInjectionEnv::Op;

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-fault-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) { return JoinPath(dir_, name); }

  std::unique_ptr<File> Create(Env& env, const std::string& path) {
    OpenOptions options;
    options.write = true;
    options.create = OpenOptions::Create::kIfMissing;
    auto file = env.Open(path, options);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return file.ok() ? std::move(*file) : nullptr;
  }

  // What the disk holds, read past the fault injection.
  std::string OnDisk(const std::string& name) {
    return ReadFile(DefaultEnv(), Path(name), 1 << 20).value_or("<absent>");
  }

  std::string dir_;
};

TEST_F(FaultInjectionEnvTest, APowerCutLosesDataWrittenSinceTheLastSync) {
  ASSERT_TRUE(WriteFileAtomic(Path("f"), "0123456789", 0600).ok());
  FaultInjectionEnv env(DefaultEnv(), dir_);
  auto f = Create(env, Path("f"));
  ASSERT_TRUE(f->WriteAt(2, "ab").ok());
  ASSERT_TRUE(f->Sync().ok());
  // Overwritten in place and appended to, neither synced.
  ASSERT_TRUE(f->WriteAt(5, "XYZ").ok());
  ASSERT_TRUE(f->Append("tail").ok());
  EXPECT_EQ(OnDisk("f"), "01ab4XYZ89tail");
  env.CutPower();
  // The overwritten bytes have their synced values back.
  EXPECT_EQ(OnDisk("f"), "01ab456789");
}

TEST_F(FaultInjectionEnvTest, NamesNeedTheirDirectorySynced) {
  ASSERT_TRUE(WriteFileAtomic(Path("old"), "old", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(Path("gone"), "gone", 0600).ok());
  FaultInjectionEnv env(DefaultEnv(), dir_);
  {
    auto f = Create(env, Path("new"));
    ASSERT_TRUE(f->Append("new").ok());
    ASSERT_TRUE(f->Sync().ok());  // data durable, name not
  }
  ASSERT_TRUE(env.Rename(Path("new"), Path("old")).ok());
  ASSERT_TRUE(env.Unlink(Path("gone")).ok());
  ASSERT_TRUE(env.MakeDir(Path("d"), 0700).ok());
  EXPECT_EQ(OnDisk("old"), "new");
  env.CutPower();
  // The rename, the unlink and the mkdir are undone; the synced data of
  // "new" survives under the name it had when its directory was synced:
  // none.
  EXPECT_EQ(OnDisk("old"), "old");
  EXPECT_EQ(OnDisk("gone"), "gone");
  EXPECT_EQ(OnDisk("new"), "<absent>");
  EXPECT_FALSE(Exists(Path("d")));
}

TEST_F(FaultInjectionEnvTest, ASyncedDirectoryKeepsItsNames) {
  FaultInjectionEnv env(DefaultEnv(), dir_);
  ASSERT_TRUE(WriteFileAtomic(env, Path("a"), "first", 0640).ok());
  ASSERT_TRUE(env.MakeDir(Path("d"), 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(env, Path("d/inner"), "in", 0600).ok());
  ASSERT_TRUE(env.SyncDir(dir_).ok());
  ASSERT_TRUE(env.Link(Path("a"), Path("b")).ok());  // not synced
  env.CutPower();
  EXPECT_EQ(OnDisk("a"), "first");
  EXPECT_EQ(DefaultEnv().Stat(Path("a"))->mode, 0640u);
  EXPECT_EQ(OnDisk("d/inner"), "in");
  EXPECT_EQ(OnDisk("b"), "<absent>");
}

TEST_F(FaultInjectionEnvTest, AFailedOperationDoesNothing) {
  ASSERT_TRUE(WriteFileAtomic(Path("f"), "old", 0600).ok());
  FaultInjectionEnv env(DefaultEnv(), dir_);
  env.FailNth(Op::kRename, 1);
  Status st = WriteFileAtomic(env, Path("f"), "new", 0600);
  EXPECT_EQ(st.code(), Code::kIo);
  EXPECT_TRUE(env.fault_happened());
  EXPECT_EQ(OnDisk("f"), "old");
  // The next rename works again.
  EXPECT_TRUE(WriteFileAtomic(env, Path("f"), "new", 0600).ok());
  EXPECT_EQ(OnDisk("f"), "new");

  auto f = Create(env, Path("g"));
  env.FailNth(Op::kWrite, 2);
  EXPECT_TRUE(f->Append("one").ok());
  EXPECT_EQ(f->Append("two").code(), Code::kIo);
  EXPECT_EQ(OnDisk("g"), "one");
  env.FailNth(Op::kSync, 1);
  EXPECT_EQ(f->Sync().code(), Code::kIo);
  env.CutPower();
  // The failed sync made nothing durable, nor did the unsynced directory.
  EXPECT_EQ(OnDisk("g"), "<absent>");
}

TEST_F(FaultInjectionEnvTest, NothingWorksAfterACutUntilRestart) {
  FaultInjectionEnv env(DefaultEnv(), dir_);
  auto f = Create(env, Path("f"));
  env.CutPowerAfter(1);
  EXPECT_TRUE(f->Append("x").ok());
  EXPECT_EQ(f->Sync().code(), Code::kIo);  // the power goes off here
  EXPECT_TRUE(env.power_is_off());
  EXPECT_TRUE(env.fault_happened());
  EXPECT_EQ(env.Stat(dir_).status().code(), Code::kIo);
  EXPECT_EQ(env.MakeDir(Path("d"), 0700).code(), Code::kIo);
  OpenOptions read;
  EXPECT_FALSE(env.Open(Path("f"), read).ok());
  env.Restart();
  EXPECT_TRUE(env.Stat(dir_).ok());
  EXPECT_TRUE(env.MakeDir(Path("d"), 0700).ok());
  // A file opened before the cut is gone with it.
  char c;
  EXPECT_EQ(f->ReadAt(0, &c, 1).status().code(), Code::kIo);
  EXPECT_TRUE(f->Close().ok());
}

TEST_F(FaultInjectionEnvTest, CountsEveryKindOfOperation) {
  FaultInjectionEnv env(DefaultEnv(), dir_);
  ASSERT_TRUE(WriteFileAtomic(env, Path("f"), "x", 0600).ok());
  EXPECT_EQ(env.count(Op::kCreate), 1);
  EXPECT_EQ(env.count(Op::kWrite), 1);
  EXPECT_EQ(env.count(Op::kSync), 2);  // the file and the directory
  EXPECT_EQ(env.count(Op::kRename), 1);
  ASSERT_TRUE(CreateFileExclusive(env, Path("g"), "y", 0600).ok());
  EXPECT_EQ(env.count(Op::kLink), 1);
  EXPECT_EQ(env.count(Op::kUnlink), 1);
  ASSERT_TRUE(MakeDirs(env, Path("a/b"), 0700).ok());
  EXPECT_EQ(env.count(Op::kMkdir), 2);
  EXPECT_GT(env.modifications(), 10);
}

}  // namespace
}  // namespace warden::platform
