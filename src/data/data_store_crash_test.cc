// The personal-data store at every fault point: a deletion, and writes
// (the first of a kind, which makes its key, and a later one). After a
// restart and ResumeDeletion, a deletion has left no record that opens,
// no data key and no sealed byte in any file; a failed write has lost
// nothing written before it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "data/data_store.h"
#include "data/testing/store_files.h"
#include "platform/crash_testing.h"

namespace warden::data {
namespace {

namespace fs = std::filesystem;
using platform::Env;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;

struct Stores {
  std::unique_ptr<keystore::Keystore> keystore;
  std::unique_ptr<DataStore> data;
};

FakeClock& TestClock() {
  static FakeClock clock;
  return clock;
}

Result<Stores> OpenStores(Env& env, const std::string& root) {
  Stores s;
  WARDEN_ASSIGN_OR_RETURN(s.keystore, testing::OpenFileKeystore(env, root));
  WARDEN_ASSIGN_OR_RETURN(s.data, DataStore::Open(env, root + "/data.db",
                                                  *s.keystore, TestClock()));
  return s;
}

KindDeclaration Kind(const std::string& name) {
  return {name, Category::kUsage, "what the test keeps", 3600, false};
}

std::string Value(int i) {
  return "recognisable personal record " + std::to_string(i) + " " +
         std::string(300, 'p');
}

std::vector<std::string> DataKeys(keystore::Keystore& ks) {
  return testing::ItemsNamed(ks, "data-");
}

// What setup wrote, for the checks of every run.
struct Written {
  std::vector<std::string> sealed_fragments;  // of every row and key blob
  std::vector<int64_t> ids;
};

// The first 24 bytes of every data key's blob and of every record as
// sealed in the database: none may be left in any file after a deletion.
void CollectFragments(const std::string& root, Written& w) {
  for (const auto& e : fs::directory_iterator(root + "/keystore")) {
    if (!e.path().filename().string().starts_with("data-")) continue;
    w.sealed_fragments.push_back(
        testing::ReadWholeFile(e.path().string()).substr(0, 24));
  }
  for (const std::string& sealed :
       testing::BlobColumn(root + "/data.db", "SELECT sealed FROM records")) {
    w.sealed_fragments.push_back(sealed.substr(0, 24));
  }
}

void ExpectNoFragment(const std::string& root, const Written& w) {
  for (const auto& [path, content] : testing::FilesUnder(root)) {
    for (const auto& f : w.sealed_fragments) {
      EXPECT_EQ(content.find(f), std::string::npos)
          << "a deleted byte survives in " << path;
    }
  }
}

TEST(DataStoreCrashTest, DeletingEverything) {
  auto written = std::make_shared<Written>();
  auto report = RunCrashTest(CrashTest{
      .setup =
          [written](const std::string& root) {
            auto s = OpenStores(platform::DefaultEnv(), root);
            ASSERT_TRUE(s.ok()) << s.status().ToString();
            ASSERT_TRUE(s->data->Declare(Kind("schedule")).ok());
            ASSERT_TRUE(s->data->Declare(Kind("history")).ok());
            written->ids.clear();
            for (int i = 0; i < 12; ++i) {
              auto id = s->data->Write(i % 3 ? "history" : "schedule",
                                       AsBytes(Value(i)));
              ASSERT_TRUE(id.ok()) << id.status().ToString();
              written->ids.push_back(*id);
            }
            s->data.reset();
            s->keystore.reset();
            written->sealed_fragments.clear();
            CollectFragments(root, *written);
            ASSERT_EQ(written->sealed_fragments.size(), 14u);
          },
      .workload = [](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(Stores s, OpenStores(env, root));
        return s.data->DeleteAll("device button").status();
      },
      .check =
          [written](Env& env, const std::string& root, bool acknowledged) {
            auto s = OpenStores(env, root);
            ASSERT_TRUE(s.ok()) << s.status().ToString();
            auto pending = s->data->DeletionPending();
            ASSERT_TRUE(pending.ok());
            if (acknowledged) {
              EXPECT_FALSE(*pending);
            }
            auto resumed = s->data->ResumeDeletion();
            ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
            auto last = s->data->LastDeletion();
            ASSERT_TRUE(last.ok());
            const bool deleted = last->has_value();
            if (acknowledged || *pending) {
              ASSERT_TRUE(deleted);
            }
            if (!deleted) {
              // Not begun: everything is still there and opens.
              for (int64_t id : written->ids) {
                EXPECT_TRUE(s->data->Read("schedule", id).ok() ||
                            s->data->Read("history", id).ok())
                    << "record " << id << " is lost before any deletion";
              }
              return;
            }
            EXPECT_EQ((*last)->requested_by, "device button");
            EXPECT_EQ((*last)->kinds, (std::vector<DeletionResult::Kind>{
                                          {"history", 8}, {"schedule", 4}}));
            for (int64_t id : written->ids) {
              EXPECT_FALSE(s->data->Read("schedule", id).ok());
              EXPECT_FALSE(s->data->Read("history", id).ok());
            }
            EXPECT_TRUE(DataKeys(*s->keystore).empty());
            auto kinds = s->data->Kinds();
            ASSERT_TRUE(kinds.ok());
            for (const auto& k : *kinds) EXPECT_EQ(k.records, 0);
            // As the running device holds them, then closed.
            ExpectNoFragment(root, *written);
            s->data.reset();
            s->keystore.reset();
            ExpectNoFragment(root, *written);
          },
  });
  EXPECT_GT(report.power_cuts, 10);
}

TEST(DataStoreCrashTest, AFailedWriteLosesNothing) {
  auto report = RunCrashTest(CrashTest{
      .setup =
          [](const std::string& root) {
            auto s = OpenStores(platform::DefaultEnv(), root);
            ASSERT_TRUE(s.ok()) << s.status().ToString();
            ASSERT_TRUE(s->data->Declare(Kind("schedule")).ok());
            ASSERT_TRUE(s->data->Declare(Kind("history")).ok());
            for (int i = 0; i < 3; ++i) {
              ASSERT_TRUE(s->data->Write("schedule", AsBytes(Value(i))).ok());
            }
          },
      .workload = [](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(Stores s, OpenStores(env, root));
        // The first record of a kind makes its key; the second uses one.
        WARDEN_TRY(s.data->Write("history", AsBytes(Value(100))).status());
        return s.data->Write("schedule", AsBytes(Value(3))).status();
      },
      .check =
          [](Env& env, const std::string& root, bool acknowledged) {
            auto s = OpenStores(env, root);
            ASSERT_TRUE(s.ok()) << s.status().ToString();
            auto schedule = s->data->List("schedule", 0, 100);
            ASSERT_TRUE(schedule.ok()) << schedule.status().ToString();
            ASSERT_GE(schedule->size(), 3u);
            for (int i = 0; i < 3; ++i) {
              EXPECT_EQ(ToString((*schedule)[i].value), Value(i));
            }
            auto history = s->data->List("history", 0, 100);
            ASSERT_TRUE(history.ok()) << history.status().ToString();
            // Records an earlier check of the same state wrote are "later".
            size_t new_history = 0;
            for (const auto& r : *history) {
              if (ToString(r.value) == Value(100)) ++new_history;
            }
            EXPECT_LE(new_history, 1u);
            EXPECT_LE(schedule->size(), 4u);
            if (acknowledged) {
              ASSERT_EQ(schedule->size(), 4u);
              EXPECT_EQ(ToString((*schedule)[3].value), Value(3));
              EXPECT_EQ(new_history, 1u);
            }
            auto kinds = s->data->Kinds();
            ASSERT_TRUE(kinds.ok());
            EXPECT_EQ((*kinds)[0].records,
                      static_cast<int64_t>(history->size()));
            EXPECT_EQ((*kinds)[1].records,
                      static_cast<int64_t>(schedule->size()));
            // The store still takes writes after whatever happened.
            EXPECT_TRUE(s->data->Write("history", AsBytes("later")).ok());
          },
  });
  EXPECT_GT(report.power_cuts, 5);
}

}  // namespace
}  // namespace warden::data
