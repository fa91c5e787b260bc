#include "auth/session.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <set>
#include <string>

#include "base/bytes.h"

namespace warden::auth {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// An Rng that fails on demand, to check that a failed Create changes
// nothing.
class FlakyRng : public Rng {
 public:
  Status Fill(std::span<uint8_t> out) override {
    if (fail) return IoError("no entropy");
    return SystemRng().Fill(out);
  }
  bool fail = false;
};

std::string Sha256Hex(std::string_view s) {
  uint8_t h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const uint8_t*>(s.data()), s.size());
  return HexEncode(ByteView(h, sizeof h));
}

TEST(SessionTable, CreateAndValidate) {
  FakeClock clock;
  SessionTable table(clock, SystemRng());
  Result<Session> s = table.Create(1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->token.size(), 43u);
  Result<Bytes> raw = Base64UrlDecode(s->token);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->size(), 32u);
  EXPECT_EQ(s->expires_at, clock.Now() + hours(12));
  EXPECT_TRUE(table.Validate(s->token));
  EXPECT_EQ(table.size(), 1u);

  EXPECT_FALSE(table.Validate(""));
  EXPECT_FALSE(table.Validate(std::string(43, 'A')));
  std::string altered = s->token;
  altered[10] = altered[10] == 'x' ? 'y' : 'x';
  EXPECT_FALSE(table.Validate(altered));
}

TEST(SessionTable, ExpiresAfterLifetime) {
  FakeClock clock;
  SessionTable table(clock, SystemRng());
  Result<Session> s = table.Create(1);
  ASSERT_TRUE(s.ok());
  clock.Advance(hours(12) - seconds(1));
  EXPECT_TRUE(table.Validate(s->token));
  clock.Advance(seconds(1));
  EXPECT_FALSE(table.Validate(s->token));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(table.Export().empty());
}

TEST(SessionTable, SettingTheWallClockBackDoesNotExtendASession) {
  FakeClock clock;
  SessionTable table(clock, SystemRng(), hours(1));
  Result<Session> s = table.Create(1);
  ASSERT_TRUE(s.ok());
  clock.Advance(minutes(61));
  clock.SetWall(clock.Now() - hours(5));
  EXPECT_FALSE(table.Validate(s->token));
}

TEST(SessionTable, RevokeEndsOneSession) {
  FakeClock clock;
  SessionTable table(clock, SystemRng());
  Result<Session> a = table.Create(1);
  Result<Session> b = table.Create(1);
  ASSERT_TRUE(a.ok() && b.ok());
  table.Revoke(a->token);
  EXPECT_FALSE(table.Validate(a->token));
  EXPECT_TRUE(table.Validate(b->token));
  table.Revoke("not-a-token");
  EXPECT_EQ(table.size(), 1u);
}

TEST(SessionTable, RevokeAllEndsEverySession) {
  FakeClock clock;
  SessionTable table(clock, SystemRng());
  std::vector<std::string> tokens;
  for (int i = 0; i < 5; ++i) tokens.push_back(table.Create(1)->token);
  table.RevokeAll();
  EXPECT_EQ(table.size(), 0u);
  for (const std::string& t : tokens) EXPECT_FALSE(table.Validate(t));
}

TEST(SessionTable, FullTableDropsTheOldestSession) {
  FakeClock clock;
  SessionTable table(clock, SystemRng(), hours(12), 3);
  std::vector<std::string> tokens;
  for (int i = 0; i < 4; ++i) {
    tokens.push_back(table.Create(1)->token);
    clock.Advance(seconds(1));
  }
  EXPECT_EQ(table.size(), 3u);
  EXPECT_FALSE(table.Validate(tokens[0]));
  EXPECT_TRUE(table.Validate(tokens[1]));
  EXPECT_TRUE(table.Validate(tokens[2]));
  EXPECT_TRUE(table.Validate(tokens[3]));
}

TEST(SessionTable, TokensAreUnique) {
  FakeClock clock;
  SessionTable table(clock, SystemRng(), hours(12), 1000);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    Result<Session> s = table.Create(1);
    ASSERT_TRUE(s.ok());
    EXPECT_TRUE(seen.insert(s->token).second);
  }
}

TEST(SessionTable, FailedRandomnessChangesNothing) {
  FakeClock clock;
  FlakyRng rng;
  SessionTable table(clock, rng, hours(12), 1);
  Result<Session> s = table.Create(1);
  ASSERT_TRUE(s.ok());
  rng.fail = true;
  Result<Session> t = table.Create(1);
  EXPECT_EQ(t.status().code(), Code::kIo);
  EXPECT_TRUE(table.Validate(s->token));
}

TEST(SessionTable, ASessionAuthenticatesAsTheOwnerWhoLoggedIn) {
  FakeClock clock;
  SessionTable table(clock, SystemRng());
  std::string alice = table.Create(1)->token;
  std::string bob = table.Create(2)->token;
  EXPECT_EQ(table.Validate(alice), std::optional<int64_t>(1));
  EXPECT_EQ(table.Validate(bob), std::optional<int64_t>(2));
  // One owner's sessions end without touching the other's.
  table.RevokeOwner(1);
  EXPECT_FALSE(table.Validate(alice));
  EXPECT_EQ(table.Validate(bob), std::optional<int64_t>(2));
  // The owner survives a restart with the session.
  std::vector<ExportedSession> saved = table.Export();
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].owner_id, 2);
  SessionTable after(clock, SystemRng());
  ASSERT_TRUE(after.Import(saved).ok());
  EXPECT_EQ(after.Validate(bob), std::optional<int64_t>(2));
}

TEST(SessionTable, ExportHoldsOnlyHashes) {
  FakeClock clock;
  SessionTable table(clock, SystemRng());
  Result<Session> s = table.Create(1);
  ASSERT_TRUE(s.ok());
  std::vector<ExportedSession> out = table.Export();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].token_hash, Sha256Hex(s->token));
  EXPECT_EQ(out[0].token_hash.find(s->token), std::string::npos);
  EXPECT_EQ(out[0].expires_at, UnixSeconds(s->expires_at));
}

TEST(SessionTable, SessionsSurviveARestartThroughExportImport) {
  FakeClock clock;
  std::vector<ExportedSession> saved;
  std::string token;
  {
    SessionTable before(clock, SystemRng());
    token = before.Create(1)->token;
    saved = before.Export();
  }
  clock.Advance(hours(1));
  SessionTable after(clock, SystemRng());
  ASSERT_TRUE(after.Import(saved).ok());
  EXPECT_TRUE(after.Validate(token));
  clock.Advance(hours(11));
  EXPECT_FALSE(after.Validate(token));
}

TEST(SessionTable, ImportSkipsExpiredAndKeepsTheNewest) {
  FakeClock clock;
  const int64_t now = UnixSeconds(clock.Now());
  SessionTable table(clock, SystemRng(), hours(12), 2);
  ASSERT_TRUE(table
                  .Import({{Sha256Hex("a"), now - 1},
                           {Sha256Hex("b"), now + 100},
                           {Sha256Hex("c"), now + 300},
                           {Sha256Hex("d"), now + 200}})
                  .ok());
  std::vector<ExportedSession> out = table.Export();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].expires_at, now + 300);
  EXPECT_EQ(out[1].expires_at, now + 200);
}

TEST(SessionTable, ImportNeverOutlivesOneLifetime) {
  // Booted without a real-time clock: the wall clock is years behind, so
  // the stored expiry looks far away. One lifetime of uptime still ends it.
  FakeClock clock;
  SessionTable before(clock, SystemRng(), hours(12));
  const std::string token = before.Create(1)->token;
  const std::vector<ExportedSession> saved = before.Export();
  clock.SetWall(FromUnixSeconds(0));
  SessionTable after(clock, SystemRng(), hours(12));
  ASSERT_TRUE(after.Import(saved).ok());
  EXPECT_TRUE(after.Validate(token));
  clock.Advance(hours(12));
  EXPECT_FALSE(after.Validate(token));
}

TEST(SessionTable, CorruptImportLeavesTableUntouched) {
  FakeClock clock;
  SessionTable table(clock, SystemRng());
  const std::string token = table.Create(1)->token;
  const int64_t later = UnixSeconds(clock.Now()) + 60;
  EXPECT_EQ(table.Import({{Sha256Hex("x"), later}, {"zz", later}}).code(),
            Code::kDataLoss);
  EXPECT_EQ(table.Import({{std::string(64, 'g'), later}}).code(),
            Code::kDataLoss);
  EXPECT_EQ(table.Import({{Sha256Hex("x"), INT64_MAX}}).code(),
            Code::kDataLoss);
  EXPECT_TRUE(table.Validate(token));
  EXPECT_EQ(table.size(), 1u);
}

}  // namespace
}  // namespace warden::auth
