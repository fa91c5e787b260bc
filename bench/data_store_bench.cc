// The personal-data store against raw SQLite, in the same run:
//
//   data_store_bench [--dir DIR] [--ops N] [--reads M]
//                    [--records 1000,100000,1000000]
//
// 1. write and read throughput: N records of 200 bytes written one durable
//    transaction each, then M reads (N unless given) one by one by id,
//    going round the N records, through DataStore
//    (AES-256-GCM per record, data key from a file-backend keystore) and
//    through a bare SQLite connection with the same schema and pragmas
//    (WAL, synchronous=FULL, secure_delete) and no encryption; prints both
//    rates and the ratio raw / store.
// 2. deletion: for each count, a kind filled with that many sealed records
//    (inserted in bulk past the store, sealed exactly as Write seals them,
//    since only the deletion is timed), then DataStore::DeleteAll timed.
// One JSON line per figure on stdout.
#include <sqlite3.h>
#include <unistd.h>

#include <fmt/format.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "crypto/aead.h"
#include "data/data_store.h"
#include "keystore/file_backend.h"

using namespace warden;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

[[noreturn]] void Die(const std::string& what, const Status& st) {
  std::fprintf(stderr, "data_store_bench: %s: %s\n", what.c_str(),
               st.ToString().c_str());
  std::exit(1);
}

void Sql(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "data_store_bench: %s: %s\n", sql, err);
    std::exit(1);
  }
}

struct Store {
  std::unique_ptr<keystore::Keystore> keystore;
  std::unique_ptr<data::DataStore> data;
};

Store Open(const std::string& dir) {
  keystore::FileBackendOptions options;
  options.kek_path = dir + "/kek";
  auto backend = keystore::FileBackend::Open(platform::DefaultEnv(), options);
  if (!backend.ok()) Die("kek", backend.status());
  auto ks = keystore::Keystore::Open(platform::DefaultEnv(), dir + "/keystore",
                                     std::move(*backend));
  if (!ks.ok()) Die("keystore", ks.status());
  Store s;
  s.keystore = std::move(*ks);
  auto data = data::DataStore::Open(platform::DefaultEnv(), dir + "/data.db",
                                    *s.keystore, SystemClock());
  if (!data.ok()) Die("data store", data.status());
  s.data = std::move(*data);
  return s;
}

const data::KindDeclaration kKind{"history", data::Category::kSensor,
                                  "temperature readings", 86400, false};

void Throughput(const std::string& root, int ops, int reads) {
  const std::string value(200, 'v');
  // The store.
  const std::string dir = root + "/store";
  fs::create_directories(dir);
  Store s = Open(dir);
  if (Status st = s.data->Declare(kKind); !st.ok()) Die("declare", st);
  std::vector<int64_t> ids;
  auto t = Clock::now();
  for (int i = 0; i < ops; ++i) {
    auto id = s.data->Write("history", AsBytes(value));
    if (!id.ok()) Die("write", id.status());
    ids.push_back(*id);
  }
  const double store_write = ops / Seconds(t);
  t = Clock::now();
  for (int i = 0; i < reads; ++i) {
    auto r = s.data->Read("history", ids[static_cast<size_t>(i % ops)]);
    if (!r.ok()) Die("read", r.status());
  }
  const double store_read = reads / Seconds(t);

  // Raw SQLite, same schema and pragmas, no encryption.
  sqlite3* db = nullptr;
  if (sqlite3_open((root + "/raw.db").c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "data_store_bench: raw open\n");
    std::exit(1);
  }
  Sql(db,
      "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA "
      "synchronous=FULL; PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON;"
      "CREATE TABLE kinds (name TEXT PRIMARY KEY, records INTEGER NOT NULL);"
      "INSERT INTO kinds VALUES('history', 0);"
      "CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT "
      "NOT NULL REFERENCES kinds(name), epoch INTEGER NOT NULL, created_at "
      "INTEGER NOT NULL, sealed BLOB NOT NULL);"
      "CREATE INDEX records_by_age ON records(kind, created_at);");
  sqlite3_stmt* ins = nullptr;
  sqlite3_stmt* count = nullptr;
  sqlite3_stmt* sel = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO records(kind, epoch, created_at, sealed) "
                     "VALUES('history', 1, 0, ?1)",
                     -1, &ins, nullptr);
  sqlite3_prepare_v2(
      db, "UPDATE kinds SET records = records + 1 WHERE name = 'history'", -1,
      &count, nullptr);
  sqlite3_prepare_v2(db, "SELECT sealed FROM records WHERE id = ?1", -1, &sel,
                     nullptr);
  t = Clock::now();
  for (int i = 0; i < ops; ++i) {
    Sql(db, "BEGIN IMMEDIATE");
    sqlite3_bind_blob(ins, 1, value.data(), static_cast<int>(value.size()),
                      SQLITE_STATIC);
    sqlite3_step(ins);
    sqlite3_reset(ins);
    sqlite3_step(count);
    sqlite3_reset(count);
    Sql(db, "COMMIT");
  }
  const double raw_write = ops / Seconds(t);
  t = Clock::now();
  size_t bytes_read = 0;
  for (int i = 0; i < reads; ++i) {
    sqlite3_bind_int64(sel, 1, i % ops + 1);
    if (sqlite3_step(sel) != SQLITE_ROW) {
      std::fprintf(stderr, "data_store_bench: raw read %d\n", i % ops + 1);
      std::exit(1);
    }
    // The value copied out, as the store hands out its own copy.
    const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(sel, 0));
    Bytes copy(blob, blob + sqlite3_column_bytes(sel, 0));
    bytes_read += copy.size();
    sqlite3_reset(sel);
  }
  if (bytes_read != static_cast<size_t>(reads) * value.size()) std::exit(1);
  const double raw_read = reads / Seconds(t);
  sqlite3_finalize(ins);
  sqlite3_finalize(count);
  sqlite3_finalize(sel);
  sqlite3_close(db);
  std::printf("%s\n",
              fmt::format("{{\"figure\": \"data_write\", \"ops\": {}, "
                          "\"store_per_s\": {:.0f}, \"raw_sqlite_per_s\": "
                          "{:.0f}, \"raw_over_store\": {:.2f}}}",
                          ops, store_write, raw_write, raw_write / store_write)
                  .c_str());
  std::printf("%s\n",
              fmt::format("{{\"figure\": \"data_read\", \"ops\": {}, "
                          "\"store_per_s\": {:.0f}, \"raw_sqlite_per_s\": "
                          "{:.0f}, \"raw_over_store\": {:.2f}}}",
                          reads, store_read, raw_read, raw_read / store_read)
                  .c_str());
  std::fflush(stdout);
}

void Deletion(const std::string& root, int64_t records) {
  const std::string dir = root + "/delete-" + std::to_string(records);
  fs::create_directories(dir);
  {
    Store s = Open(dir);
    if (Status st = s.data->Declare(kKind); !st.ok()) Die("declare", st);
    // One record through the store makes the epoch's data key.
    auto first = s.data->Write("history", AsBytes(std::string(200, 'v')));
    if (!first.ok()) Die("write", first.status());
  }
  Bytes key;
  {
    Store s = Open(dir);
    auto k = s.keystore->Unseal(data::DataKeyName("history", 1));
    if (!k.ok()) Die("key", k.status());
    key = k->bytes();
  }
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/data.db").c_str(), &db);
  Sql(db, "BEGIN");
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO records(id, kind, epoch, created_at, "
                     "sealed) VALUES(?1, 'history', 1, ?2, ?3)",
                     -1, &ins, nullptr);
  const Bytes value(200, 'v');
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (int64_t id = 2; id <= records; ++id) {
    auto sealed = crypto::AeadSealRandomNonce(
        SystemRng(), key, data::RecordAad("history", id), value);
    if (!sealed.ok()) Die("seal", sealed.status());
    sqlite3_bind_int64(ins, 1, id);
    sqlite3_bind_int64(ins, 2, now);
    sqlite3_bind_blob(ins, 3, sealed->data(), static_cast<int>(sealed->size()),
                      SQLITE_TRANSIENT);
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  Sql(db, ("UPDATE kinds SET records = " + std::to_string(records) +
           ", keyed = 1 WHERE name = 'history'; COMMIT;")
              .c_str());
  sqlite3_close(db);
  const auto size_before = fs::file_size(dir + "/data.db");

  Store s = Open(dir);
  auto t = Clock::now();
  auto result = s.data->DeleteAll("bench");
  const double seconds = Seconds(t);
  if (!result.ok()) Die("delete", result.status());
  if (result->kinds.at(0).records != records) {
    std::fprintf(stderr, "data_store_bench: deleted %lld of %lld\n",
                 static_cast<long long>(result->kinds.at(0).records),
                 static_cast<long long>(records));
    std::exit(1);
  }
  std::printf("%s\n", fmt::format("{{\"figure\": \"data_delete\", "
                                  "\"records\": {}, \"seconds\": {:.3f}, "
                                  "\"db_bytes_before\": {}, "
                                  "\"db_bytes_after\": {}}}",
                                  records, seconds, size_before,
                                  fs::file_size(dir + "/data.db"))
                          .c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string base = fs::temp_directory_path();
  int ops = 2000;
  int reads = 0;
  std::vector<int64_t> counts = {1000, 100000, 1000000};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dir") {
      base = argv[i + 1];
    } else if (a == "--ops") {
      ops = std::atoi(argv[i + 1]);
    } else if (a == "--reads") {
      reads = std::atoi(argv[i + 1]);
    } else if (a == "--records") {
      counts.clear();
      std::string list = argv[i + 1];
      size_t start = 0;
      while (start < list.size()) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        counts.push_back(std::atoll(list.substr(start, comma - start).c_str()));
        start = comma + 1;
      }
    } else {
      std::fprintf(stderr,
                   "usage: data_store_bench [--dir DIR] [--ops N] "
                   "[--reads M] [--records N,N,...]\n");
      return 2;
    }
  }
  if (ops < 1) ops = 1;
  if (reads < 1) reads = ops;
  const std::string root =
      base + "/warden-data-bench." + std::to_string(::getpid());
  fs::create_directories(root);
  fs::permissions(root, fs::perms::owner_all);
  Throughput(root, ops, reads);
  for (int64_t n : counts) {
    if (n >= 1) Deletion(root, n);
  }
  std::error_code ec;
  fs::remove_all(root, ec);
  return 0;
}
