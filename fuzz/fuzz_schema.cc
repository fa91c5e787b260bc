// Fuzzes Schema::Compile and Schema::Check. The input is parsed as JSON; an
// object {"schema": S, "value": V} compiles S and checks V against it. Any
// violation reported must point at a location that exists in V.
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "schema/json.h"
#include "schema/schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using warden::schema::Json;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  warden::Result<Json> doc = warden::schema::ParseJson(text, {});
  if (!doc.ok() || !doc->is_object() || !doc->contains("schema") ||
      !doc->contains("value")) {
    return 0;
  }
  warden::Result<warden::schema::Schema> schema =
      warden::schema::Schema::Compile((*doc)["schema"]);
  if (!schema.ok()) {
    if (schema.status().message().empty()) std::abort();
    return 0;
  }
  const Json& value = (*doc)["value"];
  std::optional<warden::schema::Violation> violation = schema->Check(value);
  if (violation) {
    if (violation->rule.empty() || violation->message.empty()) std::abort();
    try {
      if (!value.contains(Json::json_pointer(violation->pointer))) {
        std::abort();
      }
    } catch (const std::exception&) {
      std::abort();  // a malformed pointer
    }
  }
  // Checking is deterministic.
  std::optional<warden::schema::Violation> again = schema->Check(value);
  if (again.has_value() != violation.has_value()) std::abort();
  return 0;
}
