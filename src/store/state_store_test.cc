#include "store/state_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
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

  Owner MakeOwner(const std::string& name, Role role = Role::kMember) {
    Owner o;
    o.name = name;
    o.spki_der = ToBytes("spki-of-" + name);
    o.fingerprint = "fp-" + name;
    o.created_at = 1700000000;
    o.role = role;
    return o;
  }

  std::unique_ptr<StateStore> OpenStore() {
    auto store = StateStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Runs SQL on the file directly, as another build of wardend would.
  void RawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(StateStoreTest, PairingIsOneShotMakesAnAdministratorAndSurvivesReopen) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store);
    EXPECT_FALSE(*store->IsPaired());
    auto alice = store->CompletePairing(MakeOwner("alice"), "hash1");
    ASSERT_TRUE(alice.ok()) << alice.status().ToString();
    // The first owner is an administrator whatever the record said.
    EXPECT_EQ(alice->role, Role::kAdmin);
    EXPECT_GT(alice->id, 0);
    auto second = store->CompletePairing(MakeOwner("mallory"), "hash2");
    EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  }
  auto store = OpenStore();
  ASSERT_TRUE(store);
  EXPECT_TRUE(*store->IsPaired());
  auto owners = store->Owners();
  ASSERT_EQ(owners->size(), 1u);
  const Owner& alice = (*owners)[0];
  EXPECT_EQ(alice.name, "alice");
  EXPECT_EQ(alice.role, Role::kAdmin);
  EXPECT_EQ(alice.spki_der, ToBytes("spki-of-alice"));
  EXPECT_EQ(**store->PasswordHash(alice.id), "hash1");
  EXPECT_EQ((*store->FindOwner("fp-alice"))->id, alice.id);
  EXPECT_EQ((*store->FindOwnerById(alice.id))->name, "alice");
  EXPECT_EQ((*store->FindOwnerByName("alice"))->fingerprint, "fp-alice");
  EXPECT_FALSE(store->FindOwner("fp-mallory")->has_value());
  EXPECT_FALSE(store->FindOwnerByName("mallory")->has_value());
  EXPECT_FALSE(store->FindOwnerById(alice.id + 1)->has_value());

  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StateStoreTest, AdditionalOwnersNeedAFirstOneAndHaveUniqueKeysAndNames) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->AddOwner(MakeOwner("bob"), std::nullopt).status().code(),
            Code::kFailedPrecondition);
  auto alice = s->CompletePairing(MakeOwner("alice"), "hash");
  ASSERT_TRUE(alice.ok());
  ASSERT_TRUE(s->ReplaceSessions({{"aa", alice->id, 10}}).ok());
  auto bob = s->AddOwner(MakeOwner("bob"), "bob-hash");
  ASSERT_TRUE(bob.ok()) << bob.status().ToString();
  EXPECT_EQ(bob->role, Role::kMember);
  auto carol = s->AddOwner(MakeOwner("carol", Role::kAdmin), std::nullopt);
  ASSERT_TRUE(carol.ok());
  EXPECT_EQ(carol->role, Role::kAdmin);
  EXPECT_EQ((*s->FindOwnerById(carol->id))->role, Role::kAdmin);

  // The same key again, or a taken name with another key.
  EXPECT_EQ(s->AddOwner(MakeOwner("bob"), std::nullopt).status().code(),
            Code::kAlreadyExists);
  Owner impostor = MakeOwner("dave");
  impostor.name = "alice";
  EXPECT_EQ(s->AddOwner(impostor, std::nullopt).status().code(),
            Code::kAlreadyExists);
  EXPECT_EQ(s->Owners()->size(), 3u);

  // Each owner has their own password; the first owner's is untouched.
  EXPECT_EQ(**s->PasswordHash(alice->id), "hash");
  EXPECT_EQ(**s->PasswordHash(bob->id), "bob-hash");
  EXPECT_FALSE(s->PasswordHash(carol->id)->has_value());
  EXPECT_EQ(s->Sessions()->size(), 1u);
}

TEST_F(StateStoreTest, RemovingAnOwnerTakesTheirCredentialsOnly) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  auto alice = *s->CompletePairing(MakeOwner("alice"), "a-hash");
  auto bob = *s->AddOwner(MakeOwner("bob"), "b-hash");
  ASSERT_TRUE(
      s->ReplaceSessions({{"sa", alice.id, 100}, {"sb", bob.id, 100}}).ok());
  ASSERT_TRUE(s->AddDeviceCookie({"ca", alice.id, 1, 100}).ok());
  ASSERT_TRUE(s->AddDeviceCookie({"cb", bob.id, 1, 100}).ok());

  ASSERT_TRUE(s->RemoveOwner(bob.id).ok());
  EXPECT_FALSE(s->FindOwnerById(bob.id)->has_value());
  EXPECT_FALSE(s->PasswordHash(bob.id)->has_value());
  EXPECT_FALSE(s->FindDeviceCookie("cb", 2)->has_value());
  auto sessions = *s->Sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].token_hash, "sa");
  // Alice keeps everything.
  EXPECT_EQ(**s->PasswordHash(alice.id), "a-hash");
  EXPECT_TRUE(s->FindDeviceCookie("ca", 2)->has_value());

  EXPECT_EQ(s->RemoveOwner(bob.id).code(), Code::kNotFound);
  // Bob's name is free again.
  EXPECT_TRUE(s->AddOwner(MakeOwner("bob"), std::nullopt).ok());
}

TEST_F(StateStoreTest, TheLastAdministratorCannotBeRemoved) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  auto alice = *s->CompletePairing(MakeOwner("alice"), std::nullopt);
  auto bob = *s->AddOwner(MakeOwner("bob"), std::nullopt);
  EXPECT_EQ(s->RemoveOwner(alice.id).code(), Code::kFailedPrecondition);
  EXPECT_TRUE(s->FindOwnerById(alice.id)->has_value());
  // With a second administrator, the first may go.
  auto carol = *s->AddOwner(MakeOwner("carol", Role::kAdmin), std::nullopt);
  ASSERT_TRUE(s->RemoveOwner(alice.id).ok());
  EXPECT_EQ(s->RemoveOwner(carol.id).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(s->RemoveOwner(bob.id).ok());
  EXPECT_EQ(s->Owners()->size(), 1u);
}

TEST_F(StateStoreTest, ResetRemovesEverythingTheOwnersHad) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  auto alice = *s->CompletePairing(MakeOwner("alice"), "hash");
  auto bob = *s->AddOwner(MakeOwner("bob"), "hash2");
  ASSERT_TRUE(
      s->ReplaceSessions({{"aa", alice.id, 1}, {"bb", bob.id, 2}}).ok());
  ASSERT_TRUE(s->AddDeviceCookie({"c1", bob.id, 1, 100}).ok());
  ASSERT_TRUE(s->Reset().ok());
  EXPECT_FALSE(*s->IsPaired());
  EXPECT_FALSE(s->PasswordHash(alice.id)->has_value());
  EXPECT_FALSE(s->PasswordHash(bob.id)->has_value());
  EXPECT_TRUE(s->Sessions()->empty());
  EXPECT_FALSE(s->FindDeviceCookie("c1", 2)->has_value());
  // Pairs again after a reset, and the new owner inherits nothing.
  auto carol = s->CompletePairing(MakeOwner("carol"), std::nullopt);
  ASSERT_TRUE(carol.ok());
  EXPECT_FALSE(s->PasswordHash(carol->id)->has_value());
}

TEST_F(StateStoreTest, NewPasswordEndsThatOwnersSessionsAndCookiesOnly) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  auto alice = *s->CompletePairing(MakeOwner("alice"), "old");
  auto bob = *s->AddOwner(MakeOwner("bob"), "bob");
  ASSERT_TRUE(
      s->ReplaceSessions({{"aa", alice.id, 10}, {"bb", bob.id, 10}}).ok());
  ASSERT_TRUE(s->AddDeviceCookie({"ca", alice.id, 1, 100}).ok());
  ASSERT_TRUE(s->AddDeviceCookie({"cb", bob.id, 1, 100}).ok());

  ASSERT_TRUE(s->SetPasswordHash(alice.id, "new").ok());
  EXPECT_EQ(**s->PasswordHash(alice.id), "new");
  EXPECT_EQ(**s->PasswordHash(bob.id), "bob");
  auto sessions = *s->Sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].owner_id, bob.id);
  EXPECT_FALSE(s->FindDeviceCookie("ca", 2)->has_value());
  EXPECT_TRUE(s->FindDeviceCookie("cb", 2)->has_value());

  // An owner without a password can be given one; nobody else cannot.
  auto carol = *s->AddOwner(MakeOwner("carol"), std::nullopt);
  ASSERT_TRUE(s->SetPasswordHash(carol.id, "c").ok());
  EXPECT_EQ(**s->PasswordHash(carol.id), "c");
  EXPECT_EQ(s->SetPasswordHash(carol.id + 100, "x").code(), Code::kNotFound);
}

TEST_F(StateStoreTest, SessionsBelongToExistingOwners) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  auto alice = *s->CompletePairing(MakeOwner("alice"), std::nullopt);
  ASSERT_TRUE(s->ReplaceSessions({{"aa", alice.id, 10}}).ok());
  Status st = s->ReplaceSessions({{"bb", alice.id, 10}, {"cc", 999, 10}});
  EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.ToString();
  // Nothing changed.
  auto sessions = *s->Sessions();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].token_hash, "aa");
  EXPECT_EQ(sessions[0].expires_at, 10);
}

TEST_F(StateStoreTest, DeviceCookiesExpireAndAreBoundedPerOwner) {
  auto s = OpenStore();
  ASSERT_TRUE(s);
  auto alice = *s->CompletePairing(MakeOwner("alice"), std::nullopt);
  auto bob = *s->AddOwner(MakeOwner("bob"), std::nullopt);

  ASSERT_TRUE(s->AddDeviceCookie({"c0", alice.id, 100, 200}).ok());
  auto found = *s->FindDeviceCookie("c0", 150);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->owner_id, alice.id);
  EXPECT_EQ(found->created_at, 100);
  EXPECT_EQ(found->expires_at, 200);
  EXPECT_FALSE(s->FindDeviceCookie("c0", 200)->has_value());  // expired
  EXPECT_FALSE(s->FindDeviceCookie("nope", 150)->has_value());
  EXPECT_EQ(s->AddDeviceCookie({"c0", alice.id, 101, 300}).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(s->AddDeviceCookie({"cx", 999, 101, 300}).code(), Code::kNotFound);
  ASSERT_TRUE(s->RemoveDeviceCookie("c0").ok());
  EXPECT_FALSE(s->FindDeviceCookie("c0", 150)->has_value());
  EXPECT_TRUE(s->RemoveDeviceCookie("c0").ok());

  ASSERT_TRUE(s->AddDeviceCookie({"bob", bob.id, 1, 10000}).ok());
  for (size_t i = 0; i < kMaxDeviceCookiesPerOwner + 2; ++i) {
    ASSERT_TRUE(s->AddDeviceCookie({"a" + std::to_string(i), alice.id,
                                    static_cast<int64_t>(1000 + i), 10000})
                    .ok());
  }
  // Alice's two oldest are gone, her newest 16 stay, Bob's is untouched.
  EXPECT_FALSE(s->FindDeviceCookie("a0", 1)->has_value());
  EXPECT_FALSE(s->FindDeviceCookie("a1", 1)->has_value());
  for (size_t i = 2; i < kMaxDeviceCookiesPerOwner + 2; ++i) {
    EXPECT_TRUE(s->FindDeviceCookie("a" + std::to_string(i), 1)->has_value())
        << i;
  }
  EXPECT_TRUE(s->FindDeviceCookie("bob", 1)->has_value());
}

// The database as wardend's first release left it on devices.
constexpr char kV1Database[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE owners (id INTEGER PRIMARY KEY, name TEXT NOT NULL, spki "
    "BLOB NOT NULL, fingerprint TEXT NOT NULL UNIQUE, created_at INTEGER NOT "
    "NULL);"
    "CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, expires_at INTEGER "
    "NOT NULL);"
    "INSERT INTO meta VALUES('schema', '1'), ('password', 'pw-hash');"
    "INSERT INTO owners VALUES(3, 'alice', x'01', 'fp-a', 10),"
    " (5, 'bob', x'02', 'fp-b', 20), (9, 'alice', x'03', 'fp-c', 30);"
    "INSERT INTO sessions VALUES('s1', 100), ('s2', 200);";

TEST_F(StateStoreTest, AVersionOneDatabaseKeepsItsOwnersPasswordAndSessions) {
  RawSql(kV1Database);
  auto s = OpenStore();
  ASSERT_TRUE(s);
  auto owners = *s->Owners();
  ASSERT_EQ(owners.size(), 3u);
  EXPECT_EQ(owners[0].id, 3);
  EXPECT_EQ(owners[0].name, "alice");
  EXPECT_EQ(owners[0].role, Role::kAdmin);
  EXPECT_EQ(owners[0].spki_der, Bytes{0x01});
  EXPECT_EQ(owners[0].created_at, 10);
  EXPECT_EQ(owners[1].name, "bob");
  EXPECT_EQ(owners[1].role, Role::kMember);
  // Names are unique now: the later "alice" is told apart by its id.
  EXPECT_EQ(owners[2].name, "alice #9");
  EXPECT_EQ(owners[2].fingerprint, "fp-c");
  EXPECT_EQ(owners[2].role, Role::kMember);
  // The one password and the sessions were the first owner's.
  EXPECT_EQ(**s->PasswordHash(3), "pw-hash");
  EXPECT_FALSE(s->PasswordHash(5)->has_value());
  auto sessions = *s->Sessions();
  ASSERT_EQ(sessions.size(), 2u);
  for (const auto& session : sessions) EXPECT_EQ(session.owner_id, 3);
  // The first owner is the last administrator.
  EXPECT_EQ(s->RemoveOwner(3).code(), Code::kFailedPrecondition);
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
