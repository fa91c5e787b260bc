#include "store/state_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>

#include "platform/file.h"

namespace warden::store {
namespace {

constexpr int kSchemaVersion = 1;

Status SqlError(sqlite3* db, const char* what) {
  std::string m = std::string(what) + ": " + sqlite3_errmsg(db);
  int code = sqlite3_errcode(db);
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
    return DataLossError(std::move(m));
  }
  return IoError(std::move(m));
}

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status status() const {
    return rc_ == SQLITE_OK ? Status::Ok() : SqlError(db_, "prepare");
  }
  void Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()),
                      SQLITE_TRANSIENT);
  }
  void Bind(int i, const Bytes& b) {
    sqlite3_bind_blob(stmt_, i, b.data(), static_cast<int>(b.size()),
                      SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }

  // True for a row, false when done.
  Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqlError(db_, "step");
  }
  std::string Text(int col) {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : "";
  }
  Bytes Blob(int col) {
    const uint8_t* p =
        static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? Bytes(p, p + n) : Bytes();
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

Owner ReadOwner(Stmt& s) {
  Owner o;
  o.name = s.Text(0);
  o.spki_der = s.Blob(1);
  o.fingerprint = s.Text(2);
  o.created_at = s.Int(3);
  return o;
}

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  // Create the file with owner-only permissions before SQLite opens it.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return platform::ErrnoStatus("open", path, errno);
  ::close(fd);

  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status st = IoError("open " + path + ": " +
                        (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return st;
  }
  std::unique_ptr<StateStore> store(new StateStore(db));
  sqlite3_busy_timeout(db, 5000);
  Status st = store->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;");
  if (!st.ok()) return st.WithContext(path);

  st = store->InTransaction([&]() -> Status {
    WARDEN_TRY(store->Exec(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT "
        "NOT NULL);"
        "CREATE TABLE IF NOT EXISTS owners (id INTEGER PRIMARY KEY, name "
        "TEXT NOT NULL, spki BLOB NOT NULL, fingerprint TEXT NOT NULL "
        "UNIQUE, created_at INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, "
        "expires_at INTEGER NOT NULL);"));
    Stmt get(store->db_, "SELECT value FROM meta WHERE key='schema'");
    WARDEN_TRY(get.status());
    WARDEN_ASSIGN_OR_RETURN(bool has, get.Step());
    if (!has) {
      Stmt put(store->db_, "INSERT INTO meta(key, value) VALUES('schema', ?1)");
      WARDEN_TRY(put.status());
      put.Bind(1, std::to_string(kSchemaVersion));
      WARDEN_TRY(put.Step());
    } else if (get.Text(0) != std::to_string(kSchemaVersion)) {
      return DataLossError("unsupported state schema version " + get.Text(0));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext(path);
  return store;
}

StateStore::~StateStore() { sqlite3_close(db_); }

Status StateStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLossError(m);
    return IoError(m);
  }
  return Status::Ok();
}

Status StateStore::InTransaction(const std::function<Status()>& body) {
  WARDEN_TRY(Exec("BEGIN IMMEDIATE"));
  Status st = body();
  if (!st.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return st;
  }
  st = Exec("COMMIT");
  if (!st.ok()) Exec("ROLLBACK").IgnoreError();
  return st;
}

Result<bool> StateStore::IsPaired() {
  Stmt s(db_, "SELECT COUNT(*) FROM owners");
  WARDEN_TRY(s.status());
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  return row && s.Int(0) > 0;
}

Result<std::vector<Owner>> StateStore::Owners() {
  Stmt s(db_,
         "SELECT name, spki, fingerprint, created_at FROM owners ORDER BY id");
  WARDEN_TRY(s.status());
  std::vector<Owner> out;
  for (;;) {
    WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadOwner(s));
  }
  return out;
}

Result<std::optional<Owner>> StateStore::FindOwner(
    const std::string& fingerprint) {
  Stmt s(db_,
         "SELECT name, spki, fingerprint, created_at FROM owners WHERE "
         "fingerprint = ?1");
  WARDEN_TRY(s.status());
  s.Bind(1, fingerprint);
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<Owner>();
  return std::optional<Owner>(ReadOwner(s));
}

Status StateStore::CompletePairing(
    const Owner& owner, const std::optional<std::string>& password_hash) {
  return InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(bool paired, IsPaired());
    if (paired) return FailedPreconditionError("device is already paired");
    WARDEN_TRY(InsertOwner(owner));
    WARDEN_TRY(
        Exec("DELETE FROM meta WHERE key='password'; DELETE FROM "
             "sessions;"));
    if (password_hash) {
      Stmt pw(db_, "INSERT INTO meta(key, value) VALUES('password', ?1)");
      WARDEN_TRY(pw.status());
      pw.Bind(1, *password_hash);
      WARDEN_TRY(pw.Step());
    }
    return Status::Ok();
  });
}

Status StateStore::AddOwner(const Owner& owner) {
  return InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(bool paired, IsPaired());
    if (!paired) return FailedPreconditionError("device has no owner");
    WARDEN_ASSIGN_OR_RETURN(auto existing, FindOwner(owner.fingerprint));
    if (existing) return AlreadyExistsError("this key is already an owner");
    return InsertOwner(owner);
  });
}

Status StateStore::InsertOwner(const Owner& owner) {
  Stmt add(db_,
           "INSERT INTO owners(name, spki, fingerprint, created_at) "
           "VALUES(?1, ?2, ?3, ?4)");
  WARDEN_TRY(add.status());
  add.Bind(1, owner.name);
  add.Bind(2, owner.spki_der);
  add.Bind(3, owner.fingerprint);
  add.Bind(4, owner.created_at);
  WARDEN_TRY(add.Step());
  return Status::Ok();
}

Result<std::optional<std::string>> StateStore::PasswordHash() {
  Stmt s(db_, "SELECT value FROM meta WHERE key='password'");
  WARDEN_TRY(s.status());
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

Status StateStore::SetPasswordHash(const std::string& encoded_hash) {
  return InTransaction([&]() -> Status {
    Stmt s(db_,
           "INSERT INTO meta(key, value) VALUES('password', ?1) ON "
           "CONFLICT(key) DO UPDATE SET value = excluded.value");
    WARDEN_TRY(s.status());
    s.Bind(1, encoded_hash);
    WARDEN_TRY(s.Step());
    // A new password ends every session that the old one opened.
    return Exec("DELETE FROM sessions");
  });
}

Result<std::vector<StoredSession>> StateStore::Sessions() {
  Stmt s(db_, "SELECT token_hash, expires_at FROM sessions");
  WARDEN_TRY(s.status());
  std::vector<StoredSession> out;
  for (;;) {
    WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.Text(0), s.Int(1)});
  }
  return out;
}

Status StateStore::ReplaceSessions(const std::vector<StoredSession>& sessions) {
  return InTransaction([&]() -> Status {
    WARDEN_TRY(Exec("DELETE FROM sessions"));
    for (const auto& session : sessions) {
      Stmt s(db_,
             "INSERT INTO sessions(token_hash, expires_at) VALUES(?1, ?2)");
      WARDEN_TRY(s.status());
      s.Bind(1, session.token_hash);
      s.Bind(2, session.expires_at);
      WARDEN_TRY(s.Step());
    }
    return Status::Ok();
  });
}

Status StateStore::Reset() {
  return InTransaction([&]() -> Status {
    return Exec(
        "DELETE FROM owners; DELETE FROM sessions; DELETE FROM meta WHERE "
        "key='password';");
  });
}

}  // namespace warden::store
