// Helpers shared by the app host tests (test-only: listed in the test
// targets' sources, never in a library).
#ifndef WARDEN_APP_APP_TEST_UTIL_H_
#define WARDEN_APP_APP_TEST_UTIL_H_

#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

// clang-format off
#include <utility>
#include <boost/asio/io_context.hpp>
// clang-format on
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "app/app_host.h"
#include "app/app_user.h"
#include "gtest/gtest.h"
#include "platform/process.h"

namespace warden::app {

// Runs the loop until `done` holds. The limit only keeps a broken build from
// hanging; no assertion depends on how long anything took.
inline bool RunUntil(boost::asio::io_context& io,
                     const std::function<bool()>& done) {
  using namespace std::chrono_literals;
  auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    io.restart();
    io.run_for(5ms);
  }
  return true;
}

inline bool Gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/warden-app-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string CurrentUserName() {
  struct passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr ? pw->pw_name : "";
}

// As root the app runs under its own user, as wardend runs it, and owns
// `state_dir`; the user may be shared, so that another run of these tests
// on the same machine cannot make a test fail (the tests of the refusal
// set allow_shared_user back). Not root: no user switch happens.
inline void AsTestAppUser(AppOptions& options,
                          const std::string& state_dir = "") {
  if (::geteuid() != 0) return;
  Result<platform::UserIds> user = platform::LookupUser(kDefaultAppUser);
  ASSERT_TRUE(user.ok()) << user.status().ToString()
                         << ": run scripts/install-deps.sh as root, which "
                            "creates it";
  options.run_as_user = kDefaultAppUser;
  options.allow_shared_user = true;
  if (!state_dir.empty()) {
    ASSERT_EQ(::chown(state_dir.c_str(), user->uid, user->gid), 0);
  }
}

// Personal data kept in memory, as the daemon's store would keep it; it
// outlives the hosts of one test, as the store outlives app restarts.
class FakeAppData : public AppData {
 public:
  Status Declare(const std::vector<DataKind>& kinds) override {
    for (const auto& k : kinds) {
      if (k.category == "bogus") {
        return InvalidArgumentError(k.name + ": unknown category");
      }
    }
    for (const auto& k : kinds) declared.insert(k.name);
    return Status::Ok();
  }
  Result<int64_t> Write(std::string_view kind,
                        std::string_view value) override {
    int64_t id = ++last_id;
    records[std::string(kind)][id] = Record{id, 1000 + id, std::string(value)};
    return id;
  }
  Result<Record> Read(std::string_view kind, int64_t id) override {
    auto k = records.find(std::string(kind));
    if (k == records.end() || !k->second.contains(id)) {
      return NotFoundError("no such record");
    }
    return k->second[id];
  }
  Result<std::vector<Record>> List(std::string_view kind, int64_t after,
                                   size_t limit) override {
    std::vector<Record> out;
    for (const auto& [id, r] : records[std::string(kind)]) {
      if (id > after && out.size() < limit) out.push_back({id, r.created_at});
    }
    return out;
  }
  Status Erase(std::string_view kind, int64_t id) override {
    if (records[std::string(kind)].erase(id) == 0) {
      return NotFoundError("no such record");
    }
    return Status::Ok();
  }
  Result<std::string> DeleteAll() override {
    records.clear();
    ++deletions;
    return std::string(R"({"receipt":{"requested_by":"device button"}})");
  }

  std::set<std::string> declared;
  std::map<std::string, std::map<int64_t, Record>> records;
  int64_t last_id = 0;
  int deletions = 0;
};

}  // namespace warden::app

#endif  // WARDEN_APP_APP_TEST_UTIL_H_
