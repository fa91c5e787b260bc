#include "platform/env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "platform/file.h"

namespace warden::platform {
namespace {

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-env-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<File> OpenFile(const std::string& path,
                                 OpenOptions::Create create, mode_t mode) {
    OpenOptions options;
    options.write = true;
    options.create = create;
    options.mode = mode;
    auto file = env_.Open(path, options);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return file.ok() ? std::move(*file) : nullptr;
  }

  Env& env_ = DefaultEnv();
  std::string dir_;
};

TEST_F(EnvTest, OpenCreatesExclusivelyTruncatesOrKeepsAsAsked) {
  const std::string p = JoinPath(dir_, "f");
  OpenOptions read;
  EXPECT_EQ(env_.Open(p, read).status().code(), Code::kNotFound);
  auto f = OpenFile(p, OpenOptions::Create::kExclusive, 0640);
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->Append("hello").ok());
  ASSERT_TRUE(f->WriteAt(1, "EL").ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(*ReadFile(env_, p, 100), "hELlo");
  EXPECT_EQ(env_.Stat(p)->mode & 0600, 0600u);

  OpenOptions exclusive;
  exclusive.write = true;
  exclusive.create = OpenOptions::Create::kExclusive;
  EXPECT_EQ(env_.Open(p, exclusive).status().code(), Code::kAlreadyExists);

  auto kept = OpenFile(p, OpenOptions::Create::kIfMissing, 0600);
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept->Size(), 5u);
  char buf[8] = {};
  EXPECT_EQ(*kept->ReadAt(3, buf, sizeof buf), 2u);  // short at the end
  EXPECT_EQ(std::string(buf, 2), "lo");
  ASSERT_TRUE(kept->Truncate(2).ok());
  EXPECT_EQ(*kept->Size(), 2u);
  kept.reset();

  auto emptied = OpenFile(p, OpenOptions::Create::kTruncate, 0600);
  ASSERT_TRUE(emptied);
  EXPECT_EQ(*emptied->Size(), 0u);

  EXPECT_EQ(env_.Open(dir_, read).status().code(), Code::kInvalidArgument);
}

TEST_F(EnvTest, RenameLinkUnlinkAndDirectories) {
  const std::string a = JoinPath(dir_, "a");
  const std::string b = JoinPath(dir_, "b");
  ASSERT_TRUE(WriteFileAtomic(env_, a, "A", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(env_, b, "B", 0600).ok());
  EXPECT_EQ(env_.Link(a, b).code(), Code::kAlreadyExists);
  ASSERT_TRUE(env_.Rename(a, b).ok());
  EXPECT_EQ(*ReadFile(env_, b, 10), "A");
  EXPECT_FALSE(Exists(env_, a));
  ASSERT_TRUE(env_.Link(b, a).ok());
  EXPECT_EQ(*ReadFile(env_, a, 10), "A");
  ASSERT_TRUE(env_.Unlink(a).ok());
  EXPECT_EQ(env_.Unlink(a).code(), Code::kNotFound);

  const std::string d = JoinPath(dir_, "d");
  const std::string full = JoinPath(dir_, "full");
  ASSERT_TRUE(env_.MakeDir(d, 0700).ok());
  EXPECT_EQ(env_.MakeDir(d, 0700).code(), Code::kAlreadyExists);
  ASSERT_TRUE(env_.MakeDir(full, 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(env_, JoinPath(full, "x"), "x", 0600).ok());
  // A directory replaces an empty one, never one with something in it.
  EXPECT_EQ(env_.Rename(d, full).code(), Code::kAlreadyExists);
  const std::string empty = JoinPath(dir_, "empty");
  ASSERT_TRUE(env_.MakeDir(empty, 0700).ok());
  ASSERT_TRUE(env_.Rename(d, empty).ok());
  EXPECT_TRUE(IsDirectory(env_, empty));
  EXPECT_FALSE(Exists(env_, d));
  ASSERT_TRUE(env_.SyncDir(dir_).ok());

  auto names = *env_.ListDir(dir_);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"b", "empty", "full"}));
  EXPECT_EQ(env_.RemoveDir(full).code(), Code::kIo);  // not empty
  ASSERT_TRUE(RemoveTree(env_, full).ok());
  EXPECT_FALSE(Exists(env_, full));
  ASSERT_TRUE(env_.SetMode(b, 0640).ok());
  EXPECT_EQ(env_.Stat(b)->mode, 0640u);
  EXPECT_EQ(env_.Stat(JoinPath(dir_, "none")).status().code(), Code::kNotFound);
}

TEST_F(EnvTest, ALockIsExclusiveEvenWithinTheProcess) {
  const std::string p = JoinPath(dir_, "lock");
  auto first = env_.Lock(p, /*wait=*/false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(env_.Stat(p)->mode & 0777, 0600u);
  EXPECT_EQ(env_.Lock(p, false).status().code(), Code::kUnavailable);
  first->reset();
  EXPECT_TRUE(env_.Lock(p, false).ok());
}

}  // namespace
}  // namespace warden::platform
