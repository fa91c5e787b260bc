#include "store/state_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>

#include "platform/file.h"

namespace warden::store {
namespace {

// Version 1: one owner password in meta, sessions of nobody in particular.
constexpr char kSchemaV1[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT "
    "NOT NULL);"
    "CREATE TABLE IF NOT EXISTS owners (id INTEGER PRIMARY KEY, name "
    "TEXT NOT NULL, spki BLOB NOT NULL, fingerprint TEXT NOT NULL "
    "UNIQUE, created_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, "
    "expires_at INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '1');";

// Version 2: roles, and passwords, sessions and device cookies that belong
// to one owner each. The first owner becomes the administrator and takes
// the password and the sessions; the others become members. Names become
// unique: a later owner with a name taken earlier gets " #<id>" appended.
constexpr char kUpV2[] =
    "ALTER TABLE owners RENAME TO owners_v1;"
    "ALTER TABLE sessions RENAME TO sessions_v1;"
    "CREATE TABLE owners (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
    "UNIQUE, spki BLOB NOT NULL, fingerprint TEXT NOT NULL UNIQUE, "
    "created_at INTEGER NOT NULL, role TEXT NOT NULL CHECK (role IN "
    "('admin', 'member')));"
    "INSERT INTO owners(id, name, spki, fingerprint, created_at, role) "
    "SELECT id, CASE WHEN EXISTS (SELECT 1 FROM owners_v1 AS e WHERE "
    "e.name = o.name AND e.id < o.id) THEN o.name || ' #' || o.id ELSE "
    "o.name END, spki, fingerprint, created_at, CASE WHEN id = (SELECT "
    "MIN(id) FROM owners_v1) THEN 'admin' ELSE 'member' END FROM owners_v1 "
    "AS o;"
    "CREATE TABLE passwords (owner_id INTEGER PRIMARY KEY REFERENCES "
    "owners(id) ON DELETE CASCADE, hash TEXT NOT NULL);"
    "INSERT INTO passwords(owner_id, hash) SELECT (SELECT MIN(id) FROM "
    "owners), value FROM meta WHERE key = 'password' AND EXISTS (SELECT 1 "
    "FROM owners);"
    "CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, owner_id INTEGER "
    "NOT NULL REFERENCES owners(id) ON DELETE CASCADE, expires_at INTEGER "
    "NOT NULL);"
    "CREATE INDEX sessions_by_owner ON sessions(owner_id);"
    "INSERT INTO sessions(token_hash, owner_id, expires_at) SELECT "
    "token_hash, (SELECT MIN(id) FROM owners), expires_at FROM sessions_v1 "
    "WHERE EXISTS (SELECT 1 FROM owners);"
    "CREATE TABLE device_cookies (cookie_hash TEXT PRIMARY KEY, owner_id "
    "INTEGER NOT NULL REFERENCES owners(id) ON DELETE CASCADE, created_at "
    "INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
    "CREATE INDEX device_cookies_by_owner ON device_cookies(owner_id, "
    "created_at);"
    "DROP TABLE sessions_v1;"
    "DROP TABLE owners_v1;"
    "DELETE FROM meta WHERE key = 'password';"
    "UPDATE meta SET value = '2' WHERE key = 'schema';";

constexpr int kSchemaVersion = 2;

constexpr char kOwnerColumns[] =
    "SELECT id, name, spki, fingerprint, created_at, role FROM owners ";

Status SqlError(sqlite3* db, const char* what) {
  std::string m = std::string(what) + ": " + sqlite3_errmsg(db);
  int code = sqlite3_extended_errcode(db);
  switch (code & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(std::move(m));
    case SQLITE_CONSTRAINT:
      if (code == SQLITE_CONSTRAINT_UNIQUE ||
          code == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(std::move(m));
      }
      return FailedPreconditionError(std::move(m));
    default:
      return IoError(std::move(m));
  }
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
  void Bind(int i, std::string_view s) {
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
  o.id = s.Int(0);
  o.name = s.Text(1);
  o.spki_der = s.Blob(2);
  o.fingerprint = s.Text(3);
  o.created_at = s.Int(4);
  o.role = s.Text(5) == "admin" ? Role::kAdmin : Role::kMember;
  return o;
}

Result<std::optional<Owner>> OneOwner(Stmt& s) {
  WARDEN_TRY(s.status());
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<Owner>();
  return std::optional<Owner>(ReadOwner(s));
}

}  // namespace

std::string_view RoleName(Role role) {
  return role == Role::kAdmin ? "admin" : "member";
}

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
  // Foreign keys stay off while the schema migrates (SQLite's procedure
  // for changing a table's definition) and are checked before commit.
  Status st = store->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      "PRAGMA foreign_keys=OFF; PRAGMA secure_delete=ON;");
  if (!st.ok()) return st.WithContext(path);

  st = store->InTransaction([&]() -> Status {
    WARDEN_TRY(store->Exec(kSchemaV1));
    std::string version;
    {
      // Finished before the migration: DROP TABLE waits for no reader.
      Stmt get(store->db_, "SELECT value FROM meta WHERE key='schema'");
      WARDEN_TRY(get.status());
      WARDEN_ASSIGN_OR_RETURN(bool has, get.Step());
      if (has) version = get.Text(0);
    }
    if (version == "1") {
      WARDEN_TRY(store->Exec(kUpV2));
    } else if (version != std::to_string(kSchemaVersion)) {
      return DataLossError("unsupported state schema version " + version);
    }
    Stmt check(store->db_, "PRAGMA foreign_key_check");
    WARDEN_TRY(check.status());
    WARDEN_ASSIGN_OR_RETURN(bool violation, check.Step());
    if (violation) return DataLossError("state references missing owners");
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext(path);
  st = store->Exec("PRAGMA foreign_keys=ON");
  if (!st.ok()) return st.WithContext(path);
  return store;
}

StateStore::~StateStore() { sqlite3_close(db_); }

Status StateStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqlError(db_, "exec");
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
  Stmt s(db_, (std::string(kOwnerColumns) + "ORDER BY id").c_str());
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
  Stmt s(db_, (std::string(kOwnerColumns) + "WHERE fingerprint = ?1").c_str());
  s.Bind(1, fingerprint);
  return OneOwner(s);
}

Result<std::optional<Owner>> StateStore::FindOwnerById(int64_t id) {
  Stmt s(db_, (std::string(kOwnerColumns) + "WHERE id = ?1").c_str());
  s.Bind(1, id);
  return OneOwner(s);
}

Result<std::optional<Owner>> StateStore::FindOwnerByName(
    const std::string& name) {
  Stmt s(db_, (std::string(kOwnerColumns) + "WHERE name = ?1").c_str());
  s.Bind(1, name);
  return OneOwner(s);
}

Result<Owner> StateStore::CompletePairing(
    const Owner& owner, const std::optional<std::string>& password_hash) {
  Owner admin = owner;
  admin.role = Role::kAdmin;
  Owner stored;
  Status st = InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(bool paired, IsPaired());
    if (paired) return FailedPreconditionError("device is already paired");
    // Nothing can be left over from an earlier owner (the foreign keys see
    // to that); clearing makes sure of it.
    WARDEN_TRY(
        Exec("DELETE FROM device_cookies; DELETE FROM sessions; DELETE FROM "
             "passwords;"));
    WARDEN_ASSIGN_OR_RETURN(stored, InsertOwner(admin, password_hash));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return stored;
}

Result<Owner> StateStore::AddOwner(
    const Owner& owner, const std::optional<std::string>& password_hash) {
  Owner stored;
  Status st = InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(bool paired, IsPaired());
    if (!paired) return FailedPreconditionError("device has no owner");
    WARDEN_ASSIGN_OR_RETURN(auto by_key, FindOwner(owner.fingerprint));
    if (by_key) return AlreadyExistsError("this key is already an owner");
    WARDEN_ASSIGN_OR_RETURN(auto by_name, FindOwnerByName(owner.name));
    if (by_name) {
      return AlreadyExistsError("an owner named \"" + owner.name +
                                "\" exists already");
    }
    WARDEN_ASSIGN_OR_RETURN(stored, InsertOwner(owner, password_hash));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return stored;
}

Result<Owner> StateStore::InsertOwner(
    const Owner& owner, const std::optional<std::string>& password_hash) {
  Stmt add(db_,
           "INSERT INTO owners(name, spki, fingerprint, created_at, role) "
           "VALUES(?1, ?2, ?3, ?4, ?5)");
  WARDEN_TRY(add.status());
  add.Bind(1, owner.name);
  add.Bind(2, owner.spki_der);
  add.Bind(3, owner.fingerprint);
  add.Bind(4, owner.created_at);
  add.Bind(5, RoleName(owner.role));
  WARDEN_TRY(add.Step());
  Owner stored = owner;
  stored.id = sqlite3_last_insert_rowid(db_);
  if (password_hash) {
    Stmt pw(db_, "INSERT INTO passwords(owner_id, hash) VALUES(?1, ?2)");
    WARDEN_TRY(pw.status());
    pw.Bind(1, stored.id);
    pw.Bind(2, *password_hash);
    WARDEN_TRY(pw.Step());
  }
  return stored;
}

Status StateStore::RemoveOwner(int64_t id) {
  return InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto owner, FindOwnerById(id));
    if (!owner) return NotFoundError("no owner " + std::to_string(id));
    if (owner->role == Role::kAdmin) {
      Stmt admins(db_, "SELECT COUNT(*) FROM owners WHERE role = 'admin'");
      WARDEN_TRY(admins.status());
      WARDEN_ASSIGN_OR_RETURN(bool row, admins.Step());
      if (!row || admins.Int(0) <= 1) {
        return FailedPreconditionError(
            "the last administrator cannot be removed");
      }
    }
    // The foreign keys remove the owner's password, sessions and cookies.
    Stmt del(db_, "DELETE FROM owners WHERE id = ?1");
    WARDEN_TRY(del.status());
    del.Bind(1, id);
    WARDEN_TRY(del.Step());
    return Status::Ok();
  });
}

Result<std::optional<std::string>> StateStore::PasswordHash(int64_t owner_id) {
  Stmt s(db_, "SELECT hash FROM passwords WHERE owner_id = ?1");
  WARDEN_TRY(s.status());
  s.Bind(1, owner_id);
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

Status StateStore::SetPasswordHash(int64_t owner_id,
                                   const std::string& encoded_hash) {
  return InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto owner, FindOwnerById(owner_id));
    if (!owner) return NotFoundError("no owner " + std::to_string(owner_id));
    Stmt s(db_,
           "INSERT INTO passwords(owner_id, hash) VALUES(?1, ?2) ON "
           "CONFLICT(owner_id) DO UPDATE SET hash = excluded.hash");
    WARDEN_TRY(s.status());
    s.Bind(1, owner_id);
    s.Bind(2, encoded_hash);
    WARDEN_TRY(s.Step());
    // A new password ends what the old one opened: that owner's sessions
    // and the device cookies their logins earned.
    for (const char* sql : {"DELETE FROM sessions WHERE owner_id = ?1",
                            "DELETE FROM device_cookies WHERE owner_id = ?1"}) {
      Stmt del(db_, sql);
      WARDEN_TRY(del.status());
      del.Bind(1, owner_id);
      WARDEN_TRY(del.Step());
    }
    return Status::Ok();
  });
}

Result<std::vector<StoredSession>> StateStore::Sessions() {
  Stmt s(db_, "SELECT token_hash, owner_id, expires_at FROM sessions");
  WARDEN_TRY(s.status());
  std::vector<StoredSession> out;
  for (;;) {
    WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.Text(0), s.Int(1), s.Int(2)});
  }
  return out;
}

Status StateStore::ReplaceSessions(const std::vector<StoredSession>& sessions) {
  return InTransaction([&]() -> Status {
    WARDEN_TRY(Exec("DELETE FROM sessions"));
    for (const auto& session : sessions) {
      Stmt s(db_,
             "INSERT INTO sessions(token_hash, owner_id, expires_at) "
             "VALUES(?1, ?2, ?3)");
      WARDEN_TRY(s.status());
      s.Bind(1, session.token_hash);
      s.Bind(2, session.owner_id);
      s.Bind(3, session.expires_at);
      WARDEN_TRY(s.Step());
    }
    return Status::Ok();
  });
}

Status StateStore::AddDeviceCookie(const DeviceCookie& cookie) {
  return InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto owner, FindOwnerById(cookie.owner_id));
    if (!owner) {
      return NotFoundError("no owner " + std::to_string(cookie.owner_id));
    }
    Stmt expired(db_,
                 "DELETE FROM device_cookies WHERE owner_id = ?1 AND "
                 "expires_at <= ?2");
    WARDEN_TRY(expired.status());
    expired.Bind(1, cookie.owner_id);
    expired.Bind(2, cookie.created_at);
    WARDEN_TRY(expired.Step());
    Stmt add(db_,
             "INSERT INTO device_cookies(cookie_hash, owner_id, created_at, "
             "expires_at) VALUES(?1, ?2, ?3, ?4)");
    WARDEN_TRY(add.status());
    add.Bind(1, cookie.cookie_hash);
    add.Bind(2, cookie.owner_id);
    add.Bind(3, cookie.created_at);
    add.Bind(4, cookie.expires_at);
    WARDEN_TRY(add.Step());
    // Keep the newest; among equal times the later insert counts as newer.
    Stmt trim(db_,
              "DELETE FROM device_cookies WHERE owner_id = ?1 AND rowid NOT "
              "IN (SELECT rowid FROM device_cookies WHERE owner_id = ?1 "
              "ORDER BY created_at DESC, rowid DESC LIMIT ?2)");
    WARDEN_TRY(trim.status());
    trim.Bind(1, cookie.owner_id);
    trim.Bind(2, static_cast<int64_t>(kMaxDeviceCookiesPerOwner));
    WARDEN_TRY(trim.Step());
    return Status::Ok();
  });
}

Result<std::optional<DeviceCookie>> StateStore::FindDeviceCookie(
    const std::string& cookie_hash, int64_t now) {
  Stmt s(db_,
         "SELECT cookie_hash, owner_id, created_at, expires_at FROM "
         "device_cookies WHERE cookie_hash = ?1 AND expires_at > ?2");
  WARDEN_TRY(s.status());
  s.Bind(1, cookie_hash);
  s.Bind(2, now);
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<DeviceCookie>();
  return std::optional<DeviceCookie>(
      DeviceCookie{s.Text(0), s.Int(1), s.Int(2), s.Int(3)});
}

Status StateStore::RemoveDeviceCookie(const std::string& cookie_hash) {
  Stmt s(db_, "DELETE FROM device_cookies WHERE cookie_hash = ?1");
  WARDEN_TRY(s.status());
  s.Bind(1, cookie_hash);
  WARDEN_TRY(s.Step());
  return Status::Ok();
}

Status StateStore::Reset() {
  return InTransaction([&]() -> Status {
    return Exec(
        "DELETE FROM device_cookies; DELETE FROM sessions; DELETE FROM "
        "passwords; DELETE FROM owners;");
  });
}

}  // namespace warden::store
