// Test-only: what the data store's and the event log's tests do past the
// stores' own API: open a file keystore in a scratch directory, read every
// byte the stores left on disk, read or change the SQLite file directly,
// and list the keystore items a store made. Shared by the unit and crash
// tests, so that each looks at the files the same way.
#ifndef WARDEN_DATA_TESTING_STORE_FILES_H_
#define WARDEN_DATA_TESTING_STORE_FILES_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "keystore/keystore.h"
#include "platform/env.h"

namespace warden::data::testing {

// A keystore in `root`/keystore on the file backend, its KEK in `root`/kek
// (made at the first open).
Result<std::unique_ptr<keystore::Keystore>> OpenFileKeystore(
    platform::Env& env, const std::string& root);

// The whole content of `path`; empty when it cannot be read.
std::string ReadWholeFile(const std::string& path);

// Every regular file under `root`, as (path, content).
std::vector<std::pair<std::string, std::string>> FilesUnder(
    const std::string& root);

// The first column of every row `sql` returns, read from the SQLite file
// at `db_path` past the store (read-only); a failure is a test failure.
std::vector<std::string> BlobColumn(const std::string& db_path,
                                    const std::string& sql);

// Runs `sql` on the SQLite file at `db_path` past the store; a failure is
// a test failure.
void RawSql(const std::string& db_path, const std::string& sql);

// The names of the keystore's items that start with `prefix`.
std::vector<std::string> ItemsNamed(keystore::Keystore& keystore,
                                    std::string_view prefix);

}  // namespace warden::data::testing

#endif  // WARDEN_DATA_TESTING_STORE_FILES_H_
