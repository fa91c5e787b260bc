// Login sessions: the bearer tokens POST /v1/login hands out. Each belongs
// to the one owner who logged in, and authenticates as that owner only.
//
// A token is 32 random bytes in base64url (43 characters). The table keeps
// only each token's SHA-256, so neither a memory dump nor the persisted
// copy (Export/Import) reveals a token that still works. Sessions expire a
// fixed lifetime after login (12 hours by default), and the table holds a
// bounded number: a new login beyond it ends the oldest session.
//
// Expiry is checked against both the wall clock (the persisted expiry) and
// the monotonic clock (at most `lifetime` from creation or import), so
// setting the wall clock back never stretches a session.
//
// Not thread-safe; the daemon calls it from its event loop.
#ifndef WARDEN_AUTH_SESSION_H_
#define WARDEN_AUTH_SESSION_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/rng.h"
#include "base/status.h"

namespace warden::auth {

struct Session {
  std::string token;  // give to the client; the table does not keep it
  WallTime expires_at;
  int64_t owner_id = 0;
};

// A persisted session.
struct ExportedSession {
  std::string token_hash;  // lowercase hex SHA-256 of the token
  int64_t expires_at = 0;  // Unix seconds
  int64_t owner_id = 0;    // the owner it authenticates as
};

class SessionTable {
 public:
  static constexpr size_t kTokenBytes = 32;
  static constexpr size_t kTokenChars = 43;  // base64url, no padding

  // `clock` and `rng` must outlive the table. A zero lifetime or capacity is
  // raised to 1 second / 1 session.
  SessionTable(Clock& clock, Rng& rng,
               std::chrono::seconds lifetime = std::chrono::hours(12),
               size_t max_sessions = 64);

  // Starts a session for `owner_id`. When the table is full, the session
  // created (or imported) first is ended. Errors: whatever the Rng
  // reports; the table is unchanged then.
  Result<Session> Create(int64_t owner_id);

  // The owner of the live session `token` belongs to, or nullopt. An
  // expired session is removed and gives nullopt. Compares hashes in
  // constant time.
  std::optional<int64_t> Validate(std::string_view token);

  // Ends the session of `token`, if any (logout).
  void Revoke(std::string_view token);

  // Ends every session of one owner (their password changed, or they were
  // removed).
  void RevokeOwner(int64_t owner_id);

  // Ends every session (owner reset).
  void RevokeAll();

  // Live (unexpired) sessions.
  size_t size() const;

  // The live sessions, oldest first, for the daemon's store.
  std::vector<ExportedSession> Export() const;

  // Replaces the table with `sessions` (from Export, possibly of an earlier
  // run). Expired entries are skipped; when more than max_sessions remain,
  // those expiring last are kept. Errors: kDataLoss when an entry's hash is
  // not 64 hex digits; the table is unchanged then.
  Status Import(const std::vector<ExportedSession>& sessions);

 private:
  using Hash = std::array<uint8_t, 32>;
  struct Entry {
    Hash hash;
    WallTime expires_at;
    MonoTime mono_deadline;
    int64_t owner_id;
  };

  static Hash HashToken(std::string_view token);
  bool Live(const Entry& e) const;
  void DropExpired();
  // Index of the entry whose hash equals `hash`, or -1. Looks at every
  // entry so the time taken does not tell which one matched.
  std::ptrdiff_t Find(const Hash& hash) const;

  Clock& clock_;
  Rng& rng_;
  std::chrono::seconds lifetime_;
  size_t max_sessions_;
  std::vector<Entry> entries_;  // creation order, oldest first
};

}  // namespace warden::auth

#endif  // WARDEN_AUTH_SESSION_H_
