// One SQLite database file, the way every Warden store uses it: created
// owner-only, opened with the pragmas crash safety needs, reached through
// the platform Env (so tests can fail writes and cut the power), with
// prepared statements, transactions and schema migrations that go forward
// and backward.
//
// Pragmas: WAL journal, synchronous=FULL (a commit is durable when it
// returns), foreign keys enforced, secure_delete (deleted secrets are
// overwritten, not left in free pages), temporary data in memory, and an
// exclusive lock held for the connection's lifetime: one process at a time
// uses a database (a second gets kUnavailable).
//
// Migrations. A schema is a list of migrations 1..N, each with an `up`
// script (from version v-1 to v) and a `down` script (from v back to v-1).
// Opening brings the database to version N:
//   - an older database runs the missing `up` scripts;
//   - every `up` applied stores its `down` script in the database itself
//     (table schema_migrations), so that an older build, which knows
//     nothing of the newer versions, can still go back: after an A/B
//     rollback it runs the stored `down` scripts from the database's
//     version down to its own N, then carries on as usual;
//   - a newer database without the stored scripts it would need is
//     refused with kDataLoss and left untouched.
// All of one opening's migration steps are one transaction: a crash leaves
// the old version or the new one. Stored scripts are run with ATTACH,
// DETACH and PRAGMA refused, so a tampered database cannot make the
// daemon write elsewhere.
//
// Statement cache. Compiling a statement costs far more than running a
// lookup by key, so Prepare keeps the compiled statements its callers are
// done with, by their SQL text, and hands one back (rewound, its bindings
// cleared) the next time the same text is prepared: at most
// kStatementCacheSize of them (those in use included), the one least
// recently handed back dropped first. A statement still in use is never
// shared: preparing the same text again meanwhile compiles another, kept
// only while there is room.
//
// Not thread-safe: one caller at a time per Database.
#ifndef WARDEN_DB_DATABASE_H_
#define WARDEN_DB_DATABASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "platform/env.h"

struct sqlite3;
struct sqlite3_stmt;

namespace warden::db {

// Compiled statements a Database keeps for reuse.
inline constexpr size_t kStatementCacheSize = 32;

class Database;

struct Migration {
  int version = 0;   // 1, 2, 3 ... in order, without gaps
  std::string up;    // SQL taking the schema from version-1 to version
  std::string down;  // SQL taking it from version back to version-1
};

struct Schema {
  // PRAGMA application_id: a database carrying another non-zero id belongs
  // to something else and is refused. 0 checks nothing.
  int32_t application_id = 0;
  std::vector<Migration> migrations;
};

// A prepared statement. Binding errors are kept and reported by the next
// Step or Run. Movable; on destruction it goes back to its Database's
// statement cache (rewound, bindings cleared) or is finalized. Must not
// outlive its Database.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1 (?1, ?2 ...).
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, ByteView blob);
  Statement& BindNull(int index);

  // True when a row is ready to read, false when the statement is done.
  Result<bool> Step();
  // Steps until done, ignoring rows.
  Status Run();
  // Rewinds the statement so that it can run again; bindings are kept.
  void Reset();

  // Columns of the current row, numbered from 0. A NULL reads as 0, "" or
  // no bytes.
  int64_t Int(int column) const;
  std::string Text(int column) const;
  Bytes Blob(int column) const;
  // As Blob without a copy: the view is SQLite's own buffer, valid until
  // the next Step, Reset, column call on `column` or the Statement's end.
  ByteView BlobView(int column) const;
  bool IsNull(int column) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt, Database* owner)
      : db_(db), stmt_(stmt), owner_(owner) {}
  void NoteBind(int rc);
  void Release();
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  Database* owner_ = nullptr;  // whose cache takes the statement back
  int bind_error_ = 0;
};

class Database {
 public:
  // Opens the database at `path` on `env`, creating it (mode 0600, made
  // durable in its directory) when absent, and migrates it to the newest
  // version in `schema`, forward or backward (see above). `env` must
  // outlive the Database.
  // Errors: kDataLoss for a file that is not a database, belongs to another
  // application, or is newer than `schema` without the scripts to go back;
  // kUnavailable when another process holds it; kIo for the system's
  // errors.
  static Result<std::unique_ptr<Database>> Open(platform::Env& env,
                                                const std::string& path,
                                                const Schema& schema);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more SQL statements that return no rows.
  Status Exec(std::string_view sql);
  // Compiles one SQL statement.
  Result<Statement> Prepare(std::string_view sql);

  // Runs `body` in a transaction (BEGIN IMMEDIATE): committed when it
  // returns Ok, rolled back when it fails or the commit does. Once this
  // returns Ok the change is durable. Called within another transaction it
  // joins that one.
  Status InTransaction(const std::function<Status()>& body);

  // Rebuilds the file without its free pages (VACUUM), so that what was
  // deleted leaves no page behind. The one temporary database VACUUM
  // attaches is allowed for this call only; ATTACH stays refused
  // everywhere else. Not within a transaction (kFailedPrecondition).
  Status Vacuum();

  // Copies the WAL into the file and truncates it (wal_checkpoint
  // TRUNCATE). kUnavailable when a reader kept it from completing.
  Status CheckpointWal();

  // What an erasure ends with: the deleted rows' frames leave the WAL, their
  // free pages leave the file (Vacuum), and the WAL the VACUUM wrote is
  // emptied too, so no deleted byte stays in the file or beside it.
  Status CheckpointAndVacuum();

  // The rowid of the last row inserted, and the rows the last statement
  // changed.
  int64_t LastInsertId() const;
  int64_t Changes() const;

  // The schema version the database is at (the newest in the Schema).
  int version() const { return version_; }
  // Compiled statements the cache holds, in use or not.
  size_t cached_statements() const { return cache_.size(); }
  const std::string& path() const { return path_; }

 private:
  Database(platform::Env& env, sqlite3* db, std::string path)
      : env_(env), db_(db), path_(std::move(path)) {}
  Status Configure();
  Status Migrate(const Schema& schema);
  Status ExecStored(const std::string& sql);
  Result<int64_t> PragmaInt(const char* name);
  // Takes back a statement its caller is done with (see Statement cache).
  void Return(sqlite3_stmt* stmt);

  friend class Statement;
  struct CachedStatement {
    std::string sql;
    sqlite3_stmt* stmt;
    bool in_use;  // handed out to a Statement now
  };

  platform::Env& env_;  // holds a reference on its VFS while open
  sqlite3* db_;
  std::string path_;
  int version_ = 0;
  // Least recently handed back first. The Statements handed out point at
  // their entries' sqlite3_stmt; an entry in use is never finalized.
  std::vector<CachedStatement> cache_;
};

}  // namespace warden::db

#endif  // WARDEN_DB_DATABASE_H_
