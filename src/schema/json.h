// Parsing untrusted JSON with hard limits. Every limit is checked while
// parsing, before the value is built, so an oversized or deeply nested
// document costs no more than its bytes.
#ifndef WARDEN_SCHEMA_JSON_H_
#define WARDEN_SCHEMA_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace warden::schema {

using Json = nlohmann::json;

struct JsonLimits {
  size_t max_bytes = 64 * 1024;
  int max_depth = 16;            // nesting of arrays and objects
  size_t max_string = 8 * 1024;  // bytes per string (keys included)
  size_t max_items = 1024;       // items per array, members per object
};

// A limit or syntax error, naming where it happened.
struct JsonError {
  std::string rule;     // "syntax", "max_bytes", "max_depth", "max_string",
                        // "max_items", "duplicate_key", "encoding"
  std::string message;  // human readable, with the byte offset
};

// Parses `text` as one JSON document. Rejects duplicate object keys and
// invalid UTF-8. On failure returns kInvalidArgument whose message is
// "rule: message" and, if `error` is not null, fills it.
Result<Json> ParseJson(std::string_view text, const JsonLimits& limits,
                       JsonError* error = nullptr);

}  // namespace warden::schema

#endif  // WARDEN_SCHEMA_JSON_H_
