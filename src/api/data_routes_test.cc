#include "api/data_routes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "data/event_log.h"
#include "events/catalog.h"
#include "keystore/file_backend.h"

namespace warden::api {
namespace {

namespace fs = std::filesystem;

// The owner reads the whole event log page by page: every entry once, in
// order, each page within its byte bound, and the last page says so.
TEST(EventLogPageTest, PagesCoverEveryEntryOnceWithinTheirBound) {
  const fs::path root = fs::temp_directory_path() /
                        ("data_routes_test." + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  {
    keystore::FileBackendOptions options;
    options.kek_path = root / "kek";
    auto backend = keystore::FileBackend::Open(platform::DefaultEnv(), options);
    ASSERT_TRUE(backend.ok());
    auto ks = keystore::Keystore::Open(platform::DefaultEnv(), root / "ks",
                                       std::move(*backend));
    ASSERT_TRUE(ks.ok());
    auto log = data::EventLog::Open(platform::DefaultEnv(), root / "events.db",
                                    **ks, {});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < 40; ++i) {
      events::Event e(events::kAppOutput);
      e.Personal("line", std::string(900, 'a' + i % 26)).Int("n", i);
      ASSERT_TRUE((*log)->Append(e, nullptr).ok());
    }
    constexpr size_t kBound = 8 * 1024;
    std::vector<int64_t> seen;
    int64_t after = 0;
    int pages = 0;
    while (true) {
      auto page = EventLogPage(**log, after, kBound);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      ++pages;
      ASSERT_LT(pages, 100);
      EXPECT_LE((*page)["entries"].dump().size(), kBound);
      for (const auto& e : (*page)["entries"]) {
        seen.push_back(e["id"].get<int64_t>());
      }
      if ((*page)["next"].is_null()) break;
      ASSERT_GT((*page)["next"].get<int64_t>(), after);
      after = (*page)["next"].get<int64_t>();
    }
    EXPECT_GT(pages, 4);
    ASSERT_EQ(seen.size(), 40u);
    for (size_t i = 1; i < seen.size(); ++i)
      EXPECT_EQ(seen[i], seen[i - 1] + 1);
    // A page asked for past the end is empty and the last.
    auto past = EventLogPage(**log, seen.back());
    ASSERT_TRUE(past.ok());
    EXPECT_TRUE((*past)["entries"].empty());
    EXPECT_TRUE((*past)["next"].is_null());
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace warden::api
