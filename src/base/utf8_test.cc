#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace warden {
namespace {

std::string Of(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(Utf8Test, AcceptsEveryLengthUpToTheLastScalarValue) {
  EXPECT_TRUE(IsValidUtf8(std::string_view()));
  EXPECT_TRUE(IsValidUtf8(std::string_view("plain ascii")));
  EXPECT_TRUE(IsValidUtf8(Of({0x00})));
  EXPECT_TRUE(IsValidUtf8(Of({0x7f})));
  EXPECT_TRUE(IsValidUtf8(Of({0xc2, 0x80})));              // U+0080
  EXPECT_TRUE(IsValidUtf8(Of({0xdf, 0xbf})));              // U+07FF
  EXPECT_TRUE(IsValidUtf8(Of({0xe0, 0xa0, 0x80})));        // U+0800
  EXPECT_TRUE(IsValidUtf8(Of({0xed, 0x9f, 0xbf})));        // U+D7FF
  EXPECT_TRUE(IsValidUtf8(Of({0xee, 0x80, 0x80})));        // U+E000
  EXPECT_TRUE(IsValidUtf8(Of({0xef, 0xbf, 0xbf})));        // U+FFFF
  EXPECT_TRUE(IsValidUtf8(Of({0xf0, 0x90, 0x80, 0x80})));  // U+10000
  EXPECT_TRUE(IsValidUtf8(Of({0xf4, 0x8f, 0xbf, 0xbf})));  // U+10FFFF
  EXPECT_TRUE(
      IsValidUtf8(std::string_view("Gr\xc3\xbc\xc3\x9f"
                                   "e \xe2\x82\xac")));
}

TEST(Utf8Test, RefusesOverlongForms) {
  EXPECT_FALSE(IsValidUtf8(Of({0xc0, 0xaf})));              // '/' in two
  EXPECT_FALSE(IsValidUtf8(Of({0xc1, 0xbf})));              // U+007F in two
  EXPECT_FALSE(IsValidUtf8(Of({0xc0, 0x80})));              // NUL in two
  EXPECT_FALSE(IsValidUtf8(Of({0xe0, 0x80, 0xaf})));        // '/' in three
  EXPECT_FALSE(IsValidUtf8(Of({0xe0, 0x9f, 0xbf})));        // U+07FF in three
  EXPECT_FALSE(IsValidUtf8(Of({0xf0, 0x80, 0x80, 0xaf})));  // '/' in four
  EXPECT_FALSE(IsValidUtf8(Of({0xf0, 0x8f, 0xbf, 0xbf})));  // U+FFFF in four
}

TEST(Utf8Test, RefusesSurrogates) {
  EXPECT_FALSE(IsValidUtf8(Of({0xed, 0xa0, 0x80})));  // U+D800
  EXPECT_FALSE(IsValidUtf8(Of({0xed, 0xbf, 0xbf})));  // U+DFFF
  // A surrogate pair written as two three-byte forms (CESU-8).
  EXPECT_FALSE(IsValidUtf8(Of({0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80})));
}

TEST(Utf8Test, RefusesValuesAboveTheLastScalarValue) {
  EXPECT_FALSE(IsValidUtf8(Of({0xf4, 0x90, 0x80, 0x80})));  // U+110000
  EXPECT_FALSE(IsValidUtf8(Of({0xf5, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(IsValidUtf8(Of({0xf7, 0xbf, 0xbf, 0xbf})));
  EXPECT_FALSE(IsValidUtf8(Of({0xf8, 0x88, 0x80, 0x80, 0x80})));  // 5 bytes
  EXPECT_FALSE(IsValidUtf8(Of({0xfc, 0x84, 0x80, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(IsValidUtf8(Of({0xfe})));
  EXPECT_FALSE(IsValidUtf8(Of({0xff})));
}

TEST(Utf8Test, RefusesBrokenSequences) {
  EXPECT_FALSE(IsValidUtf8(Of({0x80})));                    // stray
  EXPECT_FALSE(IsValidUtf8(Of({'a', 0xbf, 'b'})));          // stray
  EXPECT_FALSE(IsValidUtf8(Of({0xc3})));                    // cut at end
  EXPECT_FALSE(IsValidUtf8(Of({0xe2, 0x82})));              // cut at end
  EXPECT_FALSE(IsValidUtf8(Of({0xf0, 0x90, 0x80})));        // cut at end
  EXPECT_FALSE(IsValidUtf8(Of({0xc3, 'a'})));               // not continued
  EXPECT_FALSE(IsValidUtf8(Of({0xe2, 0x82, 0x41})));        // not continued
  EXPECT_FALSE(IsValidUtf8(Of({0xf0, 0x90, 0xc0, 0x80})));  // not continued
}

TEST(Utf8Test, ChecksEveryCharacterNotOnlyTheFirst) {
  EXPECT_FALSE(IsValidUtf8(Of({'o', 'k', 0xc3, 0xbc, 0xed, 0xa0, 0x80})));
  EXPECT_FALSE(IsValidUtf8(Of({0xe2, 0x82, 0xac, 0xc0, 0xaf})));
}

TEST(Utf8Test, AgreesWithADecoderOnEveryTwoByteInput) {
  // Every pair of bytes: valid exactly when it is two ASCII bytes or one
  // two-byte form of U+0080..U+07FF.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const bool expect = (a < 0x80 && b < 0x80) ||
                          (a >= 0xc2 && a <= 0xdf && b >= 0x80 && b <= 0xbf);
      EXPECT_EQ(IsValidUtf8(Of({a, b})), expect) << a << " " << b;
    }
  }
}

}  // namespace
}  // namespace warden
