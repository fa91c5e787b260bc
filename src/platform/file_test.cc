#include "platform/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

namespace warden::platform {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-file-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FileTest, AtomicWriteReplacesAndLeavesNoTemporaries) {
  std::string p = JoinPath(dir_, "a.json");
  ASSERT_TRUE(WriteFileAtomic(p, "one", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(p, "two", 0600).ok());
  EXPECT_EQ(*ReadFile(p, 100), "two");
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(FileTest, ReadRefusesOversizeAndMissing) {
  std::string p = JoinPath(dir_, "big");
  ASSERT_TRUE(WriteFileAtomic(p, std::string(1000, 'x'), 0644).ok());
  EXPECT_EQ(ReadFile(p, 999).status().code(), Code::kResourceExhausted);
  EXPECT_EQ(ReadFile(p, 1000)->size(), 1000u);
  EXPECT_EQ(ReadFile(JoinPath(dir_, "none"), 10).status().code(),
            Code::kNotFound);
  EXPECT_EQ(ReadFile(dir_, 10).status().code(), Code::kInvalidArgument);
}

TEST_F(FileTest, ExclusiveCreateNeverOverwrites) {
  std::string p = JoinPath(dir_, "once");
  ASSERT_TRUE(CreateFileExclusive(DefaultEnv(), p, "first", 0600).ok());
  EXPECT_EQ(CreateFileExclusive(DefaultEnv(), p, "second", 0600).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(*ReadFile(p, 100), "first");
}

TEST_F(FileTest, MakeDirsCreatesParents) {
  std::string p = JoinPath(dir_, "a/b/c");
  ASSERT_TRUE(MakeDirs(DefaultEnv(), p, 0700).ok());
  EXPECT_TRUE(IsDirectory(p));
  EXPECT_TRUE(MakeDirs(DefaultEnv(), p, 0700).ok());
}

}  // namespace
}  // namespace warden::platform
