#include "app/output_lines.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace warden::app {
namespace {

using Lines = std::vector<std::pair<std::string, bool>>;

Lines Split(const std::vector<std::string>& chunks, size_t max,
            bool finish = true) {
  Lines out;
  auto sink = [&out](std::string_view line, bool cut) {
    out.emplace_back(std::string(line), cut);
  };
  OutputLines lines(max);
  for (const auto& c : chunks) lines.Feed(c, sink);
  if (finish) lines.Finish(sink);
  return out;
}

TEST(OutputLinesTest, SplitsAtNewlinesAcrossChunks) {
  EXPECT_EQ(
      Split({"one\ntw", "o\n", "\nthree"}, 16),
      (Lines{{"one", false}, {"two", false}, {"", false}, {"three", false}}));
  EXPECT_EQ(Split({"no newline yet"}, 16, /*finish=*/false), Lines{});
}

TEST(OutputLinesTest, LongLineIsCutOnceAndMarked) {
  // Exactly the limit passes whole, even when its newline comes later.
  EXPECT_EQ(Split({"abcd", "\nefghij\nk"}, 4),
            (Lines{{"abcd", false}, {"efgh", true}, {"k", false}}));
  // An endless line costs one event, however it arrives.
  std::vector<std::string> endless(100, std::string(1000, 'x'));
  endless.push_back("tail\nnext\n");
  EXPECT_EQ(Split(endless, 8), (Lines{{"xxxxxxxx", true}, {"next", false}}));
}

TEST(OutputLinesTest, HoldsNoMoreThanTheLimit) {
  // Bytes of a cut line are dropped, not kept for later.
  Lines out =
      Split({std::string(5000, 'a'), std::string(5000, 'b'), "\n", "c"}, 10);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (std::pair<std::string, bool>{std::string(10, 'a'), true}));
  EXPECT_EQ(out[1], (std::pair<std::string, bool>{"c", false}));
}

TEST(OutputLinesTest, BytesPassUnchanged) {
  // Escaping is the log's business; the text is the app's as written.
  EXPECT_EQ(Split({std::string("a\0b\r\x1b[2J\xff\n", 10)}, 64),
            (Lines{{std::string("a\0b\r\x1b[2J\xff", 9), false}}));
}

}  // namespace
}  // namespace warden::app
