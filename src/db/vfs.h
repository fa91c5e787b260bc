// The SQLite VFS that puts every database file operation on a platform Env,
// so that the database sees the faults and power cuts a FaultInjectionEnv
// injects, exactly as the other writers do.
//
// It is a complete VFS, not a shim over the unix one: reads, writes,
// truncates, syncs, deletes, the directory syncs and the lock all go
// through the Env. Locking is one exclusive flock on the main database
// file for as long as the connection holds any lock, and the VFS offers no
// shared memory; so the database must be used in exclusive locking mode
// (PRAGMA locking_mode=EXCLUSIVE, set by Database::Open), where SQLite keeps
// the WAL index in heap memory. That is what wardend needs (one process
// owns the state) and it keeps the whole durable state in the Env's view.
// Temporary files (sorts, statement journals) live in memory. The clock,
// sleeping, randomness and path names come from the default VFS.
//
// Internal to src/db/.
#ifndef WARDEN_DB_VFS_H_
#define WARDEN_DB_VFS_H_

#include <string>

#include "base/status.h"
#include "platform/env.h"

namespace warden::db::internal {

// Registers (once per Env, counted) a VFS for `env` and returns its name
// for sqlite3_open_v2. Each successful call needs one ReleaseEnvVfs.
Result<std::string> AcquireEnvVfs(platform::Env& env);
// Drops one reference; the last unregisters the VFS. Call only after the
// connections that used it are closed.
void ReleaseEnvVfs(platform::Env& env);

// The Env's message for the last I/O failure the VFS reported to SQLite on
// this thread ("" when none), cleared by reading. SQLite itself reports
// only "disk I/O error".
std::string TakeLastIoError();

}  // namespace warden::db::internal

#endif  // WARDEN_DB_VFS_H_
