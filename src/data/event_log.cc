#include "data/event_log.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "crypto/aead.h"
#include "data/sealed_key.h"

namespace warden::data {
namespace {

using nlohmann::json;

constexpr int32_t kApplicationId = 0x5745564c;  // "WEVL"
constexpr char kKeyPrefix[] = "events-";
constexpr size_t kSealOverhead = crypto::kAeadNonceSize + crypto::kAeadTagSize;
// An entry's sealed size can never exceed this: the fields are bounded
// before the entry is built, and JSON escapes at most sextuple a byte.
constexpr size_t kMaxSealedSize =
    kMaxEventFields * (kMaxEventValueSize * 6 + 512) + 1024 + kSealOverhead;

constexpr char kUpV1[] =
    "CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER "
    "NOT NULL, keyed INTEGER NOT NULL);"
    "INSERT INTO meta(id, epoch, keyed) VALUES(1, 1, 0);"
    "CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, time "
    "INTEGER NOT NULL, epoch INTEGER NOT NULL, size INTEGER NOT NULL, "
    "sealed BLOB NOT NULL);"
    "CREATE INDEX entries_by_time ON entries(time);";
constexpr char kDownV1[] = "DROP TABLE entries; DROP TABLE meta;";

const db::Schema& EventLogSchema() {
  static const db::Schema schema{kApplicationId, {{1, kUpV1, kDownV1}}};
  return schema;
}

// The first `max` bytes of `s`, without splitting a UTF-8 sequence.
std::string Cut(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

// nlohmann throws on text that is not UTF-8 (an app's output line may
// hold any bytes): such text is kept with its bad bytes replaced.
Result<std::string> Dump(const json& j) {
  try {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception& e) {
    return InternalError(std::string("json: ") + e.what());
  }
}

std::optional<int64_t> KeyEpoch(std::string_view name) {
  if (!name.starts_with(kKeyPrefix)) return std::nullopt;
  std::string_view digits = name.substr(sizeof(kKeyPrefix) - 1);
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t epoch = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    epoch = epoch * 10 + (c - '0');
  }
  return epoch;
}

Result<EventEntry> ParseEntry(int64_t id, int64_t time, ByteView plain) {
  json j = json::parse(plain.begin(), plain.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return IntegrityError("event " + std::to_string(id) + " is damaged");
  }
  try {
    EventEntry e;
    e.id = id;
    e.time = time;
    e.kind = j.at("kind").get<std::string>();
    e.severity = j.at("severity").get<std::string>();
    e.category = j.at("category").get<std::string>();
    for (const auto& f : j.at("fields")) {
      EventEntry::Field field;
      field.name = f.at("name").get<std::string>();
      const json& v = f.at("value");
      if (v.is_boolean()) {
        field.value = v.get<bool>();
      } else if (v.is_number_integer()) {
        field.value = v.get<int64_t>();
      } else {
        field.value = v.get<std::string>();
      }
      field.personal = f.value("personal", false);
      field.pseudonym = f.value("pseudonym", std::string());
      e.fields.push_back(std::move(field));
    }
    return e;
  } catch (const std::exception& ex) {
    return IntegrityError("event " + std::to_string(id) + ": " + ex.what());
  }
}

}  // namespace

Bytes EventEntryAad(int64_t id) {
  Bytes aad = ToBytes("warden event log v1");
  aad.push_back(0);
  for (int shift = 56; shift >= 0; shift -= 8) {
    aad.push_back(static_cast<uint8_t>(static_cast<uint64_t>(id) >> shift));
  }
  return aad;
}

std::string EventLogKeyName(int64_t epoch) {
  return std::string(kKeyPrefix) + std::to_string(epoch);
}

Result<std::unique_ptr<EventLog>> EventLog::Open(platform::Env& env,
                                                 const std::string& path,
                                                 keystore::Keystore& keystore,
                                                 Policy policy, Rng& rng) {
  if (policy.max_entries < 1 || policy.max_bytes < 1 ||
      policy.retention_seconds < kMinRetentionSeconds ||
      policy.retention_seconds > kMaxRetentionSeconds) {
    return InvalidArgumentError("the event log's bounds must be positive");
  }
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<db::Database> db,
                          db::Database::Open(env, path, EventLogSchema()));
  return std::unique_ptr<EventLog>(
      new EventLog(std::move(db), keystore, policy, rng));
}

EventLog::~EventLog() = default;

Result<ByteView> EventLog::Key(int64_t epoch, bool make) {
  if (!key_ || key_->first != epoch) {
    key_.reset();
    WARDEN_ASSIGN_OR_RETURN(
        crypto::SecretBytes key,
        MakeOrOpenSealedKey(keystore_, rng_, EventLogKeyName(epoch), make));
    key_.emplace(epoch, std::move(key));
  }
  return key_->second.view();
}

Result<int64_t> EventLog::Append(const events::Event& event,
                                 const events::Pseudonymizer& pseudonym) {
  // Bounded before it is built: kMaxEventFields fields, values cut.
  json fields = json::array();
  const auto& in = event.fields();
  for (size_t i = 0; i < in.size() && i < kMaxEventFields; ++i) {
    const events::Field& f = in[i];
    json field = {{"name", Cut(std::string(f.name), kMaxEventValueSize)}};
    if (const auto* s = std::get_if<std::string>(&f.value)) {
      std::string value = Cut(*s, kMaxEventValueSize);
      if (f.personal) {
        field["personal"] = true;
        field["pseudonym"] =
            pseudonym ? Cut(pseudonym(*s), kMaxEventValueSize) : "";
      }
      field["value"] = std::move(value);
    } else if (const auto* n = std::get_if<int64_t>(&f.value)) {
      field["value"] = *n;
    } else {
      field["value"] = std::get<bool>(f.value);
    }
    fields.push_back(std::move(field));
  }
  json body = {
      {"kind", std::string(event.kind().name)},
      {"severity", std::string(events::SeverityName(event.kind().severity))},
      {"category", std::string(events::CategoryName(event.kind().category))},
      {"fields", std::move(fields)}};
  WARDEN_ASSIGN_OR_RETURN(std::string plain, Dump(body));
  body.clear();
  const int64_t time = std::chrono::duration_cast<std::chrono::seconds>(
                           event.time().time_since_epoch())
                           .count();

  WARDEN_ASSIGN_OR_RETURN(auto meta,
                          db_->Prepare("SELECT epoch, keyed FROM meta"));
  WARDEN_ASSIGN_OR_RETURN(bool row, meta.Step());
  if (!row) return DataLossError("the event log has no epoch");
  const int64_t epoch = meta.Int(0);
  const bool keyed = meta.Int(1) == epoch;
  meta.Reset();
  auto key = Key(epoch, !keyed);
  if (!key.ok()) {
    crypto::Wipe(plain);
    return key.status();
  }
  int64_t id = 0;
  Status st = db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(
        auto insert, db_->Prepare("INSERT INTO entries(time, epoch, size, "
                                  "sealed) VALUES(?1, ?2, 0, x'')"));
    WARDEN_TRY(insert.Bind(1, time).Bind(2, epoch).Run());
    id = db_->LastInsertId();
    WARDEN_ASSIGN_OR_RETURN(warden::Bytes sealed,
                            crypto::AeadSealRandomNonce(
                                rng_, *key, EventEntryAad(id), AsBytes(plain)));
    WARDEN_ASSIGN_OR_RETURN(
        auto update,
        db_->Prepare("UPDATE entries SET sealed = ?1, size = ?2 WHERE id = "
                     "?3"));
    WARDEN_TRY(update.Bind(1, ByteView(sealed))
                   .Bind(2, static_cast<int64_t>(sealed.size()))
                   .Bind(3, id)
                   .Run());
    WARDEN_ASSIGN_OR_RETURN(auto mark,
                            db_->Prepare("UPDATE meta SET keyed = ?1"));
    WARDEN_TRY(mark.Bind(1, epoch).Run());
    // Oldest first, until both bounds hold again.
    WARDEN_ASSIGN_OR_RETURN(
        auto totals,
        db_->Prepare("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM entries"));
    WARDEN_TRY(totals.Step().status());
    int64_t count = totals.Int(0);
    int64_t bytes = totals.Int(1);
    WARDEN_ASSIGN_OR_RETURN(
        auto oldest,
        db_->Prepare("SELECT id, size FROM entries ORDER BY id LIMIT 1"));
    WARDEN_ASSIGN_OR_RETURN(auto drop,
                            db_->Prepare("DELETE FROM entries WHERE id = ?1"));
    while (count > policy_.max_entries || bytes > policy_.max_bytes) {
      oldest.Reset();
      WARDEN_ASSIGN_OR_RETURN(bool any, oldest.Step());
      if (!any) break;
      const int64_t gone = oldest.Int(0);
      bytes -= oldest.Int(1);
      --count;
      drop.Reset();
      WARDEN_TRY(drop.Bind(1, gone).Run());
    }
    return Status::Ok();
  });
  crypto::Wipe(plain);
  WARDEN_TRY(st);
  return id;
}

Result<std::vector<EventEntry>> EventLog::List(int64_t after_id, size_t limit) {
  limit = std::min(limit, kMaxEventListSize);
  WARDEN_ASSIGN_OR_RETURN(
      auto s, db_->Prepare("SELECT id, time, epoch, sealed FROM entries "
                           "WHERE id > ?1 ORDER BY id LIMIT ?2"));
  s.Bind(1, after_id).Bind(2, static_cast<int64_t>(limit));
  std::vector<EventEntry> out;
  while (true) {
    WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    const int64_t id = s.Int(0);
    warden::Bytes sealed = s.Blob(3);
    if (sealed.size() < kSealOverhead || sealed.size() > kMaxSealedSize) {
      return IntegrityError("event " + std::to_string(id) + " is damaged");
    }
    auto key = Key(s.Int(2), /*make=*/false);
    if (!key.ok()) {
      if (key.status().code() == Code::kNotFound) {
        return IntegrityError("the key of event " + std::to_string(id) +
                              " is destroyed");
      }
      return key.status();
    }
    WARDEN_ASSIGN_OR_RETURN(
        warden::Bytes plain,
        crypto::AeadOpenRandomNonce(*key, EventEntryAad(id), sealed));
    auto entry = ParseEntry(id, s.Int(1), plain);
    crypto::Wipe(plain);
    if (!entry.ok()) return entry.status();
    out.push_back(std::move(*entry));
  }
  return out;
}

Result<int64_t> EventLog::Sweep(WallTime now) {
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch())
          .count();
  WARDEN_ASSIGN_OR_RETURN(auto s,
                          db_->Prepare("DELETE FROM entries WHERE time <= ?1"));
  WARDEN_TRY(s.Bind(1, now_s - policy_.retention_seconds).Run());
  const int64_t removed = db_->Changes();
  // The deleted rows' old frames stay in the WAL until it is checkpointed.
  if (removed > 0) WARDEN_TRY(db_->CheckpointWal());
  return removed;
}

Result<int64_t> EventLog::Count() {
  WARDEN_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT COUNT(*) FROM entries"));
  WARDEN_TRY(s.Step().status());
  return s.Int(0);
}

Result<int64_t> EventLog::SealedBytes() {
  WARDEN_ASSIGN_OR_RETURN(
      auto s, db_->Prepare("SELECT COALESCE(SUM(size), 0) FROM entries"));
  WARDEN_TRY(s.Step().status());
  return s.Int(0);
}

Status EventLog::Erase() {
  // A durable move to the next epoch first: from here on no append uses a
  // key about to be destroyed, and every key of an earlier epoch is doomed.
  int64_t epoch = 0;
  WARDEN_TRY(db_->InTransaction([&]() -> Status {
    WARDEN_TRY(db_->Exec("UPDATE meta SET epoch = epoch + 1"));
    WARDEN_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT epoch FROM meta"));
    WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return DataLossError("the event log has no epoch");
    epoch = s.Int(0);
    return Status::Ok();
  }));
  key_.reset();
  WARDEN_ASSIGN_OR_RETURN(auto items, keystore_.List());
  for (const auto& item : items) {
    auto e = KeyEpoch(item.name);
    if (!e || *e >= epoch) continue;
    Status st = keystore_.Destroy(item.name);
    if (!st.ok() && st.code() != Code::kNotFound) return st;
  }
  WARDEN_ASSIGN_OR_RETURN(auto s,
                          db_->Prepare("DELETE FROM entries WHERE epoch < ?1"));
  WARDEN_TRY(s.Bind(1, epoch).Run());
  return db_->CheckpointAndVacuum();
}

}  // namespace warden::data
