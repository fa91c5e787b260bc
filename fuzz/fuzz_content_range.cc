// Fuzzes the Content-Range a download server sends, which decides where the
// bytes of a resumed download land.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/https_client.h"

using namespace warden;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<net::ContentRange> range = net::ParseContentRange(text);
  if (!range.ok()) return 0;
  // What the client relies on when it accepts a range.
  if (range->first.has_value() != range->last.has_value()) __builtin_trap();
  if (range->first && *range->first > *range->last) __builtin_trap();
  if (range->last && range->complete && *range->last >= *range->complete) {
    __builtin_trap();
  }
  if (!range->first && !range->complete) __builtin_trap();
  return 0;
}
