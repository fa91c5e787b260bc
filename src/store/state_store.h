// The device's owner state in one SQLite file (WAL mode, synchronous=FULL):
// the owners (their keys and roles), each owner's password hash, login
// sessions and device cookies.
//
// Every change is one transaction, so a power cut leaves either the old
// state or the new one. Pairing, removing an owner and reset are single
// transactions: there is no moment at which a device is half paired, or an
// owner half removed.
//
// Roles: the first owner (CompletePairing) is always an administrator; the
// store refuses to remove the last one, so a paired device always has one.
// What each role may do is decided by the caller; the store only keeps it.
//
// Passwords, sessions and device cookies belong to one owner each and go
// with them (foreign keys with ON DELETE CASCADE).
//
// Not thread-safe: one caller (the daemon's event loop) at a time.
#ifndef WARDEN_STORE_STATE_STORE_H_
#define WARDEN_STORE_STATE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

struct sqlite3;

namespace warden::store {

enum class Role { kAdmin, kMember };

// "admin" or "member": the name the database and the API use.
std::string_view RoleName(Role role);

struct Owner {
  int64_t id = 0;  // assigned by the store; ignored when adding
  std::string name;
  Bytes spki_der;           // the owner's public key
  std::string fingerprint;  // hex SHA-256 of spki_der
  int64_t created_at = 0;   // unix seconds
  Role role = Role::kMember;
};

struct StoredSession {
  std::string token_hash;  // hex SHA-256 of the token
  int64_t owner_id = 0;
  int64_t expires_at = 0;  // unix seconds
};

// A device cookie (OWASP's defence against online password guessing): given
// to a client after a successful login and bound to that owner, so that
// logins presenting it can be throttled apart from strangers' guesses.
struct DeviceCookie {
  std::string cookie_hash;  // hex SHA-256 of the cookie
  int64_t owner_id = 0;
  int64_t created_at = 0;  // unix seconds
  int64_t expires_at = 0;  // unix seconds
};

// Device cookies kept per owner; adding one more drops that owner's oldest.
inline constexpr size_t kMaxDeviceCookiesPerOwner = 16;

class StateStore {
 public:
  // Opens or creates the database at `path` (mode 0600) and migrates its
  // schema to this build's. A file that is not a Warden state database, or
  // one whose schema this build cannot read, is kDataLoss.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  Result<bool> IsPaired();
  // Every owner, in the order they were added.
  Result<std::vector<Owner>> Owners();
  // The owner whose key has this fingerprint, or nullopt.
  Result<std::optional<Owner>> FindOwner(const std::string& fingerprint);
  Result<std::optional<Owner>> FindOwnerById(int64_t id);
  Result<std::optional<Owner>> FindOwnerByName(const std::string& name);

  // Registers the first owner, always as an administrator whatever
  // `owner.role` says, with their password hash if given, in one
  // transaction. Returns the owner as stored (with its id).
  // kFailedPrecondition if the device already has an owner.
  Result<Owner> CompletePairing(
      const Owner& owner, const std::optional<std::string>& password_hash);

  // Registers one more owner on a paired device with the role in `owner`
  // and their password hash if given (the caller checks that someone
  // allowed it). Other owners' passwords and sessions are kept. Returns the
  // owner as stored. kFailedPrecondition if the device has no owner;
  // kAlreadyExists if the key is registered already or the name is taken.
  Result<Owner> AddOwner(const Owner& owner,
                         const std::optional<std::string>& password_hash);

  // Removes the owner `id` with their password, sessions and device cookies
  // in one transaction. kNotFound if there is no such owner;
  // kFailedPrecondition if they are the last administrator.
  Status RemoveOwner(int64_t id);

  // The owner's password hash, or nullopt when they have none (or there is
  // no such owner).
  Result<std::optional<std::string>> PasswordHash(int64_t owner_id);
  // Sets the owner's password hash and ends that owner's sessions and
  // device cookies (nobody else's), in one transaction. kNotFound if there
  // is no such owner.
  Status SetPasswordHash(int64_t owner_id, const std::string& encoded_hash);

  Result<std::vector<StoredSession>> Sessions();
  // Replaces the stored sessions with `sessions`. A session of an owner
  // who does not exist is kFailedPrecondition and nothing changes.
  Status ReplaceSessions(const std::vector<StoredSession>& sessions);

  // Stores a device cookie. The owner's cookies that expired by
  // `cookie.created_at` are dropped, and beyond kMaxDeviceCookiesPerOwner the
  // oldest. kNotFound if there is no such owner; kAlreadyExists if the hash
  // is stored already.
  Status AddDeviceCookie(const DeviceCookie& cookie);
  // The cookie with this hash, or nullopt when there is none or it expired
  // at or before `now` (unix seconds).
  Result<std::optional<DeviceCookie>> FindDeviceCookie(
      const std::string& cookie_hash, int64_t now);
  // Removes the cookie; an absent one is fine.
  Status RemoveDeviceCookie(const std::string& cookie_hash);

  // Owner reset: removes every owner, password, session and device cookie
  // in one transaction.
  Status Reset();

 private:
  explicit StateStore(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql);
  Result<Owner> InsertOwner(const Owner& owner,
                            const std::optional<std::string>& password_hash);
  Status InTransaction(const std::function<Status()>& body);
  sqlite3* db_;
};

}  // namespace warden::store

#endif  // WARDEN_STORE_STATE_STORE_H_
