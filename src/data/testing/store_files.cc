#include "data/testing/store_files.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "keystore/file_backend.h"

namespace warden::data::testing {

namespace fs = std::filesystem;

Result<std::unique_ptr<keystore::Keystore>> OpenFileKeystore(
    platform::Env& env, const std::string& root) {
  keystore::FileBackendOptions options;
  options.kek_path = root + "/kek";
  WARDEN_ASSIGN_OR_RETURN(auto backend,
                          keystore::FileBackend::Open(env, options));
  return keystore::Keystore::Open(env, root + "/keystore", std::move(backend));
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::pair<std::string, std::string>> FilesUnder(
    const std::string& root) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    out.emplace_back(e.path().string(), ReadWholeFile(e.path().string()));
  }
  return out;
}

std::vector<std::string> BlobColumn(const std::string& db_path,
                                    const std::string& sql) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(
      sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
      SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    out.emplace_back(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                     sqlite3_column_bytes(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

void RawSql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
      << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

std::vector<std::string> ItemsNamed(keystore::Keystore& keystore,
                                    std::string_view prefix) {
  std::vector<std::string> out;
  auto items = keystore.List();
  EXPECT_TRUE(items.ok()) << items.status().ToString();
  if (!items.ok()) return out;
  for (const auto& item : *items) {
    if (item.name.starts_with(prefix)) out.push_back(item.name);
  }
  return out;
}

}  // namespace warden::data::testing
