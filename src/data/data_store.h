// The device's personal data (guidelines 8 and 11): what the app declared it
// keeps, the records themselves sealed at rest, retention, export, and
// deletion that really deletes.
//
// One SQLite file of its own (db/database.h: WAL, synchronous=FULL,
// secure_delete), separate from the owner state, so that wiping it never
// touches pairing and its free pages and WAL hold nothing else.
//
// Declarations. The app declares each kind of personal data it keeps: a
// name ([a-z0-9_], 1 to kMaxKindNameSize), a category from a fixed list, a
// purpose in words, a retention period and whether it may leave the device.
// At most kMaxKinds kinds. The inventory (Kinds) is what the owner and the
// assessor are shown.
//
// Records. Each record is sealed with AES-256-GCM under its kind's data key,
// with associated data binding it to its kind and record id (RecordAad), so
// a row copied to another id or kind does not open. Data keys are sealed
// secrets in the keystore, one per kind and epoch, named
// "data-<kind>-<epoch>". Per kind, so that one kind can be erased without
// the others; per epoch, so that a deletion retires a key for good: writes
// after it use a fresh key under a new name, and a copy of an old row that
// survived somewhere (a flash block, a backup) has no key left to open it
// even if the kind is used again. A key is made on a kind's first write in
// an epoch, and sealed (durably) before any record uses it; the write's
// transaction records that the epoch is keyed, so a key left by a Seal that
// failed half-way is never trusted.
//
// Retention. Sweep(now) deletes every record older than its kind's
// retention; the daemon runs it periodically with its clock.
//
// Deletion (DeleteAll) is one operation in this order:
//   1. a durable intent (one transaction): what is to be deleted, by whom,
//      the record counts, and every kind moved to a new epoch, so that no
//      write from now on uses a doomed key;
//   2. crypto-erase: every data key of an older epoch is destroyed in the
//      keystore (Keystore::Destroy), so the rows cannot be opened even if
//      a copy of them survives; then the store AlsoErase gave (the event
//      log) is erased, its own key first;
//   3. the rows are deleted (secure_delete zeroes them in their pages);
//   4. the WAL is checkpointed and truncated, the file VACUUMed (free
//      pages go), and the WAL checkpointed and truncated again;
//   5. the intent is replaced by the result, in one transaction.
// Every step can run again. After a power cut anywhere the intent is still
// there and ResumeDeletion, which the daemon calls at start before it
// serves anything, finishes the work; the result it returns names the
// kinds, counts, requester and start time the interrupted call recorded.
//
// Not thread-safe: one caller (the daemon's event loop) at a time.
#ifndef WARDEN_DATA_DATA_STORE_H_
#define WARDEN_DATA_DATA_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/rng.h"
#include "base/status.h"
#include "crypto/secret.h"
#include "db/database.h"
#include "keystore/keystore.h"
#include "platform/env.h"

namespace warden::data {

inline constexpr size_t kMaxKinds = 32;
inline constexpr size_t kMaxKindNameSize = 32;
inline constexpr size_t kMaxPurposeSize = 256;
// Largest record value: schedules, readings and settings are far smaller.
inline constexpr size_t kMaxRecordSize = 64 * 1024;
// Records kept of one kind; a write beyond it is kResourceExhausted.
inline constexpr int64_t kMaxRecordsPerKind = 2'000'000;
// Longest retention a kind may declare (ten years), and the shortest.
inline constexpr int64_t kMaxRetentionSeconds = 10LL * 366 * 24 * 3600;
inline constexpr int64_t kMinRetentionSeconds = 1;
// Largest export Export builds; beyond it kResourceExhausted.
inline constexpr size_t kMaxExportSize = 64 * 1024 * 1024;
// Longest "requested by" text a deletion keeps.
inline constexpr size_t kMaxRequesterSize = 128;
// Receipts of past deletions kept (Receipts); the oldest goes first.
inline constexpr size_t kMaxReceiptsKept = 16;
// Largest receipt KeepReceipt takes (data/receipt.h's kMaxReceiptSize).
inline constexpr size_t kMaxKeptReceiptSize = 32 * 1024;

// The categories a kind may be declared under.
enum class Category {
  kIdentity,     // names, account identifiers
  kContact,      // addresses, phone numbers, e-mail
  kLocation,     // where the device or its users are
  kUsage,        // schedules, settings, how the device is used
  kSensor,       // readings the device takes of its surroundings
  kHealth,       // health and biometric data
  kAudioVisual,  // recordings, images
  kOther,
};

// "identity", "contact", "location", "usage", "sensor", "health",
// "audio_visual", "other".
std::string_view CategoryName(Category category);
// The category of that name; kInvalidArgument for any other text.
Result<Category> ParseCategory(std::string_view name);

struct KindDeclaration {
  std::string name;
  Category category = Category::kOther;
  std::string purpose;
  int64_t retention_seconds = 0;
  bool may_leave_device = false;

  bool operator==(const KindDeclaration&) const = default;
};

// Ok when `kind` is well formed (see the header comment); else
// kInvalidArgument saying what is wrong.
Status ValidateDeclaration(const KindDeclaration& kind);

struct Record {
  int64_t id = 0;
  std::string kind;
  int64_t created_at = 0;  // unix seconds
  Bytes value;
};

struct KindInventory {
  KindDeclaration declaration;
  int64_t records = 0;
};

// What one deletion deleted.
struct DeletionResult {
  struct Kind {
    std::string name;
    int64_t records = 0;
    bool operator==(const Kind&) const = default;
  };
  // Every declared kind, sorted by name, then the store AlsoErase gave.
  std::vector<Kind> kinds;
  std::string requested_by;    // e.g. an owner's fingerprint, "device button"
  int64_t started_at = 0;      // unix seconds: when it was asked for
  int64_t completed_at = 0;    // unix seconds: when it was finished
  int64_t keys_destroyed = 0;  // data keys destroyed (crypto-erase)
  // The deletion also unpaired the device (a transfer of ownership).
  bool unpaired = false;
  bool operator==(const DeletionResult&) const = default;
};

// A store of personal data kept beside the records (wardend's event log,
// data/event_log.h) that every deletion erases with them.
class ErasableStore {
 public:
  virtual ~ErasableStore() = default;
  // Its name in a deletion's result and receipt: never a kind name an app
  // may declare.
  virtual std::string_view ErasableName() const = 0;
  // The entries it holds.
  virtual Result<int64_t> Count() = 0;
  // Erases everything it holds, crypto-erase first. Must be idempotent: a
  // resumed deletion runs it again.
  virtual Status Erase() = 0;
};

// The associated data sealing a record: a version tag, the kind and the id.
Bytes RecordAad(std::string_view kind, int64_t id);
// The keystore name of a kind's data key in `epoch`.
std::string DataKeyName(std::string_view kind, int64_t epoch);

class DataStore {
 public:
  // Opens or creates the store's database at `path` on `env`; data keys
  // are kept in `keystore`. `env`, `keystore`, `clock` and `rng` must
  // outlive the store. A deletion that a crash interrupted is not resumed
  // here: the caller runs ResumeDeletion before it serves anything.
  // Errors as db::Database::Open.
  static Result<std::unique_ptr<DataStore>> Open(platform::Env& env,
                                                 const std::string& path,
                                                 keystore::Keystore& keystore,
                                                 Clock& clock,
                                                 Rng& rng = SystemRng());
  ~DataStore();
  DataStore(const DataStore&) = delete;
  DataStore& operator=(const DataStore&) = delete;

  // Declares a kind, or replaces the declaration of a kind of that name
  // (its records stay; a shorter retention applies at the next Sweep).
  // kInvalidArgument for a bad declaration; kResourceExhausted when
  // kMaxKinds others are declared.
  Status Declare(const KindDeclaration& kind);
  // The inventory: every declared kind with its record count, by name.
  Result<std::vector<KindInventory>> Kinds();

  // Stores `value` (at most kMaxRecordSize bytes) as a new record of
  // `kind`, stamped with the clock's time, and returns its id; durable when
  // this returns. On any failure nothing is stored and the records held
  // before are untouched. kNotFound for an undeclared kind,
  // kInvalidArgument for a value too large, kResourceExhausted beyond
  // kMaxRecordsPerKind.
  Result<int64_t> Write(std::string_view kind, ByteView value);
  // The record, opened. kNotFound when there is none of that kind and id;
  // kIntegrity when its row was altered or moved, or its key is gone.
  Result<Record> Read(std::string_view kind, int64_t id);
  // Up to `limit` records of `kind` with an id above `after_id`, oldest
  // first. Errors as Read.
  Result<std::vector<Record>> List(std::string_view kind, int64_t after_id,
                                   size_t limit);
  // Deletes one record. kNotFound when absent.
  Status Erase(std::string_view kind, int64_t id);

  // Deletes every record past its kind's retention at `now` and returns
  // how many went.
  Result<int64_t> Sweep(WallTime now);

  // Everything held, as a JSON document: {"kinds": [{declaration...,
  // "records": [{"id", "created_at", "text" | "base64"}]}]}. A value that
  // is valid UTF-8 is given as "text", any other as "base64"; either gives
  // back the exact bytes. kResourceExhausted when it would pass
  // kMaxExportSize.
  Result<std::string> Export();

  // How a deletion that transfers ownership unpairs the device (the owner
  // state lives elsewhere). It must be idempotent: a resumed deletion runs
  // it again. Set before ResumeDeletion; the function must outlive the
  // store's use of it.
  void SetUnpair(std::function<Status()> unpair);

  // A store that every deletion erases too: the intent records its name
  // and count, step 2 runs its Erase after the data keys are destroyed,
  // and the result lists it after the declared kinds. Set before
  // ResumeDeletion; `store` must outlive the DataStore's use of it.
  void AlsoErase(ErasableStore* store);

  // Deletes all personal data (see the header comment); `requested_by` (at
  // most kMaxRequesterSize bytes) is kept in the result. With `unpair`
  // (transfer of ownership) the intent also says so, and after step 4 the
  // SetUnpair function runs before the result replaces the intent, so a
  // power cut anywhere leaves both to ResumeDeletion; the result then has
  // `unpaired`. When this returns Ok everything is gone and durably so. On
  // a failure the intent stays and ResumeDeletion (or another DeleteAll)
  // finishes it. kFailedPrecondition when a deletion is already pending
  // (resume it), or with `unpair` and no SetUnpair function.
  Result<DeletionResult> DeleteAll(std::string_view requested_by,
                                   bool unpair = false);
  // Finishes a deletion a crash or failure interrupted and returns what it
  // deleted; nullopt when none was pending.
  Result<std::optional<DeletionResult>> ResumeDeletion();
  // Whether a deletion intent is pending.
  Result<bool> DeletionPending();
  // The last deletion completed, or nullopt when there has been none.
  Result<std::optional<DeletionResult>> LastDeletion();
  // Keeps the signed receipt (data/receipt.h) of the last deletion, which
  // the device then gives to whoever asks. It is also added to the
  // receipts of past deletions, of which the newest kMaxReceiptsKept are
  // kept (the oldest is dropped in the same transaction). Receipts are not
  // personal data of the kinds a deletion erases: they say what went, and
  // stay. kFailedPrecondition when no deletion has completed;
  // kInvalidArgument for a receipt over kMaxKeptReceiptSize.
  Status KeepReceipt(std::string_view receipt);
  // The receipt kept for the last deletion, or nullopt.
  Result<std::optional<std::string>> LastReceipt();
  // The receipts kept (at most kMaxReceiptsKept), newest first.
  Result<std::vector<std::string>> Receipts();

 private:
  DataStore(std::unique_ptr<db::Database> db, keystore::Keystore& keystore,
            Clock& clock, Rng& rng)
      : db_(std::move(db)), keystore_(keystore), clock_(clock), rng_(rng) {}

  struct KindRow {
    KindDeclaration declaration;
    int64_t epoch = 0;
    int64_t records = 0;
    // The epoch whose data key a committed write has used: that key's
    // Seal returned, so it is durable. Any other key of the kind is not
    // vouched for.
    int64_t keyed = 0;
  };
  Result<std::optional<KindRow>> FindKind(std::string_view kind);
  Result<std::vector<KindRow>> AllKinds();
  // The data key of `kind` in `epoch`: from the cache, else made afresh
  // when `make`, else unsealed from the keystore, and kept in the cache.
  // The view is of the cached copy: valid until keys_ is cleared.
  Result<ByteView> DataKey(std::string_view kind, int64_t epoch, bool make);
  Result<Record> OpenRow(std::string_view kind, int64_t id, int64_t epoch,
                         int64_t created_at, ByteView sealed);
  Result<DeletionResult> FinishDeletion(const std::string& intent_json);
  int64_t NowSeconds() const;

  std::unique_ptr<db::Database> db_;
  keystore::Keystore& keystore_;
  Clock& clock_;
  Rng& rng_;
  std::function<Status()> unpair_;
  ErasableStore* also_ = nullptr;
  // Data keys unsealed so far, by keystore name: a write or read does not
  // go to the keystore each time. Wiped when a deletion starts.
  std::map<std::string, crypto::SecretBytes, std::less<>> keys_;
};

}  // namespace warden::data

#endif  // WARDEN_DATA_DATA_STORE_H_
