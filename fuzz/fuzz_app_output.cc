// Feeds bytes, as the app writes them to stdout or stderr, through the line
// splitter wardend applies before publishing app_output events, in chunks
// whose sizes the input's first byte picks, and checks its promises: no line
// longer than the limit, and no newline inside a line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "app/output_lines.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = 1 + data[0] % 64;
  size_t max_line = 1 + data[0] / 4;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  warden::app::OutputLines lines(max_line);
  auto check = [max_line](std::string_view line, bool cut) {
    if (line.size() > max_line || line.find('\n') != std::string_view::npos ||
        (cut && line.size() != max_line)) {
      std::abort();
    }
  };
  while (!bytes.empty()) {
    lines.Feed(bytes.substr(0, chunk), check);
    bytes.remove_prefix(bytes.size() < chunk ? bytes.size() : chunk);
  }
  lines.Finish(check);
  return 0;
}
