#include "db/database.h"

#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "db/vfs.h"
#include "platform/file.h"

namespace warden::db {
namespace {

// The lock is held for a connection's lifetime; waiting longer only delays
// the report that another process has the database.
constexpr int kBusyTimeoutMs = 1000;

// SQLite's result as a Status, with the Env's reason for an I/O error.
Status SqlStatus(int rc, std::string message) {
  std::string io = internal::TakeLastIoError();
  if (!io.empty() && (rc & 0xff) == SQLITE_IOERR) message += " (" + io + ")";
  switch (rc & 0xff) {
    case SQLITE_OK:
      return Status::Ok();
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(std::move(message));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE ||
          rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(std::move(message));
      }
      return FailedPreconditionError(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(std::move(message));
    case SQLITE_FULL:
      return ResourceExhaustedError(std::move(message));
    case SQLITE_AUTH:
      return PermissionDeniedError(std::move(message));
    case SQLITE_RANGE:
    case SQLITE_MISUSE:
    case SQLITE_ERROR:
      // An SQL mistake in the caller's statement or schema.
      return InternalError(std::move(message));
    default:
      return IoError(std::move(message));
  }
}

Status SqlError(sqlite3* db, std::string_view what) {
  int rc = sqlite3_extended_errcode(db);
  std::string message(what);
  message += ": ";
  message += sqlite3_errmsg(db);
  return SqlStatus(rc, std::move(message));
}

// Stored scripts come from the database file: they may change its tables,
// but not attach other files or change how the connection works.
int StoredScriptAuthorizer(void*, int action, const char*, const char*,
                           const char*, const char*) {
  switch (action) {
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
    case SQLITE_PRAGMA:
      return SQLITE_DENY;
    default:
      return SQLITE_OK;
  }
}

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      owner_(std::exchange(other.owner_, nullptr)),
      bind_error_(std::exchange(other.bind_error_, 0)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release();
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    owner_ = std::exchange(other.owner_, nullptr);
    bind_error_ = std::exchange(other.bind_error_, 0);
  }
  return *this;
}

Statement::~Statement() { Release(); }

void Statement::Release() {
  if (stmt_ == nullptr) return;
  if (owner_ != nullptr) {
    owner_->Return(std::exchange(stmt_, nullptr));
  } else {
    sqlite3_finalize(std::exchange(stmt_, nullptr));
  }
}

void Statement::NoteBind(int rc) {
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

Statement& Statement::Bind(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  NoteBind(sqlite3_bind_text64(stmt_, index, text.data(), text.size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::Bind(int index, ByteView blob) {
  // A null pointer would bind NULL, not an empty blob.
  static const uint8_t kEmpty = 0;
  NoteBind(sqlite3_bind_blob64(stmt_, index,
                               blob.empty() ? &kEmpty : blob.data(),
                               blob.size(), SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return SqlStatus(bind_error_, std::string("bind: ") +
                                      sqlite3_errstr(bind_error_) + " in " +
                                      sqlite3_sql(stmt_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqlError(db_, "step");
}

Status Statement::Run() {
  for (;;) {
    WARDEN_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Statement::Reset() { sqlite3_reset(stmt_); }

int64_t Statement::Int(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::Text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

Bytes Statement::Blob(int column) const {
  const uint8_t* p =
      static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? Bytes(p, p + n) : Bytes();
}

ByteView Statement::BlobView(int column) const {
  const uint8_t* p =
      static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? ByteView(p, static_cast<size_t>(n)) : ByteView();
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<std::unique_ptr<Database>> Database::Open(platform::Env& env,
                                                 const std::string& path,
                                                 const Schema& schema) {
  for (size_t i = 0; i < schema.migrations.size(); ++i) {
    if (schema.migrations[i].version != static_cast<int>(i) + 1) {
      return InternalError("migrations must be numbered 1, 2, 3 ...");
    }
  }
  // The file exists, owner-only and durably named, before SQLite sees it:
  // SQLite would create it with the umask's mode, and a WAL beside a
  // database file that a power cut took away would be thrown away.
  Result<platform::FileInfo> info = env.Stat(path);
  if (info.status().code() == Code::kNotFound) {
    platform::OpenOptions create;
    create.write = true;
    create.create = platform::OpenOptions::Create::kIfMissing;
    create.mode = 0600;
    WARDEN_ASSIGN_OR_RETURN(auto file, env.Open(path, create));
    WARDEN_TRY(file->SetMode(0600));
    WARDEN_TRY(file->Sync());
    WARDEN_TRY(file->Close());
    WARDEN_TRY(env.SyncDir(platform::DirName(path)));
  } else if (!info.ok()) {
    return info.status();
  } else if (info->type != platform::FileType::kRegular) {
    return InvalidArgumentError(path + " is not a regular file");
  }

  WARDEN_ASSIGN_OR_RETURN(std::string vfs, internal::AcquireEnvVfs(env));
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                           vfs.c_str());
  if (rc != SQLITE_OK) {
    Status st = db ? SqlError(db, "open " + path)
                   : ResourceExhaustedError("open " + path + ": no memory");
    sqlite3_close(db);
    internal::ReleaseEnvVfs(env);
    return st;
  }
  std::unique_ptr<Database> database(new Database(env, db, path));
  Status st = database->Configure();
  if (st.ok()) st = database->Migrate(schema);
  if (!st.ok()) return st.WithContext(path);
  return database;
}

Database::~Database() {
  for (const CachedStatement& c : cache_) sqlite3_finalize(c.stmt);
  cache_.clear();
  sqlite3_close_v2(db_);
  internal::ReleaseEnvVfs(env_);
}

Status Database::Configure() {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  // Nothing Warden does attaches a second file; a stored script must not.
  sqlite3_limit(db_, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  // The exclusive lock comes first: the VFS has no shared memory, and only
  // in exclusive mode does SQLite keep a WAL index without it.
  WARDEN_TRY(Exec("PRAGMA locking_mode=EXCLUSIVE"));
  {
    WARDEN_ASSIGN_OR_RETURN(Statement wal, Prepare("PRAGMA journal_mode=WAL"));
    WARDEN_ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || wal.Text(0) != "wal") {
      return IoError("the database cannot use write-ahead logging");
    }
  }
  return Exec(
      "PRAGMA synchronous=FULL; PRAGMA secure_delete=ON; "
      "PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=ON;");
}

Result<int64_t> Database::PragmaInt(const char* name) {
  WARDEN_ASSIGN_OR_RETURN(Statement s, Prepare(std::string("PRAGMA ") + name));
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return InternalError(std::string("PRAGMA ") + name + " is empty");
  return s.Int(0);
}

Status Database::ExecStored(const std::string& sql) {
  sqlite3_set_authorizer(db_, StoredScriptAuthorizer, nullptr);
  Status st = Exec(sql);
  sqlite3_set_authorizer(db_, nullptr, nullptr);
  return st;
}

Status Database::Migrate(const Schema& schema) {
  const int target = static_cast<int>(schema.migrations.size());
  // Tables are rebuilt during migrations, which foreign keys would
  // cascade into; they are off meanwhile and checked before the commit
  // (SQLite's procedure for schema changes). The pragma works only outside
  // a transaction.
  WARDEN_TRY(Exec("PRAGMA foreign_keys=OFF"));
  Status st = InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(int64_t app, PragmaInt("application_id"));
    if (app != 0 && app != schema.application_id) {
      return DataLossError("the file is a database of another application");
    }
    WARDEN_ASSIGN_OR_RETURN(int64_t current, PragmaInt("user_version"));
    WARDEN_TRY(
        Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
             "PRIMARY KEY, down TEXT NOT NULL)"));
    if (current == target) {
      version_ = target;
      return Status::Ok();
    }
    if (current > target) {
      // Written by a newer build: go back with the scripts it left.
      for (int64_t v = current; v > target; --v) {
        std::string down;
        {
          WARDEN_ASSIGN_OR_RETURN(
              Statement get,
              Prepare("SELECT down FROM schema_migrations WHERE version = ?1"));
          get.Bind(1, v);
          WARDEN_ASSIGN_OR_RETURN(bool found, get.Step());
          if (!found) {
            return DataLossError(
                "the database has schema version " + std::to_string(current) +
                ", newer than this build's " + std::to_string(target) +
                ", and holds no script to go back from version " +
                std::to_string(v) + "; it was left as it is");
          }
          down = get.Text(0);
        }
        Status back = ExecStored(down);
        if (!back.ok()) {
          std::string why = "going back from schema version " +
                            std::to_string(v) + ": " + back.message();
          // A script that does not run is a database this build cannot
          // read; the system's errors stay what they are.
          if (back.code() == Code::kIo || back.code() == Code::kUnavailable ||
              back.code() == Code::kResourceExhausted) {
            return Status(back.code(), why);
          }
          return DataLossError(why);
        }
        WARDEN_ASSIGN_OR_RETURN(
            Statement drop,
            Prepare("DELETE FROM schema_migrations WHERE version = ?1"));
        WARDEN_TRY(drop.Bind(1, v).Run());
      }
    } else {
      for (const Migration& m : schema.migrations) {
        if (m.version <= current) continue;
        Status up = Exec(m.up);
        if (!up.ok()) {
          return up.WithContext("migrating to schema version " +
                                std::to_string(m.version));
        }
        WARDEN_ASSIGN_OR_RETURN(
            Statement keep,
            Prepare("INSERT OR REPLACE INTO schema_migrations(version, down) "
                    "VALUES(?1, ?2)"));
        WARDEN_TRY(keep.Bind(1, static_cast<int64_t>(m.version))
                       .Bind(2, std::string_view(m.down))
                       .Run());
      }
    }
    WARDEN_TRY(Exec("PRAGMA user_version=" + std::to_string(target)));
    if (schema.application_id != 0) {
      WARDEN_TRY(Exec("PRAGMA application_id=" +
                      std::to_string(schema.application_id)));
    }
    WARDEN_ASSIGN_OR_RETURN(Statement check,
                            Prepare("PRAGMA foreign_key_check"));
    WARDEN_ASSIGN_OR_RETURN(bool dangling, check.Step());
    if (dangling) {
      return DataLossError("after migrating, rows of table " + check.Text(0) +
                           " refer to rows that do not exist");
    }
    version_ = target;
    return Status::Ok();
  });
  Status on = Exec("PRAGMA foreign_keys=ON");
  if (!st.ok()) return st;
  return on;
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  if (rc == SQLITE_OK) return Status::Ok();
  if (message.empty()) message = sqlite3_errstr(rc);
  return SqlStatus(sqlite3_extended_errcode(db_), "exec: " + message);
}

Result<Statement> Database::Prepare(std::string_view sql) {
  // Most recently handed back first: the likeliest to be asked for again.
  for (auto it = cache_.rbegin(); it != cache_.rend(); ++it) {
    if (!it->in_use && it->sql == sql) {
      it->in_use = true;
      return Statement(db_, it->stmt, this);
    }
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()),
                              &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqlError(db_, "prepare");
  }
  // Text that is only blanks or comments compiles to no statement.
  if (stmt == nullptr) return Statement(db_, nullptr, nullptr);
  if (cache_.size() >= kStatementCacheSize) {
    // The least recently handed back goes; when all are in use, this one
    // is not kept.
    auto idle =
        std::find_if(cache_.begin(), cache_.end(),
                     [](const CachedStatement& c) { return !c.in_use; });
    if (idle == cache_.end()) return Statement(db_, stmt, nullptr);
    sqlite3_finalize(idle->stmt);
    cache_.erase(idle);
  }
  cache_.push_back({std::string(sql), stmt, true});
  return Statement(db_, stmt, this);
}

void Database::Return(sqlite3_stmt* stmt) {
  auto it =
      std::find_if(cache_.begin(), cache_.end(),
                   [&](const CachedStatement& c) { return c.stmt == stmt; });
  if (it == cache_.end()) {
    sqlite3_finalize(stmt);
    return;
  }
  // A failed run was reported by Step; the code it gives again means
  // nothing here.
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  it->in_use = false;
  std::rotate(it, std::next(it), cache_.end());
}

Status Database::InTransaction(const std::function<Status()>& body) {
  if (!sqlite3_get_autocommit(db_)) return body();
  WARDEN_TRY(Exec("BEGIN IMMEDIATE"));
  Status st = body();
  if (st.ok()) st = Exec("COMMIT");
  // A failed COMMIT may leave the transaction open; never leave it so.
  if (!sqlite3_get_autocommit(db_)) Exec("ROLLBACK").IgnoreError();
  return st;
}

Status Database::Vacuum() {
  if (!sqlite3_get_autocommit(db_)) {
    return FailedPreconditionError("VACUUM within a transaction");
  }
  sqlite3_limit(db_, SQLITE_LIMIT_ATTACHED, 1);
  Status st = Exec("VACUUM");
  sqlite3_limit(db_, SQLITE_LIMIT_ATTACHED, 0);
  return st;
}

Status Database::CheckpointWal() {
  WARDEN_ASSIGN_OR_RETURN(Statement s,
                          Prepare("PRAGMA wal_checkpoint(TRUNCATE)"));
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row || s.Int(0) != 0) {
    return UnavailableError("the WAL could not be checkpointed");
  }
  return Status::Ok();
}

Status Database::CheckpointAndVacuum() {
  WARDEN_TRY(CheckpointWal());
  WARDEN_TRY(Vacuum());
  return CheckpointWal();
}

int64_t Database::LastInsertId() const {
  return sqlite3_last_insert_rowid(db_);
}

int64_t Database::Changes() const { return sqlite3_changes64(db_); }

}  // namespace warden::db
