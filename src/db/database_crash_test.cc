// The database layer at every fault point: transactions, creation, and
// migrations forward and backward. WARDEN_CRASH_LONG=1 (ctest -L
// crash_long) runs longer sequences of transactions.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <set>

#include "db/database.h"
#include "db/vfs.h"
#include "platform/crash_testing.h"
#include "platform/file.h"

namespace warden::db {
namespace {

using platform::Env;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;

const Migration kV1 = {
    1, "CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    "DROP TABLE person;"};
const Migration kV2 = {
    2,
    "ALTER TABLE person ADD COLUMN email TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE pet (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL "
    "REFERENCES person(id) ON DELETE CASCADE, name TEXT NOT NULL);"
    "UPDATE person SET email = name || '@example.com';",
    "DROP TABLE pet; ALTER TABLE person DROP COLUMN email;"};
const Schema kOlder{0x54455354, {kV1}};
const Schema kNewer{0x54455354, {kV1, kV2}};

bool Long() {
  const char* v = std::getenv("WARDEN_CRASH_LONG");
  return v != nullptr && std::string(v) == "1";
}

std::string DbPath(const std::string& root) { return root + "/state.db"; }

// A name long enough that a row spans pages.
std::string NameOf(int i) {
  return "person-" + std::to_string(i) + "-" + std::string(3000, 'x');
}

void RunOrFail(Database& db, const std::string& sql) {
  Status st = db.Exec(sql);
  ASSERT_TRUE(st.ok()) << st.ToString();
}

void Insert(Database& db, int i) {
  auto s = db.Prepare("INSERT INTO person(id, name) VALUES(?1, ?2)");
  ASSERT_TRUE(s.ok());
  Status st = s->Bind(1, int64_t{i}).Bind(2, NameOf(i)).Run();
  ASSERT_TRUE(st.ok()) << st.ToString();
}

// The database as it is, read with the layer's VFS but without migrating.
struct Peek {
  int64_t version = -1;
  std::set<std::string> tables;
  std::vector<std::string> person_columns;
  std::set<int64_t> people;  // ids whose name is intact
  int64_t broken = 0;        // rows whose name is not
  int64_t stored_downs = 0;
};

Peek PeekAt(Env& env, const std::string& path) {
  Peek p;
  auto vfs = internal::AcquireEnvVfs(env);
  EXPECT_TRUE(vfs.ok());
  if (!vfs.ok()) return p;
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, vfs->c_str());
  auto query = [&](const char* sql, auto&& row) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) row(st);
    EXPECT_EQ(r, SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db);
    sqlite3_finalize(st);
  };
  auto text = [](sqlite3_stmt* st, int i) {
    const unsigned char* t = sqlite3_column_text(st, i);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  };
  if (rc == SQLITE_OK) {
    sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE", nullptr, nullptr,
                 nullptr);
    query("PRAGMA user_version",
          [&](sqlite3_stmt* st) { p.version = sqlite3_column_int64(st, 0); });
    query("SELECT name FROM sqlite_master WHERE type = 'table'",
          [&](sqlite3_stmt* st) { p.tables.insert(text(st, 0)); });
    if (p.tables.count("person")) {
      query("SELECT name FROM pragma_table_info('person')",
            [&](sqlite3_stmt* st) { p.person_columns.push_back(text(st, 0)); });
      query("SELECT id, name FROM person", [&](sqlite3_stmt* st) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (text(st, 1) == NameOf(static_cast<int>(id))) {
          p.people.insert(id);
        } else {
          ++p.broken;
        }
      });
    }
    if (p.tables.count("schema_migrations")) {
      query("SELECT COUNT(*) FROM schema_migrations", [&](sqlite3_stmt* st) {
        p.stored_downs = sqlite3_column_int64(st, 0);
      });
    }
  } else {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errstr(rc);
  }
  sqlite3_close(db);
  internal::ReleaseEnvVfs(env);
  return p;
}

void ExpectVersionOne(const Peek& p) {
  EXPECT_EQ(p.version, 1);
  EXPECT_EQ(p.person_columns, (std::vector<std::string>{"id", "name"}));
  EXPECT_EQ(p.tables.count("pet"), 0u);
  EXPECT_EQ(p.stored_downs, 1);
}

void ExpectVersionTwo(const Peek& p) {
  EXPECT_EQ(p.version, 2);
  EXPECT_EQ(p.person_columns,
            (std::vector<std::string>{"id", "name", "email"}));
  EXPECT_EQ(p.tables.count("pet"), 1u);
  EXPECT_EQ(p.stored_downs, 2);
}

TEST(DatabaseCrashTest, AcknowledgedTransactionsStayAndNoneIsHalfDone) {
  const int transactions = Long() ? 10 : 3;
  int acknowledged = 0;  // of the current run
  CrashTest t;
  t.setup = [](const std::string& root) {
    auto db = Database::Open(platform::DefaultEnv(), DbPath(root), kOlder);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Insert(**db, 0);
  };
  t.workload = [&](Env& env, const std::string& root) -> Status {
    acknowledged = 0;
    WARDEN_ASSIGN_OR_RETURN(auto db, Database::Open(env, DbPath(root), kOlder));
    for (int i = 1; i <= transactions; ++i) {
      // Two rows and a change to an old one, all or nothing.
      WARDEN_TRY(db->InTransaction([&]() -> Status {
        WARDEN_ASSIGN_OR_RETURN(
            Statement add,
            db->Prepare("INSERT INTO person(id, name) VALUES(?1, ?2)"));
        WARDEN_TRY(add.Bind(1, int64_t{i}).Bind(2, NameOf(i)).Run());
        add.Reset();
        WARDEN_TRY(
            add.Bind(1, int64_t{1000 + i}).Bind(2, NameOf(1000 + i)).Run());
        return db->Exec("UPDATE person SET name = name WHERE id = 0");
      }));
      ++acknowledged;
    }
    return Status::Ok();
  };
  t.check = [&](Env& env, const std::string& root, bool) {
    Peek p = PeekAt(env, DbPath(root));
    EXPECT_EQ(p.broken, 0);
    EXPECT_EQ(p.people.count(0), 1u) << "a row from before is gone";
    // The transactions that made it are 1..k, each with both rows; every
    // acknowledged one made it, and at most the one in flight besides.
    int k = 0;
    while (p.people.count(k + 1)) ++k;
    for (int i = 1; i <= transactions; ++i) {
      EXPECT_EQ(p.people.count(i), i <= k ? 1u : 0u) << "transaction " << i;
      EXPECT_EQ(p.people.count(1000 + i), i <= k ? 1u : 0u)
          << "transaction " << i << " is half there";
    }
    EXPECT_GE(k, acknowledged);
    EXPECT_LE(k, acknowledged + 1);
    // And the database opens for the next start.
    auto db = Database::Open(env, DbPath(root), kOlder);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
  };
  auto report = RunCrashTest(t);
  EXPECT_GT(report.fault_points, 5);
  EXPECT_GT(report.power_cuts, 10);
}

TEST(DatabaseCrashTest, ANewDatabaseIsCreatedWholeOrNotAtAll) {
  CrashTest t;
  t.setup = [](const std::string&) {};
  t.workload = [](Env& env, const std::string& root) -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto db, Database::Open(env, DbPath(root), kNewer));
    return db->Exec("INSERT INTO person(id, name) VALUES(7, '" + NameOf(7) +
                    "')");
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    auto db = Database::Open(env, DbPath(root), kNewer);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto s = (*db)->Prepare("SELECT COUNT(*) FROM person WHERE id = 7");
    ASSERT_TRUE(s.ok() && *s->Step());
    if (acknowledged) {
      EXPECT_EQ(s->Int(0), 1);
    }
  };
  RunCrashTest(t);
}

TEST(DatabaseCrashTest, AMigrationForwardIsAllOrNothing) {
  CrashTest t;
  t.setup = [](const std::string& root) {
    auto db = Database::Open(platform::DefaultEnv(), DbPath(root), kOlder);
    ASSERT_TRUE(db.ok());
    for (int i = 0; i < 3; ++i) Insert(**db, i);
  };
  t.workload = [](Env& env, const std::string& root) {
    return Database::Open(env, DbPath(root), kNewer).status();
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    Peek p = PeekAt(env, DbPath(root));
    if (acknowledged || p.version == 2) {
      ExpectVersionTwo(p);
    } else {
      ExpectVersionOne(p);
    }
    EXPECT_EQ(p.people, (std::set<int64_t>{0, 1, 2}));
    EXPECT_EQ(p.broken, 0);
  };
  RunCrashTest(t);
}

TEST(DatabaseCrashTest, AMigrationBackwardIsAllOrNothing) {
  CrashTest t;
  t.setup = [](const std::string& root) {
    auto db = Database::Open(platform::DefaultEnv(), DbPath(root), kNewer);
    ASSERT_TRUE(db.ok());
    for (int i = 0; i < 3; ++i) Insert(**db, i);
    RunOrFail(**db, "INSERT INTO pet(owner, name) VALUES(1, 'rex')");
  };
  t.workload = [](Env& env, const std::string& root) {
    return Database::Open(env, DbPath(root), kOlder).status();
  };
  t.check = [](Env& env, const std::string& root, bool acknowledged) {
    Peek p = PeekAt(env, DbPath(root));
    if (acknowledged || p.version == 1) {
      ExpectVersionOne(p);
    } else {
      ExpectVersionTwo(p);
    }
    EXPECT_EQ(p.people, (std::set<int64_t>{0, 1, 2}));
    EXPECT_EQ(p.broken, 0);
    // The older build starts on it either way.
    auto db = Database::Open(env, DbPath(root), kOlder);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
  };
  RunCrashTest(t);
}

}  // namespace
}  // namespace warden::db
