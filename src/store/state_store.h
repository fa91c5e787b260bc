// The device's owner state in one SQLite file (WAL mode, synchronous=FULL):
// registered owner keys, the owner's password hash and login sessions.
//
// Every change is one transaction, so a power cut leaves either the old
// state or the new one. Pairing and reset are single transactions: there is
// no moment at which a device is half paired.
#ifndef WARDEN_STORE_STATE_STORE_H_
#define WARDEN_STORE_STATE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

struct sqlite3;

namespace warden::store {

struct Owner {
  std::string name;
  Bytes spki_der;           // the owner's public key
  std::string fingerprint;  // hex SHA-256 of spki_der
  int64_t created_at = 0;   // unix seconds
};

struct StoredSession {
  std::string token_hash;  // hex SHA-256 of the token
  int64_t expires_at = 0;  // unix seconds
};

class StateStore {
 public:
  // Opens or creates the database at `path` (mode 0600) and migrates its
  // schema. A file that is not a Warden state database is kDataLoss.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  Result<bool> IsPaired();
  Result<std::vector<Owner>> Owners();
  // The owner whose key has this fingerprint, or nullopt.
  Result<std::optional<Owner>> FindOwner(const std::string& fingerprint);

  // Registers the first owner and, optionally, their password hash, in one
  // transaction. kFailedPrecondition if the device already has an owner.
  Status CompletePairing(const Owner& owner,
                         const std::optional<std::string>& password_hash);

  // Registers one more owner on a paired device, with the current owners'
  // consent (the caller checks it). Keeps the password and sessions.
  // kFailedPrecondition if the device has no owner; kAlreadyExists if the
  // key is registered already.
  Status AddOwner(const Owner& owner);

  Result<std::optional<std::string>> PasswordHash();
  Status SetPasswordHash(const std::string& encoded_hash);

  Result<std::vector<StoredSession>> Sessions();
  // Replaces the stored sessions with `sessions`.
  Status ReplaceSessions(const std::vector<StoredSession>& sessions);

  // Owner reset: removes every owner, the password and all sessions in one
  // transaction.
  Status Reset();

 private:
  explicit StateStore(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql);
  Status InsertOwner(const Owner& owner);
  Status InTransaction(const std::function<Status()>& body);
  sqlite3* db_;
};

}  // namespace warden::store

#endif  // WARDEN_STORE_STATE_STORE_H_
