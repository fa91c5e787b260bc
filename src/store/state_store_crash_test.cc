// The owner store at every fault point: a device's first start and pairing,
// a second owner, removing one, reset, and the migration of a version 1
// database. After each, the store opens and holds the old state or the new.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <ostream>

#include "platform/crash_testing.h"
#include "store/state_store.h"

namespace warden::store {
namespace {

using platform::Env;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;

std::string DbPath(const std::string& root) { return root + "/state.db"; }

Owner MakeOwner(const std::string& name) {
  Owner o;
  o.name = name;
  o.spki_der = ToBytes("spki-of-" + name);
  o.fingerprint = "fp-" + name;
  o.created_at = 1700000000;
  return o;
}

// What a store holds, in a form easy to compare.
struct Contents {
  std::vector<std::string> owners;  // "name/role/password"
  std::vector<std::string> sessions;
  size_t cookies = 0;
  friend bool operator==(const Contents&, const Contents&) = default;
};

std::ostream& operator<<(std::ostream& os, const Contents& c) {
  os << "owners:";
  for (const auto& o : c.owners) os << " " << o;
  os << "; sessions:";
  for (const auto& s : c.sessions) os << " " << s;
  return os << "; cookies: " << c.cookies;
}

Result<Contents> Read(StateStore& s) {
  Contents c;
  WARDEN_ASSIGN_OR_RETURN(auto owners, s.Owners());
  for (const auto& o : owners) {
    WARDEN_ASSIGN_OR_RETURN(auto pw, s.PasswordHash(o.id));
    c.owners.push_back(o.name + "/" + std::string(RoleName(o.role)) + "/" +
                       pw.value_or("-"));
    for (const char* cookie : {"c-alice", "c-bob"}) {
      WARDEN_ASSIGN_OR_RETURN(auto found, s.FindDeviceCookie(cookie, 0));
      if (found && found->owner_id == o.id) ++c.cookies;
    }
  }
  WARDEN_ASSIGN_OR_RETURN(auto sessions, s.Sessions());
  for (const auto& session : sessions) c.sessions.push_back(session.token_hash);
  std::sort(c.sessions.begin(), c.sessions.end());
  return c;
}

// Opens the store as the next start of wardend would and reads it.
Contents OpenAndRead(Env& env, const std::string& root) {
  auto store = StateStore::Open(env, DbPath(root));
  EXPECT_TRUE(store.ok()) << "the store does not open: "
                          << store.status().ToString();
  if (!store.ok()) return {};
  auto c = Read(**store);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : Contents{};
}

// A device with two owners, their sessions and cookies.
void TwoOwners(const std::string& root) {
  auto s = StateStore::Open(DbPath(root));
  ASSERT_TRUE(s.ok());
  auto alice = (*s)->CompletePairing(MakeOwner("alice"), "pw-a");
  ASSERT_TRUE(alice.ok());
  auto bob = (*s)->AddOwner(MakeOwner("bob"), "pw-b");
  ASSERT_TRUE(bob.ok());
  ASSERT_TRUE((*s)->ReplaceSessions(
                      {{"s-alice", alice->id, 100}, {"s-bob", bob->id, 100}})
                  .ok());
  ASSERT_TRUE((*s)->AddDeviceCookie({"c-alice", alice->id, 1, 100}).ok());
  ASSERT_TRUE((*s)->AddDeviceCookie({"c-bob", bob->id, 1, 100}).ok());
}

const Contents kTwoOwners = {
    {"alice/admin/pw-a", "bob/member/pw-b"}, {"s-alice", "s-bob"}, 2};

// Checks that the store opens and holds `old_state` or `new_state`.
void ExpectOldOrNew(Env& env, const std::string& root, bool acknowledged,
                    const Contents& old_state, const Contents& new_state) {
  Contents now = OpenAndRead(env, root);
  if (acknowledged) {
    EXPECT_EQ(now, new_state);
  } else {
    EXPECT_TRUE(now == old_state || now == new_state) << now;
  }
}

TEST(StateStoreCrashTest, FirstStartAndPairing) {
  CrashTest t;
  t.setup = [](const std::string&) {};
  t.workload = [](Env& env, const std::string& root) -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto s, StateStore::Open(env, DbPath(root)));
    return s->CompletePairing(MakeOwner("alice"), "pw-a").status();
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    ExpectOldOrNew(env, root, acknowledged, Contents{},
                   Contents{{"alice/admin/pw-a"}, {}, 0});
  };
  auto report = RunCrashTest(t);
  EXPECT_GT(report.power_cuts, 10);
}

TEST(StateStoreCrashTest, ASecondOwner) {
  CrashTest t;
  t.setup = [](const std::string& root) {
    auto s = StateStore::Open(DbPath(root));
    ASSERT_TRUE(s.ok());
    auto alice = (*s)->CompletePairing(MakeOwner("alice"), "pw-a");
    ASSERT_TRUE(alice.ok());
    ASSERT_TRUE((*s)->ReplaceSessions({{"s-alice", alice->id, 100}}).ok());
  };
  t.workload = [](Env& env, const std::string& root) -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto s, StateStore::Open(env, DbPath(root)));
    return s->AddOwner(MakeOwner("bob"), "pw-b").status();
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    ExpectOldOrNew(
        env, root, acknowledged, Contents{{"alice/admin/pw-a"}, {"s-alice"}, 0},
        Contents{{"alice/admin/pw-a", "bob/member/pw-b"}, {"s-alice"}, 0});
  };
  RunCrashTest(t);
}

TEST(StateStoreCrashTest, RemovingAnOwner) {
  CrashTest t;
  t.setup = TwoOwners;
  t.workload = [](Env& env, const std::string& root) -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto s, StateStore::Open(env, DbPath(root)));
    WARDEN_ASSIGN_OR_RETURN(auto bob, s->FindOwnerByName("bob"));
    if (!bob) return NotFoundError("bob");
    return s->RemoveOwner(bob->id);
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    ExpectOldOrNew(env, root, acknowledged, kTwoOwners,
                   Contents{{"alice/admin/pw-a"}, {"s-alice"}, 1});
  };
  RunCrashTest(t);
}

TEST(StateStoreCrashTest, Reset) {
  CrashTest t;
  t.setup = TwoOwners;
  t.workload = [](Env& env, const std::string& root) -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto s, StateStore::Open(env, DbPath(root)));
    return s->Reset();
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    ExpectOldOrNew(env, root, acknowledged, kTwoOwners, Contents{});
  };
  RunCrashTest(t);
}

TEST(StateStoreCrashTest, TheMigrationOfAVersionOneDatabaseLosesNothing) {
  CrashTest t;
  t.setup = [](const std::string& root) {
    // As wardend's first release left it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath(root).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(
            db,
            "PRAGMA journal_mode=WAL;"
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE owners (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "spki BLOB NOT NULL, fingerprint TEXT NOT NULL UNIQUE, created_at "
            "INTEGER NOT NULL);"
            "CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, expires_at "
            "INTEGER NOT NULL);"
            "INSERT INTO meta VALUES('schema', '1'), ('password', 'pw-a');"
            "INSERT INTO owners VALUES(1, 'alice', x'01', 'fp-a', 10), (2, "
            "'bob', x'02', 'fp-b', 20);"
            "INSERT INTO sessions VALUES('s-alice', 100);",
            nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
  };
  t.workload = [](Env& env, const std::string& root) {
    return StateStore::Open(env, DbPath(root)).status();
  };
  t.check = [](Env& env, const std::string& root, bool) {
    // Migrated by this start or the next, it holds the same.
    EXPECT_EQ(OpenAndRead(env, root),
              (Contents{{"alice/admin/pw-a", "bob/member/-"}, {"s-alice"}, 0}));
  };
  RunCrashTest(t);
}

}  // namespace
}  // namespace warden::store
