#include "data/data_store.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/utf8.h"
#include "crypto/aead.h"
#include "crypto/secret.h"
#include "data/sealed_key.h"

namespace warden::data {
namespace {

using nlohmann::json;

constexpr int32_t kApplicationId = 0x57444154;  // "WDAT"
constexpr char kDataKeyPrefix[] = "data-";
constexpr size_t kSealOverhead = crypto::kAeadNonceSize + crypto::kAeadTagSize;

constexpr char kUpV1[] =
    "CREATE TABLE kinds (name TEXT PRIMARY KEY, category TEXT NOT NULL, "
    "purpose TEXT NOT NULL, retention INTEGER NOT NULL, may_leave INTEGER "
    "NOT NULL, epoch INTEGER NOT NULL, records INTEGER NOT NULL DEFAULT 0, "
    "keyed INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT "
    "NOT NULL REFERENCES kinds(name), epoch INTEGER NOT NULL, created_at "
    "INTEGER NOT NULL, sealed BLOB NOT NULL);"
    "CREATE INDEX records_by_age ON records(kind, created_at);"
    "CREATE TABLE deletion (id INTEGER PRIMARY KEY CHECK (id = 1), state "
    "TEXT NOT NULL CHECK (state IN ('pending', 'done')), body TEXT NOT "
    "NULL, receipt TEXT);";
constexpr char kDownV1[] =
    "DROP TABLE deletion; DROP TABLE records; DROP TABLE kinds;";
// Past deletions' receipts, beginning with the one version 1 kept.
constexpr char kUpV2[] =
    "CREATE TABLE receipts (id INTEGER PRIMARY KEY AUTOINCREMENT, receipt "
    "TEXT NOT NULL);"
    "INSERT INTO receipts(receipt) SELECT receipt FROM deletion WHERE state "
    "= 'done' AND receipt IS NOT NULL;";
constexpr char kDownV2[] = "DROP TABLE receipts;";

const db::Schema& DataSchema() {
  static const db::Schema schema{kApplicationId,
                                 {{1, kUpV1, kDownV1}, {2, kUpV2, kDownV2}}};
  return schema;
}

constexpr std::pair<Category, std::string_view> kCategories[] = {
    {Category::kIdentity, "identity"},
    {Category::kContact, "contact"},
    {Category::kLocation, "location"},
    {Category::kUsage, "usage"},
    {Category::kSensor, "sensor"},
    {Category::kHealth, "health"},
    {Category::kAudioVisual, "audio_visual"},
    {Category::kOther, "other"},
};

bool IsKindName(std::string_view name) {
  if (name.empty() || name.size() > kMaxKindNameSize) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// nlohmann throws on bad UTF-8 in dump and on type errors; only checked
// text goes in, but a failure is still a Status, not an exception.
Result<std::string> Dump(const json& j) {
  try {
    return j.dump();
  } catch (const std::exception& e) {
    return InternalError(std::string("json: ") + e.what());
  }
}

json ResultJson(const DeletionResult& r) {
  json kinds = json::array();
  for (const auto& k : r.kinds) {
    kinds.push_back({{"name", k.name}, {"records", k.records}});
  }
  json out = {{"kinds", kinds},
              {"requested_by", r.requested_by},
              {"started_at", r.started_at},
              {"completed_at", r.completed_at},
              {"keys_destroyed", r.keys_destroyed}};
  if (r.unpaired) out["unpaired"] = true;
  return out;
}

// The stored intent or result, read back. Our own rows; a malformed one is
// kDataLoss.
struct Intent {
  DeletionResult result;
  std::vector<int64_t> new_epochs;  // per kind, in result.kinds' order
  std::vector<std::string> keys;    // data keys to destroy
  bool unpair = false;              // the device is to be unpaired too
  // The erasable store's name and count when the deletion began.
  std::optional<DeletionResult::Kind> also;
};

Result<Intent> ParseIntent(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError("deletion record is not JSON");
  }
  try {
    Intent in;
    for (const auto& k : j.at("kinds")) {
      in.result.kinds.push_back(
          {k.at("name").get<std::string>(), k.at("records").get<int64_t>()});
      in.new_epochs.push_back(k.value("epoch", int64_t{0}));
    }
    in.result.requested_by = j.at("requested_by").get<std::string>();
    in.result.started_at = j.at("started_at").get<int64_t>();
    in.result.completed_at = j.value("completed_at", int64_t{0});
    in.result.keys_destroyed = j.value("keys_destroyed", int64_t{0});
    in.result.unpaired = j.value("unpaired", false);
    in.unpair = j.value("unpair", false);
    if (j.contains("keys"))
      in.keys = j.at("keys").get<std::vector<std::string>>();
    if (j.contains("also")) {
      in.also = DeletionResult::Kind{j.at("also").at("name").get<std::string>(),
                                     j.at("also").at("records").get<int64_t>()};
    }
    return in;
  } catch (const std::exception& e) {
    return DataLossError(std::string("deletion record: ") + e.what());
  }
}

// The epoch in a data key's name "data-<kind>-<epoch>", or nullopt when
// `name` is not a key of `kind`.
std::optional<int64_t> KeyEpoch(std::string_view name, std::string_view kind) {
  const std::string prefix =
      std::string(kDataKeyPrefix) + std::string(kind) + "-";
  if (!name.starts_with(prefix)) return std::nullopt;
  std::string_view digits = name.substr(prefix.size());
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t epoch = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    epoch = epoch * 10 + (c - '0');
  }
  return epoch;
}

}  // namespace

std::string_view CategoryName(Category category) {
  for (const auto& [c, name] : kCategories) {
    if (c == category) return name;
  }
  return "other";
}

Result<Category> ParseCategory(std::string_view name) {
  for (const auto& [c, n] : kCategories) {
    if (n == name) return c;
  }
  return InvalidArgumentError("unknown category");
}

Status ValidateDeclaration(const KindDeclaration& kind) {
  if (!IsKindName(kind.name)) {
    return InvalidArgumentError("a kind's name is 1 to 32 of [a-z0-9_]");
  }
  if (kind.purpose.empty() || kind.purpose.size() > kMaxPurposeSize ||
      !IsValidUtf8(AsBytes(kind.purpose)) || HasControl(kind.purpose)) {
    return InvalidArgumentError(
        "kind " + kind.name +
        ": the purpose is 1 to 256 bytes of UTF-8 text on one line");
  }
  if (kind.retention_seconds < kMinRetentionSeconds ||
      kind.retention_seconds > kMaxRetentionSeconds) {
    return InvalidArgumentError("kind " + kind.name +
                                ": retention is 1 second to 10 years");
  }
  return Status::Ok();
}

Bytes RecordAad(std::string_view kind, int64_t id) {
  Bytes aad = ToBytes("warden data record v1");
  aad.push_back(0);
  aad.insert(aad.end(), kind.begin(), kind.end());
  aad.push_back(0);
  for (int shift = 56; shift >= 0; shift -= 8) {
    aad.push_back(static_cast<uint8_t>(static_cast<uint64_t>(id) >> shift));
  }
  return aad;
}

std::string DataKeyName(std::string_view kind, int64_t epoch) {
  return std::string(kDataKeyPrefix) + std::string(kind) + "-" +
         std::to_string(epoch);
}

Result<std::unique_ptr<DataStore>> DataStore::Open(platform::Env& env,
                                                   const std::string& path,
                                                   keystore::Keystore& keystore,
                                                   Clock& clock, Rng& rng) {
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<db::Database> db,
                          db::Database::Open(env, path, DataSchema()));
  return std::unique_ptr<DataStore>(
      new DataStore(std::move(db), keystore, clock, rng));
}

DataStore::~DataStore() = default;

int64_t DataStore::NowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             clock_.Now().time_since_epoch())
      .count();
}

Status DataStore::Declare(const KindDeclaration& kind) {
  WARDEN_TRY(ValidateDeclaration(kind));
  return db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto existing, FindKind(kind.name));
    if (!existing) {
      WARDEN_ASSIGN_OR_RETURN(auto count, db_->Prepare("SELECT COUNT(*) "
                                                       "FROM kinds"));
      WARDEN_TRY(count.Step().status());
      if (static_cast<size_t>(count.Int(0)) >= kMaxKinds) {
        return ResourceExhaustedError("too many kinds of personal data");
      }
    }
    WARDEN_ASSIGN_OR_RETURN(
        auto s, db_->Prepare(
                    "INSERT INTO kinds(name, category, purpose, retention, "
                    "may_leave, epoch) VALUES(?1, ?2, ?3, ?4, ?5, 1) ON "
                    "CONFLICT(name) DO UPDATE SET category = ?2, purpose = ?3, "
                    "retention = ?4, may_leave = ?5"));
    return s.Bind(1, kind.name)
        .Bind(2, CategoryName(kind.category))
        .Bind(3, kind.purpose)
        .Bind(4, kind.retention_seconds)
        .Bind(5, int64_t{kind.may_leave_device ? 1 : 0})
        .Run();
  });
}

Result<std::optional<DataStore::KindRow>> DataStore::FindKind(
    std::string_view kind) {
  WARDEN_ASSIGN_OR_RETURN(
      auto s, db_->Prepare("SELECT name, category, purpose, retention, "
                           "may_leave, epoch, records, keyed FROM kinds "
                           "WHERE "
                           "name = ?1"));
  s.Bind(1, kind);
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<KindRow>();
  KindRow k;
  k.declaration.name = s.Text(0);
  WARDEN_ASSIGN_OR_RETURN(k.declaration.category, ParseCategory(s.Text(1)));
  k.declaration.purpose = s.Text(2);
  k.declaration.retention_seconds = s.Int(3);
  k.declaration.may_leave_device = s.Int(4) != 0;
  k.epoch = s.Int(5);
  k.records = s.Int(6);
  k.keyed = s.Int(7);
  return std::optional<KindRow>(std::move(k));
}

Result<std::vector<DataStore::KindRow>> DataStore::AllKinds() {
  WARDEN_ASSIGN_OR_RETURN(auto s,
                          db_->Prepare("SELECT name FROM kinds ORDER BY name"));
  std::vector<std::string> names;
  while (true) {
    WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    names.push_back(s.Text(0));
  }
  std::vector<KindRow> kinds;
  for (const auto& name : names) {
    WARDEN_ASSIGN_OR_RETURN(auto k, FindKind(name));
    if (k) kinds.push_back(std::move(*k));
  }
  return kinds;
}

Result<std::vector<KindInventory>> DataStore::Kinds() {
  WARDEN_ASSIGN_OR_RETURN(auto rows, AllKinds());
  std::vector<KindInventory> out;
  for (auto& r : rows) out.push_back({std::move(r.declaration), r.records});
  return out;
}

Result<ByteView> DataStore::DataKey(std::string_view kind, int64_t epoch,
                                    bool make) {
  const std::string name = DataKeyName(kind, epoch);
  auto cached = keys_.find(name);
  if (cached == keys_.end()) {
    WARDEN_ASSIGN_OR_RETURN(crypto::SecretBytes key,
                            MakeOrOpenSealedKey(keystore_, rng_, name, make));
    cached = keys_.emplace(name, std::move(key)).first;
  }
  return cached->second.view();
}

Result<int64_t> DataStore::Write(std::string_view kind, ByteView value) {
  if (value.size() > kMaxRecordSize) {
    return InvalidArgumentError("a record is at most 64 KiB");
  }
  WARDEN_ASSIGN_OR_RETURN(auto k, FindKind(kind));
  if (!k) return NotFoundError("no kind of personal data is declared so");
  if (k->records >= kMaxRecordsPerKind) {
    return ResourceExhaustedError("kind " + std::string(kind) + " is full");
  }
  WARDEN_ASSIGN_OR_RETURN(ByteView key,
                          DataKey(kind, k->epoch, k->keyed != k->epoch));
  int64_t id = 0;
  WARDEN_TRY(db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(
        auto insert, db_->Prepare("INSERT INTO records(kind, epoch, "
                                  "created_at, sealed) VALUES(?1, ?2, ?3, "
                                  "x'')"));
    WARDEN_TRY(
        insert.Bind(1, kind).Bind(2, k->epoch).Bind(3, NowSeconds()).Run());
    id = db_->LastInsertId();
    WARDEN_ASSIGN_OR_RETURN(
        Bytes sealed,
        crypto::AeadSealRandomNonce(rng_, key, RecordAad(kind, id), value));
    WARDEN_ASSIGN_OR_RETURN(
        auto update, db_->Prepare("UPDATE records SET sealed = ?1 WHERE id = "
                                  "?2"));
    WARDEN_TRY(update.Bind(1, ByteView(sealed)).Bind(2, id).Run());
    WARDEN_ASSIGN_OR_RETURN(
        auto count, db_->Prepare("UPDATE kinds SET records = records + 1, "
                                 "keyed = ?2 WHERE name = ?1"));
    return count.Bind(1, kind).Bind(2, k->epoch).Run();
  }));
  return id;
}

Result<Record> DataStore::OpenRow(std::string_view kind, int64_t id,
                                  int64_t epoch, int64_t created_at,
                                  ByteView sealed) {
  if (sealed.size() < kSealOverhead ||
      sealed.size() > kMaxRecordSize + kSealOverhead) {
    return IntegrityError("record " + std::to_string(id) + " is damaged");
  }
  auto key = DataKey(kind, epoch, /*make=*/false);
  if (!key.ok()) {
    if (key.status().code() == Code::kNotFound) {
      return IntegrityError("the key of record " + std::to_string(id) +
                            " is destroyed");
    }
    return key.status();
  }
  WARDEN_ASSIGN_OR_RETURN(Bytes value, crypto::AeadOpenRandomNonce(
                                           *key, RecordAad(kind, id), sealed));
  return Record{id, std::string(kind), created_at, std::move(value)};
}

Result<Record> DataStore::Read(std::string_view kind, int64_t id) {
  WARDEN_ASSIGN_OR_RETURN(
      auto s, db_->Prepare("SELECT epoch, created_at, sealed FROM records "
                           "WHERE id = ?1 AND kind = ?2"));
  s.Bind(1, id).Bind(2, kind);
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFoundError("no such record");
  return OpenRow(kind, id, s.Int(0), s.Int(1), s.BlobView(2));
}

Result<std::vector<Record>> DataStore::List(std::string_view kind,
                                            int64_t after_id, size_t limit) {
  WARDEN_ASSIGN_OR_RETURN(
      auto s, db_->Prepare("SELECT id, epoch, created_at, sealed FROM "
                           "records WHERE kind = ?1 AND id > ?2 ORDER BY id "
                           "LIMIT ?3"));
  s.Bind(1, kind)
      .Bind(2, after_id)
      .Bind(3, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<Record> out;
  while (true) {
    WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    WARDEN_ASSIGN_OR_RETURN(
        Record r, OpenRow(kind, s.Int(0), s.Int(1), s.Int(2), s.BlobView(3)));
    out.push_back(std::move(r));
  }
  return out;
}

Status DataStore::Erase(std::string_view kind, int64_t id) {
  return db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(
        auto s,
        db_->Prepare("DELETE FROM records WHERE id = ?1 AND kind = ?2"));
    WARDEN_TRY(s.Bind(1, id).Bind(2, kind).Run());
    if (db_->Changes() == 0) return NotFoundError("no such record");
    WARDEN_ASSIGN_OR_RETURN(
        auto count, db_->Prepare("UPDATE kinds SET records = records - 1 "
                                 "WHERE name = ?1"));
    return count.Bind(1, kind).Run();
  });
}

Result<int64_t> DataStore::Sweep(WallTime now) {
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch())
          .count();
  WARDEN_ASSIGN_OR_RETURN(auto kinds, AllKinds());
  int64_t removed = 0;
  WARDEN_TRY(db_->InTransaction([&]() -> Status {
    for (const auto& k : kinds) {
      WARDEN_ASSIGN_OR_RETURN(
          auto s, db_->Prepare("DELETE FROM records WHERE kind = ?1 AND "
                               "created_at <= ?2"));
      WARDEN_TRY(s.Bind(1, k.declaration.name)
                     .Bind(2, now_s - k.declaration.retention_seconds)
                     .Run());
      const int64_t gone = db_->Changes();
      if (gone == 0) continue;
      removed += gone;
      WARDEN_ASSIGN_OR_RETURN(
          auto count, db_->Prepare("UPDATE kinds SET records = records - ?1 "
                                   "WHERE name = ?2"));
      WARDEN_TRY(count.Bind(1, gone).Bind(2, k.declaration.name).Run());
    }
    return Status::Ok();
  }));
  // The deleted rows' old frames stay in the WAL until it is checkpointed.
  if (removed > 0) WARDEN_TRY(db_->CheckpointWal());
  return removed;
}

Result<std::string> DataStore::Export() {
  WARDEN_ASSIGN_OR_RETURN(auto kinds, AllKinds());
  json out_kinds = json::array();
  size_t size = 0;
  for (const auto& k : kinds) {
    json records = json::array();
    int64_t after = 0;
    while (true) {
      WARDEN_ASSIGN_OR_RETURN(auto batch, List(k.declaration.name, after, 256));
      if (batch.empty()) break;
      for (auto& r : batch) {
        after = r.id;
        // Base64 and JSON escapes grow a value by at most 6 bytes per byte
        // (\u00XX); the figure is an upper bound checked before it is built.
        size += r.value.size() * 6 + 64;
        if (size > kMaxExportSize) {
          crypto::Wipe(r.value);
          return ResourceExhaustedError("the export is too large");
        }
        json rec = {{"id", r.id}, {"created_at", r.created_at}};
        if (IsValidUtf8(r.value)) {
          rec["text"] = ToString(r.value);
        } else {
          rec["base64"] = Base64Encode(r.value);
        }
        crypto::Wipe(r.value);
        records.push_back(std::move(rec));
      }
    }
    out_kinds.push_back({{"name", k.declaration.name},
                         {"category", CategoryName(k.declaration.category)},
                         {"purpose", k.declaration.purpose},
                         {"retention_seconds", k.declaration.retention_seconds},
                         {"may_leave_device", k.declaration.may_leave_device},
                         {"records", std::move(records)}});
  }
  return Dump(json{{"kinds", std::move(out_kinds)}});
}

Result<bool> DataStore::DeletionPending() {
  WARDEN_ASSIGN_OR_RETURN(
      auto s, db_->Prepare("SELECT 1 FROM deletion WHERE state = 'pending'"));
  return s.Step();
}

Result<std::optional<DeletionResult>> DataStore::LastDeletion() {
  WARDEN_ASSIGN_OR_RETURN(
      auto s, db_->Prepare("SELECT body FROM deletion WHERE state = 'done'"));
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<DeletionResult>();
  WARDEN_ASSIGN_OR_RETURN(Intent in, ParseIntent(s.Text(0)));
  return std::optional<DeletionResult>(std::move(in.result));
}

Status DataStore::KeepReceipt(std::string_view receipt) {
  if (receipt.size() > kMaxKeptReceiptSize) {
    return InvalidArgumentError("a deletion receipt is at most 32 KiB");
  }
  return db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("UPDATE deletion SET receipt = ?1 WHERE state = "
                             "'done'"));
    WARDEN_TRY(s.Bind(1, receipt).Run());
    if (db_->Changes() == 0) {
      return FailedPreconditionError("no deletion to keep a receipt for");
    }
    WARDEN_ASSIGN_OR_RETURN(
        auto add, db_->Prepare("INSERT INTO receipts(receipt) VALUES(?1)"));
    WARDEN_TRY(add.Bind(1, receipt).Run());
    WARDEN_ASSIGN_OR_RETURN(
        auto trim, db_->Prepare("DELETE FROM receipts WHERE id NOT IN (SELECT "
                                "id FROM receipts ORDER BY id DESC LIMIT ?1)"));
    return trim.Bind(1, static_cast<int64_t>(kMaxReceiptsKept)).Run();
  });
}

Result<std::vector<std::string>> DataStore::Receipts() {
  WARDEN_ASSIGN_OR_RETURN(
      auto s, db_->Prepare("SELECT receipt FROM receipts ORDER BY id DESC"));
  std::vector<std::string> out;
  while (true) {
    WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.Text(0));
  }
  return out;
}

Result<std::optional<std::string>> DataStore::LastReceipt() {
  WARDEN_ASSIGN_OR_RETURN(
      auto s, db_->Prepare("SELECT receipt FROM deletion WHERE state = 'done' "
                           "AND receipt IS NOT NULL"));
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

void DataStore::SetUnpair(std::function<Status()> unpair) {
  unpair_ = std::move(unpair);
}

void DataStore::AlsoErase(ErasableStore* store) { also_ = store; }

Result<DeletionResult> DataStore::DeleteAll(std::string_view requested_by,
                                            bool unpair) {
  if (unpair && !unpair_) {
    return FailedPreconditionError("this device cannot be unpaired here");
  }
  if (requested_by.empty() || requested_by.size() > kMaxRequesterSize ||
      !IsValidUtf8(AsBytes(requested_by)) || HasControl(requested_by)) {
    return InvalidArgumentError("who asked for the deletion: 1 to 128 bytes");
  }
  WARDEN_ASSIGN_OR_RETURN(bool pending, DeletionPending());
  if (pending) {
    return FailedPreconditionError("a deletion is pending; resume it");
  }
  WARDEN_ASSIGN_OR_RETURN(auto items, keystore_.List());
  int64_t also_count = 0;
  if (also_ != nullptr) {
    WARDEN_ASSIGN_OR_RETURN(also_count, also_->Count());
  }
  std::string body;
  WARDEN_TRY(db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto kinds, AllKinds());
    json j_kinds = json::array();
    json keys = json::array();
    for (const auto& k : kinds) {
      j_kinds.push_back({{"name", k.declaration.name},
                         {"records", k.records},
                         {"epoch", k.epoch + 1}});
      // Keys are made only by writes in an epoch up to the current one,
      // all before this moment: the list is complete.
      for (const auto& item : items) {
        auto e = KeyEpoch(item.name, k.declaration.name);
        if (e && *e <= k.epoch) keys.push_back(item.name);
      }
    }
    json intent = {{"kinds", std::move(j_kinds)},
                   {"keys", std::move(keys)},
                   {"requested_by", std::string(requested_by)},
                   {"started_at", NowSeconds()}};
    if (unpair) intent["unpair"] = true;
    if (also_ != nullptr) {
      intent["also"] = {{"name", std::string(also_->ErasableName())},
                        {"records", also_count}};
    }
    WARDEN_ASSIGN_OR_RETURN(body, Dump(intent));
    WARDEN_TRY(db_->Exec("UPDATE kinds SET epoch = epoch + 1"));
    WARDEN_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("INSERT OR REPLACE INTO deletion(id, state, "
                             "body) VALUES(1, 'pending', ?1)"));
    return s.Bind(1, body).Run();
  }));
  return FinishDeletion(body);
}

Result<std::optional<DeletionResult>> DataStore::ResumeDeletion() {
  WARDEN_ASSIGN_OR_RETURN(
      auto s,
      db_->Prepare("SELECT body FROM deletion WHERE state = 'pending'"));
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<DeletionResult>();
  const std::string body = s.Text(0);
  s.Reset();
  WARDEN_ASSIGN_OR_RETURN(DeletionResult r, FinishDeletion(body));
  return std::optional<DeletionResult>(std::move(r));
}

Result<DeletionResult> DataStore::FinishDeletion(
    const std::string& intent_json) {
  WARDEN_ASSIGN_OR_RETURN(Intent in, ParseIntent(intent_json));
  // Crypto-erase first: once the keys are gone, nothing left of a row
  // anywhere opens, whatever the later steps manage.
  keys_.clear();
  for (const auto& name : in.keys) {
    Status st = keystore_.Destroy(name);
    if (!st.ok() && st.code() != Code::kNotFound) return st;
  }
  if (in.also) {
    if (also_ == nullptr || also_->ErasableName() != in.also->name) {
      return FailedPreconditionError("the pending deletion also erases " +
                                     in.also->name +
                                     ", and that store was not given");
    }
    WARDEN_TRY(also_->Erase());
  }
  WARDEN_TRY(db_->InTransaction([&]() -> Status {
    for (size_t i = 0; i < in.result.kinds.size(); ++i) {
      const std::string& kind = in.result.kinds[i].name;
      WARDEN_ASSIGN_OR_RETURN(
          auto s, db_->Prepare("DELETE FROM records WHERE kind = ?1 AND "
                               "epoch < ?2"));
      WARDEN_TRY(s.Bind(1, kind).Bind(2, in.new_epochs[i]).Run());
      WARDEN_ASSIGN_OR_RETURN(
          auto count,
          db_->Prepare("UPDATE kinds SET records = (SELECT COUNT(*) FROM "
                       "records WHERE kind = ?1) WHERE name = ?1"));
      WARDEN_TRY(count.Bind(1, kind).Run());
    }
    return Status::Ok();
  }));
  WARDEN_TRY(db_->CheckpointAndVacuum());
  // The unpairing is part of the same intent: until it has run, the
  // intent stays, and a restart runs it again.
  if (in.unpair) {
    if (!unpair_) {
      return FailedPreconditionError(
          "the pending deletion also unpairs the device, and no way to do "
          "that was given");
    }
    WARDEN_TRY(unpair_());
    in.result.unpaired = true;
  }
  if (in.also) in.result.kinds.push_back(*in.also);
  in.result.completed_at = NowSeconds();
  in.result.keys_destroyed = static_cast<int64_t>(in.keys.size());
  WARDEN_ASSIGN_OR_RETURN(std::string done, Dump(ResultJson(in.result)));
  WARDEN_TRY(db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("UPDATE deletion SET state = 'done', body = ?1, "
                             "receipt = NULL WHERE id = 1"));
    return s.Bind(1, done).Run();
  }));
  WARDEN_TRY(db_->CheckpointWal());
  return in.result;
}

}  // namespace warden::data
