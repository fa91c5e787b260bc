#include <gtest/gtest.h>

#include <vector>

#include "events/bus.h"
#include "events/catalog.h"
#include "events/log.h"

namespace warden::events {
namespace {

std::string Mask(std::string_view v) { return "~" + std::to_string(v.size()); }

TEST(EventTest, FieldsKeepTheirTypeAndPersonalMark) {
  Event e(kPairingFailed);
  e.Personal("peer", "192.0.2.7").Int("failures", 4).Flag("locked", false);
  ASSERT_EQ(e.fields().size(), 3u);
  EXPECT_TRUE(e.fields()[0].personal);
  EXPECT_FALSE(e.fields()[1].personal);
  EXPECT_EQ(std::get<int64_t>(e.fields()[1].value), 4);
  ASSERT_NE(e.TextOf("peer"), nullptr);
  EXPECT_EQ(*e.TextOf("peer"), "192.0.2.7");
  EXPECT_EQ(e.TextOf("failures"), nullptr);
}

TEST(EventTest, LineShowsPseudonymsForPersonalFieldsOnly) {
  Event e(kPairingFailed);
  e.Personal("peer", "192.0.2.7").Text("reason", "wrong code").Int("n", 4);
  std::string line = FormatLine(e, Mask);
  EXPECT_EQ(line,
            "warning security pairing_failed peer=~9 reason=\"wrong code\" "
            "n=4");
  EXPECT_EQ(line.find("192.0.2.7"), std::string::npos);
}

TEST(EventTest, QuotedValuesCannotStartALineOfTheirOwn) {
  std::string forged = "x\nwardend: notice security paired owner=evil\"\\\x1b";
  std::string q = QuoteValue(forged);
  EXPECT_EQ(q.find('\n'), std::string::npos);
  EXPECT_EQ(q.find('\x1b'), std::string::npos);
  EXPECT_EQ(q,
            "\"x\\nwardend: notice security paired owner=evil\\\"\\\\\\x1b\"");
  EXPECT_EQ(QuoteValue(""), "\"\"");
  EXPECT_EQ(QuoteValue("https://127.0.0.1:8443"), "https://127.0.0.1:8443");
  EXPECT_EQ(QuoteValue("caf\xc3\xa9"), "\"caf\\xc3\\xa9\"");
}

TEST(BusTest, EverySubscriberSeesEachEventStampedByTheClock) {
  FakeClock clock;
  Bus bus(clock);
  std::vector<std::string> a, b;
  bus.Subscribe([&](const Event& e) { a.emplace_back(e.kind().name); });
  uint64_t id =
      bus.Subscribe([&](const Event& e) { b.emplace_back(e.kind().name); });
  WallTime seen{};
  bus.Subscribe([&](const Event& e) { seen = e.time(); });
  bus.Publish(Event(kLogin));
  bus.Unsubscribe(id);
  bus.Publish(Event(kLogout));
  EXPECT_EQ(a, (std::vector<std::string>{"login", "logout"}));
  EXPECT_EQ(b, (std::vector<std::string>{"login"}));
  EXPECT_EQ(seen, clock.Now());
}

TEST(RateLimitedLogTest, FloodOfOneKindIsCutAndCountedOthersStillLogged) {
  FakeClock clock;
  std::vector<std::string> lines;
  RateLimitedLog log(
      clock, {.burst = 3, .window = std::chrono::seconds(10)},
      [&](std::string_view l) { lines.emplace_back(l); }, Mask);
  for (int i = 0; i < 1500; ++i) log.Write(Event(kBadRequest));
  log.Write(Event(kPairingLocked));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "error security pairing_locked");
  EXPECT_EQ(log.pending_suppressed(), 1497);

  // Nothing is reported before the window closes...
  log.Flush();
  EXPECT_EQ(lines.size(), 4u);
  // ...then the count is, once.
  clock.Advance(std::chrono::seconds(10));
  log.Flush();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[4],
            "notice operational log_suppressed kind=bad_request count=1497");
  log.Flush();
  EXPECT_EQ(lines.size(), 5u);
  // A new window writes again.
  log.Write(Event(kBadRequest));
  EXPECT_EQ(lines.size(), 6u);
}

TEST(RateLimitedLogTest, NextEventAfterTheWindowReportsTheSuppressedCount) {
  FakeClock clock;
  std::vector<std::string> lines;
  RateLimitedLog log(
      clock, {.burst = 1, .window = std::chrono::seconds(5)},
      [&](std::string_view l) { lines.emplace_back(l); }, Mask);
  log.Write(Event(kLoginFailed));
  log.Write(Event(kLoginFailed));
  log.Write(Event(kLoginFailed));
  clock.Advance(std::chrono::seconds(6));
  log.Write(Event(kLoginFailed));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1],
            "notice operational log_suppressed kind=login_failed count=2");
  EXPECT_EQ(lines[2], "warning security login_failed");
}

TEST(RateLimitedLogTest, FlushAllReportsOpenWindows) {
  FakeClock clock;
  std::vector<std::string> lines;
  RateLimitedLog log(
      clock, {.burst = 1, .window = std::chrono::seconds(60)},
      [&](std::string_view l) { lines.emplace_back(l); }, Mask);
  log.Write(Event(kAppOutput));
  log.Write(Event(kAppOutput));
  log.Flush(/*all=*/true);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1],
            "notice operational log_suppressed kind=app_output count=1");
  EXPECT_EQ(log.pending_suppressed(), 0);
}

TEST(RateLimitedLogTest, TheRecorderSeesWhatIsWrittenAndNothingSuppressed) {
  FakeClock clock;
  std::vector<std::string> lines;
  std::vector<std::string> recorded;
  RateLimitedLog log(
      clock, {.burst = 2, .window = std::chrono::seconds(10)},
      [&](std::string_view l) { lines.emplace_back(l); }, Mask);
  log.SetRecorder([&](const Event& e) {
    recorded.emplace_back(e.kind().name);
    // A personal value reaches the recorder in clear, the line masked.
    if (const std::string* peer = e.TextOf("peer")) {
      EXPECT_EQ(*peer, "127.0.0.5");
    }
  });
  for (int i = 0; i < 50; ++i) {
    log.Write(Event(kLoginFailed).Personal("peer", "127.0.0.5"));
  }
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].find("127.0.0.5"), std::string::npos);
  EXPECT_EQ(recorded,
            (std::vector<std::string>{"login_failed", "login_failed"}));
  clock.Advance(std::chrono::seconds(10));
  log.Flush();
  EXPECT_EQ(recorded, (std::vector<std::string>{"login_failed", "login_failed",
                                                "log_suppressed"}));
  EXPECT_EQ(lines.size(), recorded.size());
}

}  // namespace
}  // namespace warden::events
