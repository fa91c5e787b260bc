// The event log at every fault point of a deletion that erases it with the
// app's records: after a restart and ResumeDeletion, a deletion that began
// has left no entry that opens, no key of the log and no sealed byte of it
// in any file; one that did not begin has lost nothing.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "data/data_store.h"
#include "data/event_log.h"
#include "data/testing/store_files.h"
#include "events/catalog.h"
#include "keystore/file_backend.h"
#include "platform/crash_testing.h"

namespace warden::data {
namespace {

namespace fs = std::filesystem;
using platform::Env;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;

constexpr int kEntries = 12;

struct Stores {
  std::unique_ptr<keystore::Keystore> keystore;
  std::unique_ptr<EventLog> log;
  std::unique_ptr<DataStore> data;
};

FakeClock& TestClock() {
  static FakeClock clock;
  return clock;
}

Result<Stores> OpenStores(Env& env, const std::string& root) {
  Stores s;
  WARDEN_ASSIGN_OR_RETURN(s.keystore, testing::OpenFileKeystore(env, root));
  WARDEN_ASSIGN_OR_RETURN(
      s.log, EventLog::Open(env, root + "/events.db", *s.keystore, {}));
  WARDEN_ASSIGN_OR_RETURN(s.data, DataStore::Open(env, root + "/data.db",
                                                  *s.keystore, TestClock()));
  s.data->AlsoErase(s.log.get());
  return s;
}

// The first 24 bytes of the log's key blob and of every sealed entry.
std::vector<std::string> Fragments(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(root + "/keystore")) {
    if (!e.path().filename().string().starts_with("events-")) continue;
    out.push_back(testing::ReadWholeFile(e.path().string()).substr(0, 24));
  }
  for (const std::string& sealed :
       testing::BlobColumn(root + "/events.db", "SELECT sealed FROM entries")) {
    out.push_back(sealed.substr(0, 24));
  }
  return out;
}

TEST(EventLogCrashTest, DeletingEverythingErasesTheLog) {
  auto fragments = std::make_shared<std::vector<std::string>>();
  auto report = RunCrashTest(CrashTest{
      .setup =
          [fragments](const std::string& root) {
            auto s = OpenStores(platform::DefaultEnv(), root);
            ASSERT_TRUE(s.ok()) << s.status().ToString();
            for (int i = 0; i < kEntries; ++i) {
              events::Event e(events::kLoginFailed);
              e.Personal("peer", "127.0.0.9" + std::to_string(i))
                  .Int("failures", i);
              ASSERT_TRUE(s->log->Append(e, nullptr).ok());
            }
            s = Stores{};
            *fragments = Fragments(root);
            ASSERT_EQ(fragments->size(), kEntries + 1u);
          },
      .workload = [](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(Stores s, OpenStores(env, root));
        return s.data->DeleteAll("device button").status();
      },
      .check =
          [fragments](Env& env, const std::string& root, bool acknowledged) {
            auto s = OpenStores(env, root);
            ASSERT_TRUE(s.ok()) << s.status().ToString();
            auto resumed = s->data->ResumeDeletion();
            ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
            auto last = s->data->LastDeletion();
            ASSERT_TRUE(last.ok());
            const bool deleted = last->has_value();
            if (acknowledged) {
              ASSERT_TRUE(deleted);
            }
            auto entries = s->log->List(0, kMaxEventListSize);
            ASSERT_TRUE(entries.ok()) << entries.status().ToString();
            if (!deleted) {
              EXPECT_EQ(entries->size(), static_cast<size_t>(kEntries))
                  << "events are lost before any deletion";
              return;
            }
            EXPECT_EQ((*last)->kinds,
                      (std::vector<DeletionResult::Kind>{
                          {std::string(kEventLogName), kEntries}}));
            EXPECT_TRUE(entries->empty());
            auto items = s->keystore->List();
            ASSERT_TRUE(items.ok());
            for (const auto& item : *items) {
              EXPECT_FALSE(item.name.starts_with("events-")) << item.name;
            }
            for (int pass = 0; pass < 2; ++pass) {
              if (pass == 1) s = Stores{};
              for (const auto& [path, content] : testing::FilesUnder(root)) {
                for (const auto& f : *fragments) {
                  EXPECT_EQ(content.find(f), std::string::npos)
                      << "an erased byte survives in " << path;
                }
              }
            }
          },
  });
  EXPECT_GT(report.power_cuts, 10);
}

}  // namespace
}  // namespace warden::data
