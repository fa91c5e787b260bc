#include "qr/qr.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace warden::qr {
namespace {

// The modules the path paints, read back from its "M<x> <y>h<run>v1h-<run>z"
// runs, in a drawing of `size` modules.
std::vector<bool> Painted(const std::string& path, int size) {
  std::vector<bool> out(static_cast<size_t>(size) * size, false);
  static const std::regex kRun(R"(M(\d+) (\d+)h(\d+)v1h-(\d+)z)");
  for (auto it = std::sregex_iterator(path.begin(), path.end(), kRun);
       it != std::sregex_iterator(); ++it) {
    const int x = std::stoi((*it)[1]), y = std::stoi((*it)[2]);
    const int run = std::stoi((*it)[3]);
    EXPECT_EQ(run, std::stoi((*it)[4]));
    for (int i = 0; i < run; ++i) {
      EXPECT_FALSE(out[static_cast<size_t>(y) * size + x + i]) << "twice";
      out[static_cast<size_t>(y) * size + x + i] = true;
    }
  }
  return out;
}

TEST(QrTest, PicksTheSmallestVersionThatHoldsThePayload) {
  // 22 bytes at level M need version 2 (25 modules; version 1 holds 14
  // bytes), and 100 bytes version 6 (41 modules).
  auto small = Encode("MT:Y.K9042C00KA0648G00");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->width, 25);
  auto larger = Encode(std::string(100, 'a'));
  ASSERT_TRUE(larger.ok());
  EXPECT_EQ(larger->width, 41);
}

TEST(QrTest, ThePathPaintsExactlyTheDarkModulesInsideTheQuietZone) {
  auto code = Encode("warden-report:sha256:0123456789abcdef");
  ASSERT_TRUE(code.ok());
  const int size = code->width + 2 * kQuietZone;
  std::vector<bool> painted = Painted(SvgPath(*code), size);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const int qx = x - kQuietZone, qy = y - kQuietZone;
      const bool inside =
          qx >= 0 && qy >= 0 && qx < code->width && qy < code->width;
      EXPECT_EQ(painted[static_cast<size_t>(y) * size + x],
                inside && code->dark(qx, qy))
          << x << "," << y;
    }
  }
  // The top-left finder pattern: a dark run of 7 at the quiet zone's edge.
  EXPECT_EQ(SvgPath(*code).rfind("M4 4h7v1h-7z", 0), 0u);
  EXPECT_EQ(SvgPath(*code, 0).rfind("M0 0h7v1h-7z", 0), 0u);
}

TEST(QrTest, RefusesWhatItCannotEncode) {
  EXPECT_EQ(Encode("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Encode(std::string(kMaxPayload + 1, 'a')).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Encode(std::string("a\0b", 3)).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(Encode(std::string(kMaxPayload, 'a')).ok());
}

}  // namespace
}  // namespace warden::qr
