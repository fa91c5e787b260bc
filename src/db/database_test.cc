#include "db/database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>

#include "platform/fault_injection_env.h"
#include "platform/file.h"

namespace warden::db {
namespace {

using platform::FaultInjectionEnv;

// A schema in two versions, as two builds of a program would know it.
const Migration kV1 = {
    1, "CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    "DROP TABLE person;"};
const Migration kV2 = {
    2,
    "ALTER TABLE person ADD COLUMN email TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE pet (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL "
    "REFERENCES person(id) ON DELETE CASCADE, name TEXT NOT NULL);",
    "DROP TABLE pet; ALTER TABLE person DROP COLUMN email;"};
constexpr int32_t kAppId = 0x54455354;

Schema OlderBuild() { return Schema{kAppId, {kV1}}; }
Schema NewerBuild() { return Schema{kAppId, {kV1, kV2}}; }

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-db-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/test.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Database> OpenDb(
      const Schema& schema, platform::Env& env = platform::DefaultEnv()) {
    auto db = Database::Open(env, path_, schema);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(*db) : nullptr;
  }

  int64_t QueryInt(Database& db, const std::string& sql) {
    auto s = db.Prepare(sql);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return -1;
    auto row = s->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return row.ok() && *row ? s->Int(0) : -1;
  }

  // The column names of a table, as the older code would see them.
  std::vector<std::string> Columns(Database& db, const std::string& table) {
    auto s = db.Prepare("SELECT name FROM pragma_table_info('" + table + "')");
    std::vector<std::string> out;
    while (s.ok() && s->Step().value_or(false)) out.push_back(s->Text(0));
    return out;
  }

  bool HasTable(Database& db, const std::string& table) {
    return QueryInt(db,
                    "SELECT COUNT(*) FROM sqlite_master WHERE type='table' "
                    "AND name='" +
                        table + "'") == 1;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(DatabaseTest, OpensOwnerOnlyWithThePragmasCrashSafetyNeeds) {
  auto db = OpenDb(OlderBuild());
  ASSERT_TRUE(db);
  EXPECT_EQ(db->version(), 1);
  auto mode = db->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok() && *mode->Step());
  EXPECT_EQ(mode->Text(0), "wal");
  EXPECT_EQ(QueryInt(*db, "PRAGMA synchronous"), 2);  // FULL
  EXPECT_EQ(QueryInt(*db, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(QueryInt(*db, "PRAGMA secure_delete"), 1);
  EXPECT_EQ(QueryInt(*db, "PRAGMA application_id"), kAppId);
  EXPECT_EQ(platform::DefaultEnv().Stat(path_)->mode & 0777, 0600u);
}

TEST_F(DatabaseTest, StatementsBindAndReadEveryType) {
  auto db = OpenDb(OlderBuild());
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (i INTEGER, s TEXT, b BLOB)").ok());
  auto insert = db->Prepare("INSERT INTO t VALUES(?1, ?2, ?3)");
  ASSERT_TRUE(insert.ok());
  const Bytes blob = {0x00, 0xff, 0x00};
  ASSERT_TRUE(insert->Bind(1, int64_t{-7})
                  .Bind(2, std::string_view("a\0b", 3))
                  .Bind(3, ByteView(blob))
                  .Run()
                  .ok());
  insert->Reset();
  ASSERT_TRUE(
      insert->BindNull(1).Bind(2, "").Bind(3, ByteView(Bytes())).Run().ok());
  auto read = db->Prepare("SELECT i, s, b FROM t ORDER BY rowid");
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(*read->Step());
  EXPECT_EQ(read->Int(0), -7);
  EXPECT_EQ(read->Text(1), std::string("a\0b", 3));
  EXPECT_EQ(read->Blob(2), blob);
  ASSERT_TRUE(*read->Step());
  EXPECT_TRUE(read->IsNull(0));
  EXPECT_FALSE(read->IsNull(2));  // an empty blob, not NULL
  EXPECT_TRUE(read->Blob(2).empty());
  EXPECT_FALSE(*read->Step());

  // A parameter that does not exist is reported, not ignored.
  auto bad = db->Prepare("SELECT ?1");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->Bind(2, int64_t{1}).Step().status().code(), Code::kInternal);
  EXPECT_EQ(db->Prepare("SELEC 1").status().code(), Code::kInternal);
}

TEST_F(DatabaseTest, AReusedStatementKeepsNoBindingOfItsLastUse) {
  auto db = OpenDb(OlderBuild());
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Exec("INSERT INTO person(id, name) VALUES(1, 'alice')").ok());
  const std::string find = "SELECT name FROM person WHERE id = ?1";
  {
    auto s = db->Prepare(find);
    ASSERT_TRUE(s.ok());
    s->Bind(1, int64_t{1});
    ASSERT_TRUE(*s->Step());
    EXPECT_EQ(s->Text(0), "alice");
  }
  const size_t cached = db->cached_statements();
  // The same text again is the cached statement, rewound and with its
  // parameter unbound: a caller that forgets to bind finds nothing rather
  // than the last caller's row.
  auto again = db->Prepare(find);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(db->cached_statements(), cached);
  EXPECT_FALSE(*again->Step());
}

TEST_F(DatabaseTest, AStatementInUseIsNotHandedOutTwice) {
  auto db = OpenDb(OlderBuild());
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Exec("INSERT INTO person(id, name) VALUES(1, 'alice'), "
                       "(2, 'bob')")
                  .ok());
  const std::string all = "SELECT name FROM person ORDER BY id";
  auto outer = db->Prepare(all);
  ASSERT_TRUE(outer.ok());
  ASSERT_TRUE(*outer->Step());
  EXPECT_EQ(outer->Text(0), "alice");
  // Preparing the same text while the first is mid-way gives another
  // statement, and the first carries on where it was.
  auto inner = db->Prepare(all);
  ASSERT_TRUE(inner.ok());
  ASSERT_TRUE(*inner->Step());
  EXPECT_EQ(inner->Text(0), "alice");
  ASSERT_TRUE(*outer->Step());
  EXPECT_EQ(outer->Text(0), "bob");
}

TEST_F(DatabaseTest, TheStatementCacheIsBounded) {
  auto db = OpenDb(OlderBuild());
  ASSERT_TRUE(db);
  for (int i = 0; i < 3 * static_cast<int>(kStatementCacheSize); ++i) {
    EXPECT_EQ(QueryInt(*db, "SELECT " + std::to_string(i)), i);
  }
  EXPECT_EQ(db->cached_statements(), kStatementCacheSize);
  // Even with every cached statement in use at once.
  std::vector<Statement> held;
  for (int i = 0; i < 2 * static_cast<int>(kStatementCacheSize); ++i) {
    auto s = db->Prepare("SELECT 'held', " + std::to_string(i));
    ASSERT_TRUE(s.ok());
    held.push_back(std::move(*s));
  }
  EXPECT_LE(db->cached_statements(), kStatementCacheSize);
  for (int i = 0; i < 2 * static_cast<int>(kStatementCacheSize); ++i) {
    ASSERT_TRUE(*held[static_cast<size_t>(i)].Step());
    EXPECT_EQ(held[static_cast<size_t>(i)].Int(1), i);
  }
}

TEST_F(DatabaseTest, ConstraintsBecomeTheirCodes) {
  auto db = OpenDb(NewerBuild());
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Exec("INSERT INTO person(id, name) VALUES(1, 'a')").ok());
  EXPECT_EQ(db->Exec("INSERT INTO person(id, name) VALUES(1, 'b')").code(),
            Code::kAlreadyExists);
  EXPECT_EQ(db->Exec("INSERT INTO pet(owner, name) VALUES(9, 'rex')").code(),
            Code::kFailedPrecondition);
}

TEST_F(DatabaseTest, ATransactionIsAllOrNothing) {
  auto db = OpenDb(OlderBuild());
  ASSERT_TRUE(db);
  Status failed = db->InTransaction([&]() -> Status {
    WARDEN_TRY(db->Exec("INSERT INTO person(name) VALUES('a')"));
    // Joins the transaction around it.
    WARDEN_TRY(db->InTransaction(
        [&] { return db->Exec("INSERT INTO person(name) VALUES('b')"); }));
    return FailedPreconditionError("changed my mind");
  });
  EXPECT_EQ(failed.code(), Code::kFailedPrecondition);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM person"), 0);
  ASSERT_TRUE(db->InTransaction([&] {
                  return db->Exec(
                      "INSERT INTO person(name) VALUES('a'), ('b')");
                }).ok());
  EXPECT_EQ(db->Changes(), 2);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM person"), 2);
}

TEST_F(DatabaseTest, AnOlderBuildGoesBackWithTheScriptsTheNewerOneLeft) {
  {
    auto v1 = OpenDb(OlderBuild());
    ASSERT_TRUE(v1);
    ASSERT_TRUE(v1->Exec("INSERT INTO person(id, name) VALUES(1, 'ann')").ok());
  }
  {
    // The update: forward to version 2, and new data in its shape.
    auto v2 = OpenDb(NewerBuild());
    ASSERT_TRUE(v2);
    EXPECT_EQ(v2->version(), 2);
    ASSERT_TRUE(v2->Exec("UPDATE person SET email = 'ann@example.com';"
                         "INSERT INTO person(id, name, email) VALUES(2, "
                         "'bob', 'bob@example.com');"
                         "INSERT INTO pet(owner, name) VALUES(1, 'rex')")
                    .ok());
  }
  {
    // The rollback: the older build knows only version 1.
    auto back = OpenDb(OlderBuild());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->version(), 1);
    EXPECT_EQ(QueryInt(*back, "PRAGMA user_version"), 1);
    EXPECT_EQ(Columns(*back, "person"),
              (std::vector<std::string>{"id", "name"}));
    EXPECT_FALSE(HasTable(*back, "pet"));
    EXPECT_EQ(QueryInt(*back,
                       "SELECT COUNT(*) FROM person WHERE (id, name) "
                       "IN (VALUES (1, 'ann'), (2, 'bob'))"),
              2);
    EXPECT_EQ(QueryInt(*back, "SELECT COUNT(*) FROM schema_migrations"), 1);
    // It works as version 1 does.
    EXPECT_TRUE(back->Exec("INSERT INTO person(name) VALUES('cy')").ok());
  }
  // And the update again.
  auto again = OpenDb(NewerBuild());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->version(), 2);
  EXPECT_EQ(QueryInt(*again, "SELECT COUNT(*) FROM person"), 3);
  EXPECT_TRUE(HasTable(*again, "pet"));
  EXPECT_TRUE(
      again->Exec("INSERT INTO pet(owner, name) VALUES(2, 'tom')").ok());
}

TEST_F(DatabaseTest, ANewerDatabaseWithoutAWayBackIsRefusedUntouched) {
  {
    auto v2 = OpenDb(NewerBuild());
    ASSERT_TRUE(v2);
    ASSERT_TRUE(v2->Exec("INSERT INTO person(name) VALUES('ann');"
                         "DELETE FROM schema_migrations WHERE version = 2")
                    .ok());
  }
  auto refused = Database::Open(platform::DefaultEnv(), path_, OlderBuild());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kDataLoss);
  EXPECT_NE(refused.status().message().find("newer than this build"),
            std::string::npos)
      << refused.status().message();
  auto v2 = OpenDb(NewerBuild());
  ASSERT_TRUE(v2);
  EXPECT_EQ(QueryInt(*v2, "SELECT COUNT(*) FROM person"), 1);
  EXPECT_TRUE(HasTable(*v2, "pet"));
}

TEST_F(DatabaseTest, AStoredScriptCannotReachOtherFiles) {
  const std::string elsewhere = dir_ + "/elsewhere.db";
  {
    auto v2 = OpenDb(NewerBuild());
    ASSERT_TRUE(v2);
    auto tamper =
        v2->Prepare("UPDATE schema_migrations SET down = ?1 WHERE version = 2");
    ASSERT_TRUE(tamper.ok());
    ASSERT_TRUE(
        tamper
            ->Bind(1, "ATTACH '" + elsewhere + "' AS x; CREATE TABLE x.t (a);")
            .Run()
            .ok());
  }
  auto refused = Database::Open(platform::DefaultEnv(), path_, OlderBuild());
  EXPECT_EQ(refused.status().code(), Code::kDataLoss)
      << refused.status().ToString();
  EXPECT_FALSE(platform::Exists(elsewhere));
  {
    auto v2 = OpenDb(NewerBuild());
    ASSERT_TRUE(v2);
    ASSERT_TRUE(v2->Exec("UPDATE schema_migrations SET down = 'PRAGMA "
                         "writable_schema = ON' WHERE version = 2")
                    .ok());
  }
  EXPECT_EQ(Database::Open(platform::DefaultEnv(), path_, OlderBuild())
                .status()
                .code(),
            Code::kDataLoss);
  EXPECT_EQ(OpenDb(NewerBuild())->version(), 2);
}

TEST_F(DatabaseTest, VacuumDropsTheFreePagesAndAttachStaysRefused) {
  auto db = OpenDb(OlderBuild());
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(db->Exec("INSERT INTO person(name) VALUES('" +
                         std::string(1000, 'n') + "')")
                    .ok());
  }
  ASSERT_TRUE(db->Exec("DELETE FROM person").ok());
  EXPECT_GT(QueryInt(*db, "PRAGMA freelist_count"), 20);
  ASSERT_TRUE(db->Vacuum().ok());
  EXPECT_EQ(QueryInt(*db, "PRAGMA freelist_count"), 0);
  EXPECT_FALSE(
      db->Exec("ATTACH '" + dir_ + "/other.db' AS x; CREATE TABLE x.t (a);")
          .ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/other.db"));
  EXPECT_EQ(db->InTransaction([&] { return db->Vacuum(); }).code(),
            Code::kFailedPrecondition);
}

TEST_F(DatabaseTest, ForeignFilesAreRefusedAndKept) {
  ASSERT_TRUE(
      platform::WriteFileAtomic(path_, std::string(4096, 'x'), 0600).ok());
  EXPECT_EQ(Database::Open(platform::DefaultEnv(), path_, OlderBuild())
                .status()
                .code(),
            Code::kDataLoss);
  EXPECT_EQ(*platform::ReadFile(path_, 10000), std::string(4096, 'x'));

  // Another application's database.
  ASSERT_TRUE(platform::RemoveFile(path_).ok());
  { OpenDb(Schema{0x4f544852, {kV1}}); }
  EXPECT_EQ(Database::Open(platform::DefaultEnv(), path_, OlderBuild())
                .status()
                .code(),
            Code::kDataLoss);
}

TEST_F(DatabaseTest, OneProcessAtATime) {
  auto first = OpenDb(OlderBuild());
  ASSERT_TRUE(first);
  auto second = Database::Open(platform::DefaultEnv(), path_, OlderBuild());
  EXPECT_EQ(second.status().code(), Code::kUnavailable)
      << second.status().ToString();
  first.reset();
  EXPECT_TRUE(OpenDb(OlderBuild()));
}

TEST_F(DatabaseTest, EveryWriteGoesThroughTheEnv) {
  FaultInjectionEnv env(platform::DefaultEnv(), dir_);
  auto db = OpenDb(NewerBuild(), env);
  ASSERT_TRUE(db);
  const int syncs = env.count(FaultInjectionEnv::Op::kSync);
  ASSERT_TRUE(db->Exec("INSERT INTO person(name) VALUES('ann')").ok());
  // A commit is durable when it returns: it synced.
  EXPECT_GT(env.count(FaultInjectionEnv::Op::kSync), syncs);

  env.FailNth(FaultInjectionEnv::Op::kWrite, 1);
  Status st = db->Exec("INSERT INTO person(name) VALUES('bob')");
  EXPECT_EQ(st.code(), Code::kIo);
  EXPECT_NE(st.message().find("injected"), std::string::npos) << st.message();
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM person"), 1);

  // A power cut keeps the acknowledged row.
  env.CutPower();
  db.reset();
  env.Restart();
  db = OpenDb(NewerBuild(), env);
  ASSERT_TRUE(db);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM person WHERE name = 'ann'"), 1);
}

}  // namespace
}  // namespace warden::db
