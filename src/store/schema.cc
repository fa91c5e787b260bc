#include "store/schema.h"

namespace warden::store {
namespace {

// Exactly what wardend's first release created (it used IF NOT EXISTS on
// every start, so running this on such a database changes nothing).
constexpr char kUpV1[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT "
    "NOT NULL);"
    "CREATE TABLE IF NOT EXISTS owners (id INTEGER PRIMARY KEY, name "
    "TEXT NOT NULL, spki BLOB NOT NULL, fingerprint TEXT NOT NULL "
    "UNIQUE, created_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, "
    "expires_at INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '1');";

constexpr char kDownV1[] =
    "DROP TABLE sessions; DROP TABLE owners; DROP TABLE meta;";

// The first owner becomes the administrator and takes the password and the
// sessions; the others become members. A later owner with a name taken
// earlier gets " #<id>" appended, as names are unique now.
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

// Version 1 has one password and sessions that authenticate as the first
// owner: they come from the first administrator. Members' passwords and
// sessions are dropped rather than raised to that owner's rights.
constexpr char kDownV2[] =
    "CREATE TABLE owners_v1 (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "spki BLOB NOT NULL, fingerprint TEXT NOT NULL UNIQUE, created_at "
    "INTEGER NOT NULL);"
    "INSERT INTO owners_v1(id, name, spki, fingerprint, created_at) SELECT "
    "id, name, spki, fingerprint, created_at FROM owners;"
    "DELETE FROM meta WHERE key = 'password';"
    "INSERT INTO meta(key, value) SELECT 'password', hash FROM passwords "
    "WHERE owner_id = (SELECT MIN(id) FROM owners WHERE role = 'admin');"
    "CREATE TABLE sessions_v1 (token_hash TEXT PRIMARY KEY, expires_at "
    "INTEGER NOT NULL);"
    "INSERT INTO sessions_v1(token_hash, expires_at) SELECT token_hash, "
    "expires_at FROM sessions WHERE owner_id = (SELECT MIN(id) FROM owners "
    "WHERE role = 'admin');"
    "DROP TABLE device_cookies;"
    "DROP TABLE sessions;"
    "DROP TABLE passwords;"
    "DROP TABLE owners;"
    "ALTER TABLE owners_v1 RENAME TO owners;"
    "ALTER TABLE sessions_v1 RENAME TO sessions;"
    "UPDATE meta SET value = '1' WHERE key = 'schema';";

}  // namespace

const db::Schema& StateSchema() {
  static const db::Schema* schema = new db::Schema{
      kStateApplicationId,
      {
          {1, kUpV1, kDownV1},
          {2, kUpV2, kDownV2},
      },
  };
  return *schema;
}

}  // namespace warden::store
