#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/rng.h"
#include "base/status.h"
#include "base/time_format.h"

namespace warden {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return InvalidArgumentError("odd");
  return v / 2;
}

Status Quarter(int v, int* out) {
  WARDEN_ASSIGN_OR_RETURN(int half, Half(v));
  WARDEN_ASSIGN_OR_RETURN(*out, Half(half));
  return Status::Ok();
}

TEST(StatusTest, TryPropagatesFirstFailure) {
  int out = -1;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  out = -1;
  Status s = Quarter(6, &out);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "invalid_argument: odd");
  EXPECT_EQ(out, -1);  // untouched on failure
}

TEST(StatusTest, SecurityCodesAreMarked) {
  EXPECT_TRUE(IsSecurityFailure(Code::kBadSignature));
  EXPECT_TRUE(IsSecurityFailure(Code::kRollback));
  EXPECT_FALSE(IsSecurityFailure(Code::kUnavailable));
  EXPECT_EQ(UnavailableError("x").WithContext("fetch").message(), "fetch: x");
}

TEST(BytesTest, HexRoundTripAndRejects) {
  Bytes b = {0x00, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "00abff");
  EXPECT_EQ(*HexDecode("00ABff"), b);
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(BytesTest, Base64MatchesRfc4648) {
  // RFC 4648 section 10.
  const char* in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                       "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(Base64Encode(AsBytes(in[i])), out[i]);
    EXPECT_EQ(ToString(*Base64Decode(out[i])), in[i]);
  }
  EXPECT_FALSE(Base64Decode("Zm9").ok());
  EXPECT_FALSE(Base64Decode("Zh==").ok());  // non-canonical trailing bits
  EXPECT_FALSE(Base64Decode("Zm9v\n").ok());
  EXPECT_EQ(Base64UrlEncode(Bytes{0xfb, 0xff}), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), (Bytes{0xfb, 0xff}));
}

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock;
  auto w = clock.Now();
  auto m = clock.Monotonic();
  clock.Advance(std::chrono::seconds(5));
  EXPECT_EQ(clock.Now() - w, std::chrono::seconds(5));
  EXPECT_EQ(clock.Monotonic() - m, std::chrono::seconds(5));
  clock.SetWall(w);
  EXPECT_EQ(clock.Monotonic() - m, std::chrono::seconds(5));
}

TEST(RngTest, UniformBelowStaysInRangeAndCoversIt) {
  int seen[10] = {};
  for (int i = 0; i < 2000; ++i) {
    auto v = UniformBelow(SystemRng(), 10);
    ASSERT_TRUE(v.ok());
    ASSERT_LT(*v, 10u);
    ++seen[*v];
  }
  for (int c : seen) EXPECT_GT(c, 100);
  EXPECT_FALSE(UniformBelow(SystemRng(), 0).ok());
}

TEST(Dates, ParseAndFormat) {
  auto t = ParseDate("2024-02-29");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(UnixSeconds(*t), 1709164800);
  EXPECT_EQ(FormatDate(*t), "2024-02-29");
  EXPECT_EQ(FormatTimestamp(*t + std::chrono::seconds(3661)),
            "2024-02-29T01:01:01Z");
  EXPECT_EQ(FormatDate(AddYears(*t, 1)), "2025-02-28");
  EXPECT_EQ(FormatDate(FromUnixSeconds(0)), "1970-01-01");
}

TEST(Dates, RejectsImpossibleDates) {
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-00-10",
                          "2024-04-31", "2024-4-01", "20240401", "1969-12-31",
                          "2024-04-01T00", "", "abcd-ef-gh", "2024-04-0a"}) {
    EXPECT_EQ(ParseDate(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace warden
