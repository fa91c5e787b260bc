// Fuzzes ParseJson with the default limits on arbitrary bytes. Whatever it
// accepts must serialize and parse again to the same value within the same
// depth, string and item limits.
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "schema/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using warden::schema::Json;
  using warden::schema::JsonError;
  using warden::schema::JsonLimits;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const JsonLimits limits;
  JsonError error;
  warden::Result<Json> parsed = warden::schema::ParseJson(text, limits, &error);
  if (!parsed.ok()) {
    if (error.rule.empty() || error.message.empty()) std::abort();
    return 0;
  }
  // Serialization can be longer than the input ("1e5" becomes "100000.0"),
  // so only the byte limit is lifted for the round trip.
  JsonLimits again = limits;
  again.max_bytes = std::numeric_limits<size_t>::max();
  std::string dumped = parsed->dump();
  warden::Result<Json> reparsed = warden::schema::ParseJson(dumped, again);
  if (!reparsed.ok() || *reparsed != *parsed) std::abort();
  return 0;
}
