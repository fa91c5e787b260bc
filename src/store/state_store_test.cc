#include "store/state_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "platform/file.h"

namespace warden::store {
namespace {

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-store-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/state.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Owner MakeOwner(const std::string& name) {
    Owner o;
    o.name = name;
    o.spki_der = ToBytes("spki-of-" + name);
    o.fingerprint = "fp-" + name;
    o.created_at = 1700000000;
    return o;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(StateStoreTest, PairingIsOneShotAndSurvivesReopen) {
  {
    auto store = StateStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_FALSE(*(*store)->IsPaired());
    ASSERT_TRUE((*store)->CompletePairing(MakeOwner("alice"), "hash1").ok());
    Status second = (*store)->CompletePairing(MakeOwner("mallory"), "hash2");
    EXPECT_EQ(second.code(), Code::kFailedPrecondition);
  }
  auto store = StateStore::Open(path_);
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(*(*store)->IsPaired());
  auto owners = (*store)->Owners();
  ASSERT_EQ(owners->size(), 1u);
  EXPECT_EQ((*owners)[0].name, "alice");
  EXPECT_EQ(**(*store)->PasswordHash(), "hash1");
  EXPECT_TRUE((*(*store)->FindOwner("fp-alice")).has_value());
  EXPECT_FALSE((*(*store)->FindOwner("fp-mallory")).has_value());

  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StateStoreTest, AdditionalOwnersNeedAFirstOneAndAreUnique) {
  auto store = StateStore::Open(path_);
  ASSERT_TRUE(store.ok());
  auto& s = **store;
  EXPECT_EQ(s.AddOwner(MakeOwner("bob")).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(s.CompletePairing(MakeOwner("alice"), "hash").ok());
  ASSERT_TRUE(s.ReplaceSessions({{"aa", 10}}).ok());
  ASSERT_TRUE(s.AddOwner(MakeOwner("bob")).ok());
  EXPECT_EQ(s.AddOwner(MakeOwner("bob")).code(), Code::kAlreadyExists);
  EXPECT_EQ(s.Owners()->size(), 2u);
  EXPECT_EQ(**s.PasswordHash(), "hash");  // untouched
  EXPECT_EQ(s.Sessions()->size(), 1u);
  ASSERT_TRUE(s.Reset().ok());
  EXPECT_TRUE(s.Owners()->empty());
}

TEST_F(StateStoreTest, ResetRemovesEverythingTheOwnerHad) {
  auto store = StateStore::Open(path_);
  ASSERT_TRUE(store.ok());
  auto& s = **store;
  ASSERT_TRUE(s.CompletePairing(MakeOwner("alice"), "hash").ok());
  ASSERT_TRUE(s.ReplaceSessions({{"aa", 1}, {"bb", 2}}).ok());
  ASSERT_TRUE(s.Reset().ok());
  EXPECT_FALSE(*s.IsPaired());
  EXPECT_FALSE(s.PasswordHash()->has_value());
  EXPECT_TRUE(s.Sessions()->empty());
  // Pairs again after a reset.
  EXPECT_TRUE(s.CompletePairing(MakeOwner("bob"), std::nullopt).ok());
  EXPECT_FALSE(s.PasswordHash()->has_value());
}

TEST_F(StateStoreTest, NewPasswordEndsSessions) {
  auto store = StateStore::Open(path_);
  ASSERT_TRUE(store.ok());
  auto& s = **store;
  ASSERT_TRUE(s.CompletePairing(MakeOwner("alice"), "old").ok());
  ASSERT_TRUE(s.ReplaceSessions({{"aa", 10}}).ok());
  EXPECT_EQ(s.Sessions()->size(), 1u);
  ASSERT_TRUE(s.SetPasswordHash("new").ok());
  EXPECT_EQ(**s.PasswordHash(), "new");
  EXPECT_TRUE(s.Sessions()->empty());
}

TEST_F(StateStoreTest, ForeignFileIsRefusedAndKept) {
  std::string junk(4096, 'x');
  ASSERT_TRUE(platform::WriteFileAtomic(path_, junk, 0600).ok());
  auto store = StateStore::Open(path_);
  EXPECT_FALSE(store.ok());
  EXPECT_EQ(*platform::ReadFile(path_, 10000), junk);
}

}  // namespace
}  // namespace warden::store
