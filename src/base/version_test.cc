#include "base/version.h"

#include <gtest/gtest.h>

namespace warden {
namespace {

int Cmp(std::string_view a, std::string_view b) {
  auto r = CompareVersionText(a, b);
  EXPECT_TRUE(r.ok()) << a << " " << b;
  return r.ok() ? *r : 99;
}

TEST(VersionTest, ComparesAsNumbersNotText) {
  EXPECT_LT(Cmp("1.9.0", "1.10.0"), 0);
  EXPECT_GT(Cmp("2.0", "1.99.99"), 0);
  EXPECT_EQ(Cmp("1.2", "1.2.0"), 0);
  EXPECT_LT(Cmp("1.2", "1.2.1"), 0);
  EXPECT_EQ(Cmp("0", "0.0.0"), 0);
}

TEST(VersionTest, RefusesWhatIsNotADottedNumber) {
  for (const char* bad :
       {"", ".", "1.", ".1", "1..2", "v1.2", "1.2-rc1", "1.02", "-1",
        "1.2.3.4.5.6.7.8.9", "1234567890", " 1", "1,2"}) {
    EXPECT_EQ(ParseVersion(bad).status().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(ParseVersion("999999999.0.10").ok());
}

}  // namespace
}  // namespace warden
