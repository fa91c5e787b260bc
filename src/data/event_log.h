// wardend's own log of events with their personal fields in clear
// (guidelines 8, 10 and 11). The log lines on stderr, which reach the
// system journal the device cannot erase, show a pseudonym for every
// personal field (an owner's name, a peer address); the clear value lives
// only here, sealed and erasable, with the pseudonym its line showed, so
// that the owner can learn what a journal line stood for and a deletion of
// personal data leaves nothing of it behind.
//
// One SQLite file of its own (db/database.h: WAL, synchronous=FULL,
// secure_delete), apart from the app's records in data.db: the event log
// is written far more often than the records, and a file of its own keeps
// its growth and its WAL from touching them, while one deletion still
// erases both (DataStore::AlsoErase runs Erase inside the deletion's
// durable intent, so a power cut is resumed with the rest).
//
// Each entry is its time in clear (retention needs it) and, sealed with
// AES-256-GCM under the log's key with its id as associated data
// (EventEntryAad), the kind, severity, category and fields, each personal
// field with its pseudonym. The key is a sealed secret in the keystore,
// "events-<epoch>", made on the first append of an epoch and sealed before
// any entry uses it; Erase moves to a new epoch, so a deletion retires the
// key for good (as data keys are retired, data/data_store.h).
//
// Bounds, checked before anything is built: at most kMaxEventFields fields
// of an event are kept, text values are cut at kMaxEventValueSize bytes,
// and the log holds at most Policy::max_entries entries and
// Policy::max_bytes sealed bytes, the oldest dropped first. How often it is
// written is the caller's to limit: the daemon writes what its
// rate-limited stderr log writes (events/log.h), no more.
//
// Not thread-safe: one caller (the daemon's event loop) at a time.
#ifndef WARDEN_DATA_EVENT_LOG_H_
#define WARDEN_DATA_EVENT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/rng.h"
#include "base/status.h"
#include "crypto/secret.h"
#include "data/data_store.h"
#include "db/database.h"
#include "events/event.h"
#include "events/log.h"
#include "keystore/keystore.h"
#include "platform/env.h"

namespace warden::data {

inline constexpr size_t kMaxEventFields = 32;
// Longer text values are cut (an app's output line, say): the entry keeps
// what identifies the event, not an unbounded copy.
inline constexpr size_t kMaxEventValueSize = 1024;
// The most entries one List returns.
inline constexpr size_t kMaxEventListSize = 1000;
// The name the event log has in a deletion's result and receipt, and in
// the inventory: not a kind name an app may declare ([a-z0-9_]).
inline constexpr std::string_view kEventLogName = "wardend.event_log";

struct EventEntry {
  struct Field {
    std::string name;
    std::variant<std::string, int64_t, bool> value;
    bool personal = false;
    std::string pseudonym;  // what stderr showed; empty when not personal
    bool operator==(const Field&) const = default;
  };
  int64_t id = 0;
  int64_t time = 0;  // unix seconds, the event's
  std::string kind;
  std::string severity;
  std::string category;
  std::vector<Field> fields;
  bool operator==(const EventEntry&) const = default;
};

// The associated data sealing entry `id`: a version tag and the id.
Bytes EventEntryAad(int64_t id);
// The keystore name of the event log's key in `epoch`.
std::string EventLogKeyName(int64_t epoch);

class EventLog final : public ErasableStore {
 public:
  struct Policy {
    int64_t max_entries = 10'000;
    int64_t max_bytes = 4 * 1024 * 1024;         // sealed bytes held
    int64_t retention_seconds = 30 * 24 * 3600;  // Sweep drops older ones
  };

  // Opens or creates the log's database at `path` on `env`; its key is
  // kept in `keystore`. `env`, `keystore` and `rng` must outlive the log.
  // kInvalidArgument for a policy with a bound below 1 (or a retention
  // outside data/data_store.h's limits); else errors as
  // db::Database::Open.
  static Result<std::unique_ptr<EventLog>> Open(platform::Env& env,
                                                const std::string& path,
                                                keystore::Keystore& keystore,
                                                Policy policy,
                                                Rng& rng = SystemRng());
  ~EventLog() override;
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Appends `event`, stamped with its own time, recording for each
  // personal field the text `pseudonym` gives it (what the stderr line
  // showed); then drops the oldest entries past the bounds. Durable when
  // this returns; on failure nothing is appended and nothing dropped.
  Result<int64_t> Append(const events::Event& event,
                         const events::Pseudonymizer& pseudonym);

  // Up to `limit` (at most kMaxEventListSize) entries with an id above
  // `after_id`, oldest first. kIntegrity when an entry was altered or
  // moved, or its key is gone.
  Result<std::vector<EventEntry>> List(int64_t after_id, size_t limit);

  // Deletes every entry older than the retention at `now`; returns how
  // many went.
  Result<int64_t> Sweep(WallTime now);

  // Entries held, and their sealed bytes.
  Result<int64_t> Count() override;
  Result<int64_t> SealedBytes();

  // ErasableStore: crypto-erase (every key of this epoch and before is
  // destroyed, after a durable move to the next epoch, so no append uses
  // a doomed key), then the rows, a WAL checkpoint, VACUUM and another
  // checkpoint. Every step can run again.
  std::string_view ErasableName() const override { return kEventLogName; }
  Status Erase() override;

  const Policy& policy() const { return policy_; }

 private:
  EventLog(std::unique_ptr<db::Database> db, keystore::Keystore& keystore,
           Policy policy, Rng& rng)
      : db_(std::move(db)), keystore_(keystore), policy_(policy), rng_(rng) {}

  // The key of `epoch`, made with `make`; the view is of the cached copy,
  // valid until the next call.
  Result<ByteView> Key(int64_t epoch, bool make);

  std::unique_ptr<db::Database> db_;
  keystore::Keystore& keystore_;
  Policy policy_;
  Rng& rng_;
  // The key of the epoch in use, once unsealed or made.
  std::optional<std::pair<int64_t, crypto::SecretBytes>> key_;
};

}  // namespace warden::data

#endif  // WARDEN_DATA_EVENT_LOG_H_
