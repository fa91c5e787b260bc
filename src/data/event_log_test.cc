#include "data/event_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "data/receipt.h"
#include "data/testing/store_files.h"
#include "events/bus.h"
#include "events/catalog.h"

namespace warden::data {
namespace {

namespace fs = std::filesystem;

constexpr char kPeer[] = "127.0.0.77:40404";
constexpr char kOwner[] = "Philippa Quarterbridge";

std::string Pseudonym(std::string_view value) {
  return "~p" + std::to_string(value.size());
}

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("event_log_test." + std::to_string(getpid()) + "." +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    Reopen();
  }
  void TearDown() override {
    Close();
    fs::remove_all(root_);
  }
  void Close() {
    data_.reset();
    log_.reset();
    keystore_.reset();
  }
  void Reopen() {
    Close();
    auto ks = testing::OpenFileKeystore(platform::DefaultEnv(), root_);
    ASSERT_TRUE(ks.ok()) << ks.status().ToString();
    keystore_ = std::move(*ks);
    auto log =
        EventLog::Open(platform::DefaultEnv(), LogPath(), *keystore_, policy_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
    auto data = DataStore::Open(platform::DefaultEnv(), root_ / "data.db",
                                *keystore_, clock_);
    ASSERT_TRUE(data.ok()) << data.status().ToString();
    data_ = std::move(*data);
  }
  std::string LogPath() const { return root_ / "events.db"; }

  // An event as the bus stamps it, with both kinds of personal field.
  events::Event Login(int i) {
    events::Event e(events::kLoginFailed);
    e.Personal("peer", kPeer)
        .Personal("owner", kOwner)
        .Text("reason", "bad password")
        .Int("failures", i)
        .Flag("locked", false);
    e.set_time(clock_.Now());
    return e;
  }
  int64_t MustAppend(const events::Event& e) {
    auto id = log_->Append(e, Pseudonym);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : -1;
  }
  std::vector<EventEntry> All() {
    auto all = log_->List(0, kMaxEventListSize);
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    return all.ok() ? *all : std::vector<EventEntry>{};
  }

  std::vector<std::pair<std::string, std::string>> Files() const {
    return testing::FilesUnder(root_);
  }
  std::vector<std::string> SealedRows() {
    return testing::BlobColumn(LogPath(), "SELECT sealed FROM entries");
  }
  void RawSql(const std::string& sql) { testing::RawSql(LogPath(), sql); }
  std::vector<std::string> LogKeys() {
    return testing::ItemsNamed(*keystore_, "events-");
  }

  fs::path root_;
  FakeClock clock_;
  EventLog::Policy policy_;
  std::unique_ptr<keystore::Keystore> keystore_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<DataStore> data_;
};

TEST_F(EventLogTest, ClearValuesAndPseudonymsComeBackAndAreSealedAtRest) {
  const int64_t id = MustAppend(Login(3));
  Reopen();
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  const EventEntry& e = all[0];
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.kind, "login_failed");
  EXPECT_EQ(e.severity, "warning");
  EXPECT_EQ(e.category, "security");
  EXPECT_EQ(e.time, std::chrono::duration_cast<std::chrono::seconds>(
                        clock_.Now().time_since_epoch())
                        .count());
  using F = EventEntry::Field;
  EXPECT_EQ(
      e.fields,
      (std::vector<F>{{"peer", std::string(kPeer), true, Pseudonym(kPeer)},
                      {"owner", std::string(kOwner), true, Pseudonym(kOwner)},
                      {"reason", std::string("bad password"), false, ""},
                      {"failures", int64_t{3}, false, ""},
                      {"locked", false, false, ""}}));
  EXPECT_EQ(log_->policy().max_entries, 10'000);
  // Neither personal value, nor the kind, is in any file in clear.
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) Close();
    for (const auto& [name, content] : Files()) {
      EXPECT_EQ(content.find(kPeer), std::string::npos) << name;
      EXPECT_EQ(content.find(kOwner), std::string::npos) << name;
      EXPECT_EQ(content.find("bad password"), std::string::npos) << name;
    }
  }
}

TEST_F(EventLogTest, AnEntryMovedToAnotherIdDoesNotOpen) {
  MustAppend(Login(1));
  const int64_t second = MustAppend(Login(2));
  Close();
  RawSql("UPDATE entries SET sealed = (SELECT sealed FROM entries WHERE id = " +
         std::to_string(second - 1) + ") WHERE id = " + std::to_string(second));
  Reopen();
  EXPECT_EQ(log_->List(0, 10).status().code(), Code::kIntegrity);
  EXPECT_TRUE(log_->List(second - 1, 10).status().code() == Code::kIntegrity);
  auto first = log_->List(0, 1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 1u);
}

TEST_F(EventLogTest, TheCountBoundDropsTheOldestFirst) {
  policy_.max_entries = 5;
  Reopen();
  std::vector<int64_t> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(MustAppend(Login(i)));
  auto all = All();
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(all[i].id, ids[i + 3]);
    EXPECT_EQ(std::get<int64_t>(all[i].fields[3].value),
              static_cast<int64_t>(i + 3));
  }
  EXPECT_EQ(*log_->Count(), 5);
}

TEST_F(EventLogTest, TheByteBoundDropsTheOldestFirst) {
  policy_.max_bytes = 2000;
  Reopen();
  int64_t last = 0;
  for (int i = 0; i < 40; ++i) last = MustAppend(Login(i));
  auto bytes = log_->SealedBytes();
  ASSERT_TRUE(bytes.ok());
  EXPECT_LE(*bytes, 2000);
  EXPECT_GT(*bytes, 1000);
  auto all = All();
  ASSERT_FALSE(all.empty());
  EXPECT_LT(all.size(), 40u);
  EXPECT_EQ(all.back().id, last);
  // Only the oldest went: what is left is one unbroken run up to the last.
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, all[i - 1].id + 1);
  }
}

TEST_F(EventLogTest, ManyFieldsAndLongValuesAreCutBeforeTheyAreKept) {
  events::Event e(events::kAppOutput);
  const std::string huge(1 << 20, 'x');
  e.Personal("line", huge);
  for (int i = 0; i < 100; ++i) e.Int("n", i);
  e.set_time(clock_.Now());
  MustAppend(e);
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  ASSERT_EQ(all[0].fields.size(), kMaxEventFields);
  EXPECT_EQ(std::get<std::string>(all[0].fields[0].value),
            huge.substr(0, kMaxEventValueSize));
  EXPECT_LT(*log_->SealedBytes(), 4 * 1024);
  // A value cut inside a UTF-8 sequence stays valid UTF-8.
  events::Event u(events::kAppOutput);
  std::string accents;
  while (accents.size() < kMaxEventValueSize + 4) accents += "\xc3\xa9";
  u.Text("line", "a" + accents);
  MustAppend(u);
  all = All();
  ASSERT_EQ(all.size(), 2u);
  const auto& cut = std::get<std::string>(all[1].fields[0].value);
  EXPECT_EQ(cut.size(), kMaxEventValueSize - 1);
  EXPECT_EQ(cut.back(), '\xa9');
}

TEST_F(EventLogTest, EntriesPastTheRetentionAreSweptByTheInjectedClock) {
  policy_.retention_seconds = 3600;
  Reopen();
  events::Bus bus(clock_);
  bus.Subscribe([this](const events::Event& e) { MustAppend(e); });
  bus.Publish(Login(1));
  clock_.Advance(std::chrono::minutes(40));
  bus.Publish(Login(2));
  clock_.Advance(std::chrono::minutes(30));
  auto swept = log_->Sweep(clock_.Now());
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(*swept, 1);
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(all[0].fields[3].value), 2);
  clock_.Advance(std::chrono::minutes(40));
  EXPECT_EQ(*log_->Sweep(clock_.Now()), 1);
  EXPECT_TRUE(All().empty());
}

TEST_F(EventLogTest, BadPoliciesAreRefused) {
  for (auto bad : {EventLog::Policy{0, 1, 1}, EventLog::Policy{1, 0, 1},
                   EventLog::Policy{1, 1, 0}}) {
    EXPECT_EQ(EventLog::Open(platform::DefaultEnv(), LogPath(), *keystore_, bad)
                  .status()
                  .code(),
              Code::kInvalidArgument);
  }
}

TEST_F(EventLogTest, EraseDestroysTheKeyAndLeavesNoSealedByteOnDisk) {
  for (int i = 0; i < 60; ++i) MustAppend(Login(i));
  EXPECT_EQ(LogKeys(), std::vector<std::string>{"events-1"});
  const std::string key_blob = [&] {
    std::ifstream in(root_ / "keystore" / "events-1.cur", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  ASSERT_GT(key_blob.size(), 32u);
  Close();
  const auto sealed = SealedRows();
  ASSERT_EQ(sealed.size(), 60u);
  Reopen();

  ASSERT_TRUE(log_->Erase().ok());
  EXPECT_TRUE(LogKeys().empty());
  EXPECT_TRUE(All().empty());
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) Close();
    for (const auto& [name, content] : Files()) {
      for (const auto& row : sealed) {
        ASSERT_EQ(content.find(row.substr(0, 24)), std::string::npos)
            << "a sealed event survives in " << name;
      }
      EXPECT_EQ(content.find(key_blob.substr(0, 32)), std::string::npos)
          << "the event log's key survives in " << name;
    }
  }
  Reopen();
  // Later events use a fresh key; a row of the old epoch put back (from a
  // backup, say) has none.
  const int64_t after = MustAppend(Login(99));
  EXPECT_EQ(LogKeys(), std::vector<std::string>{"events-2"});
  Close();
  RawSql("INSERT INTO entries(id, time, epoch, size, sealed) VALUES(1, 0, 1, " +
         std::to_string(sealed[0].size()) + ", x'" +
         HexEncode(AsBytes(sealed[0])) + "')");
  Reopen();
  EXPECT_EQ(log_->List(0, 10).status().code(), Code::kIntegrity);
  auto later = log_->List(1, 10);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].id, after);
}

TEST_F(EventLogTest, DeleteAllErasesTheLogAndListsItInTheResultAndReceipt) {
  ASSERT_TRUE(data_
                  ->Declare({"schedule", Category::kUsage, "heating times",
                             3600, false})
                  .ok());
  ASSERT_TRUE(data_->Write("schedule", AsBytes("06:30 21.0")).ok());
  for (int i = 0; i < 7; ++i) MustAppend(Login(i));
  data_->AlsoErase(log_.get());
  auto result = data_->DeleteAll("owner");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->kinds,
            (std::vector<DeletionResult::Kind>{
                {"schedule", 1}, {std::string(kEventLogName), 7}}));
  EXPECT_TRUE(All().empty());
  EXPECT_TRUE(LogKeys().empty());
  auto last = data_->LastDeletion();
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ(**last, *result);
  // The receipt carries it, however many kinds the app declared.
  for (int i = 0; i < static_cast<int>(kMaxKinds) - 1; ++i) {
    result->kinds.push_back({"k" + std::to_string(i), 0});
  }
  auto pair = crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  ASSERT_TRUE(pair.ok());
  const WallTime now = std::chrono::system_clock::now();
  crypto::CertificateRequest req{.common_name = "SN1",
                                 .serial_number = "SN1",
                                 .subject_key = pair->public_key(),
                                 .not_before = now,
                                 .not_after = now + std::chrono::hours(24)};
  req.server_auth = true;
  auto cert = crypto::IssueCertificate(req, *pair, nullptr);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  auto receipt = MakeReceipt(*result, "SN1", *cert, *pair);
  ASSERT_TRUE(receipt.ok());
  auto parsed = VerifyReceipt(*receipt, *cert);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->deletion.kinds.size(), kMaxKinds + 1);
  EXPECT_EQ(parsed->deletion.kinds[1].name, kEventLogName);
}

TEST_F(EventLogTest, AnInterruptedDeletionErasesTheLogWhenResumed) {
  for (int i = 0; i < 3; ++i) MustAppend(Login(i));
  Close();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((root_ / "data.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "INSERT INTO deletion(id, state, body) VALUES(1, "
                           "'pending', '{\"kinds\":[],\"keys\":[],\"also\":{"
                           "\"name\":\"wardend.event_log\",\"records\":3},"
                           "\"requested_by\":\"owner\",\"started_at\":7}')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  Reopen();
  // Without the log to erase, the deletion cannot finish, and says so.
  EXPECT_EQ(data_->ResumeDeletion().status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(All().size(), 3u);
  data_->AlsoErase(log_.get());
  auto resumed = data_->ResumeDeletion();
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  ASSERT_TRUE(resumed->has_value());
  EXPECT_EQ(
      (*resumed)->kinds,
      (std::vector<DeletionResult::Kind>{{std::string(kEventLogName), 3}}));
  EXPECT_TRUE(All().empty());
  EXPECT_TRUE(LogKeys().empty());
}

}  // namespace
}  // namespace warden::data
