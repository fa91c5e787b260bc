// A JSON Schema (draft 2020-12 subset) checker for the inputs an app
// declares. Supported keywords: type (string or array of strings), enum,
// const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
// minLength, maxLength, pattern (RE2 syntax, the ECMA-262 subset without
// lookaround or back-references, matched in linear time), required, properties,
// additionalProperties (false or a schema), minProperties, maxProperties, items
// (a schema), minItems, maxItems, uniqueItems, description, title, default,
// $comment. Any other keyword is refused at compile time rather than silently
// ignored.
#ifndef WARDEN_SCHEMA_SCHEMA_H_
#define WARDEN_SCHEMA_SCHEMA_H_

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "schema/json.h"

namespace warden::schema {

// Why a value failed its schema.
struct Violation {
  std::string pointer;  // JSON pointer to the failing value, "" for the root
  std::string rule;     // the keyword: "maximum", "required", "type", ...
  std::string message;  // e.g. "31 is greater than the maximum 30"
  // For "required": the member that is missing from the object at
  // `pointer`, so that a caller can name the field at fault.
  std::string missing;
};

struct SchemaLimits {
  int max_depth = 8;          // nesting of schemas within schemas
  size_t max_keywords = 256;  // total keywords in one schema
  size_t max_pattern_length = 256;
};

class Schema {
 public:
  // Checks that `schema` is a schema we support and precompiles patterns.
  // Unknown keywords, wrong keyword types, invalid regexes and schemas over
  // the limits are kInvalidArgument naming the schema location.
  static Result<Schema> Compile(const Json& schema,
                                const SchemaLimits& limits = {});

  // nullopt when `value` satisfies the schema; otherwise the first
  // violation found (depth-first, in document order).
  std::optional<Violation> Check(const Json& value) const;

  // The schema as given.
  const Json& json() const;

  Schema(const Schema&);
  Schema& operator=(const Schema&);
  Schema(Schema&&) noexcept;
  Schema& operator=(Schema&&) noexcept;
  ~Schema();

  struct Node;

 private:
  explicit Schema(std::shared_ptr<const Node> root);
  std::shared_ptr<const Node> root_;
};

}  // namespace warden::schema

#endif  // WARDEN_SCHEMA_SCHEMA_H_
