#include "data/data_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "data/testing/store_files.h"

namespace warden::data {
namespace {

namespace fs = std::filesystem;

KindDeclaration Schedule() {
  return {"schedule", Category::kUsage, "heating times the owner set",
          30 * 24 * 3600, false};
}
KindDeclaration History() {
  return {"temperature_history", Category::kSensor,
          "room temperature over the last day", 24 * 3600, true};
}

// Everything under one directory: the keystore, its KEK and the data store.
class DataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("data_test." + std::to_string(getpid()) + "." +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    keystore_.reset();
    fs::remove_all(root_);
  }

  void Close() {
    store_.reset();
    keystore_.reset();
  }
  void Reopen() {
    Close();
    auto ks = testing::OpenFileKeystore(platform::DefaultEnv(), root_);
    ASSERT_TRUE(ks.ok()) << ks.status().ToString();
    keystore_ = std::move(*ks);
    auto store =
        DataStore::Open(platform::DefaultEnv(), DbPath(), *keystore_, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  std::string DbPath() const { return root_ / "data.db"; }

  int64_t MustWrite(const std::string& kind, const std::string& value) {
    auto id = store_->Write(kind, AsBytes(value));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : -1;
  }

  // Every file under the root, concatenated with its name.
  std::vector<std::pair<std::string, std::string>> Files() const {
    return testing::FilesUnder(root_);
  }

  // The sealed column of every record, read past the store.
  std::vector<std::string> SealedRows() {
    return testing::BlobColumn(DbPath(), "SELECT sealed FROM records");
  }

  void RawSql(const std::string& sql) { testing::RawSql(DbPath(), sql); }

  std::vector<std::string> DataKeys() {
    return testing::ItemsNamed(*keystore_, "data-");
  }

  fs::path root_;
  FakeClock clock_;
  std::unique_ptr<keystore::Keystore> keystore_;
  std::unique_ptr<DataStore> store_;
};

TEST_F(DataStoreTest, BadDeclarationsAreRefusedAndNothingIsDeclared) {
  std::vector<KindDeclaration> bad;
  for (std::string name :
       std::vector<std::string>{"", "Schedule", "has-dash", "a b",
                                std::string(kMaxKindNameSize + 1, 'a')}) {
    auto k = Schedule();
    k.name = name;
    bad.push_back(k);
  }
  auto k = Schedule();
  k.purpose = "";
  bad.push_back(k);
  k.purpose = std::string(kMaxPurposeSize + 1, 'p');
  bad.push_back(k);
  k.purpose = "two\nlines";
  bad.push_back(k);
  k.purpose = "bad \xff utf-8";
  bad.push_back(k);
  k = Schedule();
  k.retention_seconds = 0;
  bad.push_back(k);
  k.retention_seconds = kMaxRetentionSeconds + 1;
  bad.push_back(k);
  for (const auto& b : bad) {
    EXPECT_EQ(store_->Declare(b).code(), Code::kInvalidArgument)
        << b.name << " / " << b.purpose;
  }
  auto kinds = store_->Kinds();
  ASSERT_TRUE(kinds.ok());
  EXPECT_TRUE(kinds->empty());
}

TEST_F(DataStoreTest, TheNumberOfKindsIsBounded) {
  for (size_t i = 0; i < kMaxKinds; ++i) {
    auto k = Schedule();
    k.name = "kind" + std::to_string(i);
    ASSERT_TRUE(store_->Declare(k).ok());
  }
  auto k = Schedule();
  k.name = "one_more";
  EXPECT_EQ(store_->Declare(k).code(), Code::kResourceExhausted);
  // Declaring a kind again replaces it and is not one more.
  k.name = "kind0";
  k.purpose = "changed";
  ASSERT_TRUE(store_->Declare(k).ok());
  auto kinds = store_->Kinds();
  ASSERT_TRUE(kinds.ok());
  EXPECT_EQ(kinds->size(), kMaxKinds);
  EXPECT_EQ(kinds->front().declaration, k);
}

TEST_F(DataStoreTest, RecordsRoundTripAcrossARestartAndAreSealedAtRest) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());
  const int64_t a = MustWrite("schedule", "weekdays 06:30 21C");
  const int64_t b = MustWrite("schedule", "weekends 08:00 20C");
  Reopen();
  auto ra = store_->Read("schedule", a);
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  EXPECT_EQ(ToString(ra->value), "weekdays 06:30 21C");
  auto all = store_->List("schedule", 0, 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].id, b);
  Close();
  for (const auto& [name, content] : Files()) {
    EXPECT_EQ(content.find("weekdays 06:30"), std::string::npos) << name;
  }
}

TEST_F(DataStoreTest, ARecordMovedToAnotherIdOrKindDoesNotOpen) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());
  ASSERT_TRUE(store_->Declare(History()).ok());
  const int64_t a = MustWrite("schedule", "first");
  const int64_t b = MustWrite("schedule", "second");
  Close();
  RawSql("UPDATE records SET sealed = (SELECT sealed FROM records WHERE id = " +
         std::to_string(a) + ") WHERE id = " + std::to_string(b));
  Reopen();
  EXPECT_EQ(store_->Read("schedule", b).status().code(), Code::kIntegrity);
  ASSERT_TRUE(store_->Read("schedule", a).ok());
  // The same row relabelled as another kind with the same epoch.
  Close();
  RawSql("UPDATE records SET kind = 'temperature_history' WHERE id = " +
         std::to_string(a));
  Reopen();
  MustWrite("temperature_history", "makes the kind's key");
  EXPECT_EQ(store_->Read("temperature_history", a).status().code(),
            Code::kIntegrity);
}

TEST_F(DataStoreTest, ARecordTooLargeIsRefusedAndChangesNothing) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());
  MustWrite("schedule", "kept");
  Bytes big(kMaxRecordSize + 1, 'x');
  EXPECT_EQ(store_->Write("schedule", big).status().code(),
            Code::kInvalidArgument);
  Bytes largest(kMaxRecordSize, 'x');
  EXPECT_TRUE(store_->Write("schedule", largest).ok());
  EXPECT_EQ(store_->Write("undeclared", AsBytes("x")).status().code(),
            Code::kNotFound);
  auto kinds = store_->Kinds();
  ASSERT_TRUE(kinds.ok());
  EXPECT_EQ(kinds->front().records, 2);
}

TEST_F(DataStoreTest, RecordsPastTheirRetentionAreSwept) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());  // 30 days
  ASSERT_TRUE(store_->Declare(History()).ok());   // 1 day
  const int64_t old_reading = MustWrite("temperature_history", "19.5");
  const int64_t schedule = MustWrite("schedule", "06:30");
  clock_.Advance(std::chrono::hours(12));
  const int64_t new_reading = MustWrite("temperature_history", "20.5");
  clock_.Advance(std::chrono::hours(13));
  auto swept = store_->Sweep(clock_.Now());
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(*swept, 1);
  EXPECT_EQ(store_->Read("temperature_history", old_reading).status().code(),
            Code::kNotFound);
  EXPECT_TRUE(store_->Read("temperature_history", new_reading).ok());
  EXPECT_TRUE(store_->Read("schedule", schedule).ok());
  auto kinds = store_->Kinds();
  ASSERT_TRUE(kinds.ok());
  EXPECT_EQ((*kinds)[1].records, 1);
}

TEST_F(DataStoreTest, TheExportHoldsEveryKindAndGivesBackTheExactBytes) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());
  ASSERT_TRUE(store_->Declare(History()).ok());
  const std::string text = "lundi 06:30 \xc3\xa9t\xc3\xa9 \"21C\"\n";
  const Bytes binary = {0x00, 0xff, 0xc3, 0x28, 0x01};
  MustWrite("schedule", text);
  ASSERT_TRUE(store_->Write("temperature_history", binary).ok());
  auto exported = store_->Export();
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  auto j = nlohmann::json::parse(*exported);
  ASSERT_EQ(j["kinds"].size(), 2u);
  for (const auto& k : j["kinds"]) {
    const auto& decl = k["name"] == "schedule" ? Schedule() : History();
    EXPECT_EQ(k["category"], std::string(CategoryName(decl.category)));
    EXPECT_EQ(k["purpose"], decl.purpose);
    EXPECT_EQ(k["retention_seconds"], decl.retention_seconds);
    EXPECT_EQ(k["may_leave_device"], decl.may_leave_device);
    ASSERT_EQ(k["records"].size(), 1u);
    const auto& r = k["records"][0];
    if (k["name"] == "schedule") {
      EXPECT_EQ(r["text"].get<std::string>(), text);
    } else {
      auto back = Base64Decode(r["base64"].get<std::string>());
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(*back, binary);
    }
  }
}

TEST_F(DataStoreTest, DeletionDestroysTheKeysAndLeavesNoSealedByteOnDisk) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());
  ASSERT_TRUE(store_->Declare(History()).ok());
  std::vector<int64_t> ids;
  for (int i = 0; i < 50; ++i) {
    ids.push_back(MustWrite("schedule", "slot " + std::to_string(i) + " " +
                                            std::string(2000, 's')));
  }
  MustWrite("temperature_history", "21.0");
  EXPECT_EQ(DataKeys(), (std::vector<std::string>{
                            "data-schedule-1", "data-temperature_history-1"}));
  const std::string key_blob = [&] {
    std::ifstream in(root_ / "keystore" / "data-schedule-1.cur",
                     std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  ASSERT_GT(key_blob.size(), 32u);
  Close();
  const auto sealed = SealedRows();
  ASSERT_EQ(sealed.size(), 51u);
  const auto size_before = fs::file_size(DbPath());
  Reopen();

  clock_.Advance(std::chrono::seconds(5));
  auto result = store_->DeleteAll("device button");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->requested_by, "device button");
  EXPECT_EQ(result->kinds, (std::vector<DeletionResult::Kind>{
                               {"schedule", 50}, {"temperature_history", 1}}));
  EXPECT_EQ(result->keys_destroyed, 2);
  EXPECT_TRUE(DataKeys().empty());
  for (int64_t id : ids) {
    EXPECT_EQ(store_->Read("schedule", id).status().code(), Code::kNotFound);
  }
  auto last = store_->LastDeletion();
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ(**last, *result);
  // The pages the records filled are gone from the file, not kept free.
  EXPECT_LT(fs::file_size(DbPath()), size_before / 4);

  // Not one sealed row, nor the key's blob, is left in any file: not in the
  // database, its WAL, free pages or the keystore; while the store is open,
  // as on a running device, and after it closed.
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) Close();
    for (const auto& [name, content] : Files()) {
      for (const auto& row : sealed) {
        ASSERT_EQ(content.find(row.substr(0, 24)), std::string::npos)
            << "a sealed record survives in " << name;
      }
      EXPECT_EQ(content.find(key_blob.substr(0, 32)), std::string::npos)
          << "the data key's blob survives in " << name;
    }
  }
}

TEST_F(DataStoreTest, WritesAfterADeletionUseAFreshKey) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());
  const int64_t before = MustWrite("schedule", "before");
  ASSERT_TRUE(store_->DeleteAll("owner").ok());
  const int64_t after = MustWrite("schedule", "after");
  EXPECT_GT(after, before);
  EXPECT_EQ(DataKeys(), std::vector<std::string>{"data-schedule-2"});
  auto r = store_->Read("schedule", after);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ToString(r->value), "after");
  // A copy of the old row put back (say, from a backup) has no key.
  Close();
  RawSql("INSERT INTO records(id, kind, epoch, created_at, sealed) VALUES(" +
         std::to_string(before) +
         ", 'schedule', 1, 0, x'00112233445566778899"
         "aabbccddeeff00112233445566778899aabbccdd')");
  Reopen();
  EXPECT_EQ(store_->Read("schedule", before).status().code(), Code::kIntegrity);
}

TEST_F(DataStoreTest, AnInterruptedDeletionIsPendingUntilResumed) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());
  MustWrite("schedule", "a");
  MustWrite("schedule", "b");
  // A deletion that stopped right after its intent: the keys are still
  // there, the rows too.
  Close();
  RawSql(
      "UPDATE kinds SET epoch = 2;"
      "INSERT INTO deletion(id, state, body) VALUES(1, 'pending', "
      "'{\"kinds\":[{\"name\":\"schedule\",\"records\":2,\"epoch\":2}],"
      "\"keys\":[\"data-schedule-1\"],\"requested_by\":\"owner\","
      "\"started_at\":7}')");
  Reopen();
  EXPECT_TRUE(*store_->DeletionPending());
  EXPECT_EQ(store_->DeleteAll("owner").status().code(),
            Code::kFailedPrecondition);
  auto resumed = store_->ResumeDeletion();
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  ASSERT_TRUE(resumed->has_value());
  EXPECT_EQ((*resumed)->started_at, 7);
  EXPECT_EQ((*resumed)->kinds,
            (std::vector<DeletionResult::Kind>{{"schedule", 2}}));
  EXPECT_FALSE(*store_->DeletionPending());
  EXPECT_TRUE(DataKeys().empty());
  auto left = store_->List("schedule", 0, 10);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  auto again = store_->ResumeDeletion();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_F(DataStoreTest, ATransferUnpairsInTheSameIntentAndResumesBoth) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());
  MustWrite("schedule", "06:30 21.0");
  // Without a way to unpair, a transfer is refused and nothing changes.
  EXPECT_EQ(store_->DeleteAll("owner", true).status().code(),
            Code::kFailedPrecondition);
  EXPECT_FALSE(*store_->DeletionPending());

  // The unpairing fails the first time (a power cut in it): the intent
  // stays, for both.
  int unpaired = 0;
  bool fail = true;
  store_->SetUnpair([&]() -> Status {
    if (fail) return UnavailableError("power cut");
    ++unpaired;
    return Status::Ok();
  });
  EXPECT_FALSE(store_->DeleteAll("owner", true).ok());
  EXPECT_TRUE(*store_->DeletionPending());
  EXPECT_EQ(unpaired, 0);

  Reopen();
  fail = false;
  // A store opened afresh is told again how to unpair, as wardend does
  // before it resumes.
  auto no_unpair = store_->ResumeDeletion();
  EXPECT_EQ(no_unpair.status().code(), Code::kFailedPrecondition);
  store_->SetUnpair([&]() -> Status {
    ++unpaired;
    return Status::Ok();
  });
  auto resumed = store_->ResumeDeletion();
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  ASSERT_TRUE(resumed->has_value());
  EXPECT_TRUE((*resumed)->unpaired);
  EXPECT_EQ((*resumed)->requested_by, "owner");
  EXPECT_EQ(unpaired, 1);
  EXPECT_FALSE(*store_->DeletionPending());
  EXPECT_TRUE((*store_->LastDeletion())->unpaired);
  EXPECT_TRUE(store_->List("schedule", 0, 10)->empty());

  // A deletion without a transfer does not unpair.
  auto plain = store_->DeleteAll("owner");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->unpaired);
  EXPECT_EQ(unpaired, 1);
}

TEST_F(DataStoreTest, TheLastReceiptsAreKeptNewestFirstAndTheOldestDropped) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());
  EXPECT_EQ(store_->KeepReceipt("{}").code(), Code::kFailedPrecondition);
  EXPECT_TRUE(store_->Receipts()->empty());
  const int kept = static_cast<int>(kMaxReceiptsKept);
  for (int i = 0; i < kept + 4; ++i) {
    MustWrite("schedule", "06:30 21.0");
    ASSERT_TRUE(store_->DeleteAll("owner").ok());
    ASSERT_TRUE(store_->KeepReceipt("receipt " + std::to_string(i)).ok());
  }
  Reopen();
  auto receipts = store_->Receipts();
  ASSERT_TRUE(receipts.ok()) << receipts.status().ToString();
  ASSERT_EQ(receipts->size(), kMaxReceiptsKept);
  EXPECT_EQ(receipts->front(), "receipt " + std::to_string(kept + 3));
  EXPECT_EQ(receipts->back(), "receipt 4");
  EXPECT_EQ(**store_->LastReceipt(), "receipt " + std::to_string(kept + 3));
  // The dropped ones are gone from the file, not only from the answer.
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(
      sqlite3_open_v2(DbPath().c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
      SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM receipts", -1, &st, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0), kept);
  sqlite3_finalize(st);
  sqlite3_close(db);
  // A receipt larger than any signed one is refused.
  Reopen();
  EXPECT_EQ(
      store_->KeepReceipt(std::string(kMaxKeptReceiptSize + 1, 'x')).code(),
      Code::kInvalidArgument);
  EXPECT_EQ(store_->Receipts()->size(), kMaxReceiptsKept);
}

TEST_F(DataStoreTest, AReceiptKeptBeforeTheHistoryExistedIsInIt) {
  ASSERT_TRUE(store_->Declare(Schedule()).ok());
  ASSERT_TRUE(store_->DeleteAll("owner").ok());
  ASSERT_TRUE(store_->KeepReceipt("the old receipt").ok());
  Close();
  // Back to schema version 1 (only the last receipt, in the deletion row),
  // as a store written by the previous build.
  RawSql(
      "DROP TABLE receipts; DELETE FROM schema_migrations WHERE version = 2; "
      "PRAGMA user_version = 1;");
  Reopen();
  auto receipts = store_->Receipts();
  ASSERT_TRUE(receipts.ok()) << receipts.status().ToString();
  ASSERT_EQ(*receipts, std::vector<std::string>{"the old receipt"});
}

}  // namespace
}  // namespace warden::data
