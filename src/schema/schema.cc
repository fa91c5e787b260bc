#include "schema/schema.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <re2/re2.h>

namespace warden::schema {
namespace {

// Longest rendering of a value or an enum list inside a message.
constexpr size_t kMaxShown = 120;

// Memory RE2 may use for one compiled pattern. A pattern whose automaton
// would need more (large counted repetitions, say) is refused at compile
// time; matching is linear in the input whatever the pattern.
constexpr int64_t kMaxPatternMemory = int64_t{1} << 20;

enum TypeBit : unsigned {
  kNullType = 1u << 0,
  kBooleanType = 1u << 1,
  kObjectType = 1u << 2,
  kArrayType = 1u << 3,
  kNumberType = 1u << 4,
  kStringType = 1u << 5,
  kIntegerType = 1u << 6,
};

std::optional<unsigned> TypeBitOf(const std::string& name) {
  if (name == "null") return kNullType;
  if (name == "boolean") return kBooleanType;
  if (name == "object") return kObjectType;
  if (name == "array") return kArrayType;
  if (name == "number") return kNumberType;
  if (name == "string") return kStringType;
  if (name == "integer") return kIntegerType;
  return std::nullopt;
}

// A number with no fractional part, as draft 2020-12 defines integer: 5.0
// is one.
bool IsIntegral(const Json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

// The type name used in messages; numbers without a fraction are "integer".
std::string TypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float:
      return IsIntegral(v) ? "integer" : "number";
    default:
      return "binary";
  }
}

bool HasType(const Json& v, unsigned types) {
  switch (v.type()) {
    case Json::value_t::null:
      return types & kNullType;
    case Json::value_t::boolean:
      return types & kBooleanType;
    case Json::value_t::object:
      return types & kObjectType;
    case Json::value_t::array:
      return types & kArrayType;
    case Json::value_t::string:
      return types & kStringType;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return (types & kNumberType) || ((types & kIntegerType) && IsIntegral(v));
    default:
      return false;
  }
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string Truncate(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  s.resize(cut);
  s += "...";
  return s;
}

// Compact JSON for messages. Invalid UTF-8 (possible in values built in
// code rather than parsed) is replaced instead of throwing.
std::string Show(const Json& v) {
  return Truncate(v.dump(-1, ' ', false, Json::error_handler_t::replace),
                  kMaxShown);
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// RFC 6901: "~" becomes "~0" and "/" becomes "~1".
std::string EscapePointerToken(const std::string& token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Child(const std::string& pointer, const std::string& token) {
  return pointer + "/" + EscapePointerToken(token);
}

// Orders two JSON numbers: exactly when both are integers (signed or
// unsigned 64-bit), as doubles when either has a fraction or an exponent.
int CompareNumbers(const Json& a, const Json& b) {
  if (a.is_number_float() || b.is_number_float()) {
    double x = a.get<double>();
    double y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  bool a_neg = a.is_number_unsigned() ? false : a.get<int64_t>() < 0;
  bool b_neg = b.is_number_unsigned() ? false : b.get<int64_t>() < 0;
  if (a_neg != b_neg) return a_neg ? -1 : 1;
  if (a_neg) {
    int64_t x = a.get<int64_t>();
    int64_t y = b.get<int64_t>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  uint64_t x = a.is_number_unsigned() ? a.get<uint64_t>()
                                      : static_cast<uint64_t>(a.get<int64_t>());
  uint64_t y = b.is_number_unsigned() ? b.get<uint64_t>()
                                      : static_cast<uint64_t>(b.get<int64_t>());
  return x < y ? -1 : (x > y ? 1 : 0);
}

uint64_t Magnitude(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  int64_t i = v.get<int64_t>();
  // Written so that INT64_MIN does not overflow.
  return i < 0 ? static_cast<uint64_t>(-(i + 1)) + 1 : static_cast<uint64_t>(i);
}

// `divisor` is a positive number (checked at compile time).
bool IsMultipleOf(const Json& value, const Json& divisor) {
  if (!value.is_number_float() && !divisor.is_number_float()) {
    return Magnitude(value) % Magnitude(divisor) == 0;
  }
  double q = value.get<double>() / divisor.get<double>();
  if (!std::isfinite(q)) return false;
  // Decimal fractions are inexact in binary (0.3 / 0.1 is
  // 2.9999999999999996), so accept a quotient within a few ulps of an
  // integer. The tolerance scales with the quotient, so a genuine fraction
  // such as 1000000.001 / 1 is still refused.
  double tolerance =
      8 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::fabs(q));
  return std::fabs(q - std::round(q)) <= tolerance;
}

// A keyword value that must be a non-negative integer (5.0 counts); large
// values saturate.
std::optional<uint64_t> AsCount(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i < 0) return std::nullopt;
    return static_cast<uint64_t>(i);
  }
  if (IsIntegral(v)) {
    double d = v.get<double>();
    if (d < 0) return std::nullopt;
    if (d >= 18446744073709551616.0) {
      return std::numeric_limits<uint64_t>::max();
    }
    return static_cast<uint64_t>(d);
  }
  return std::nullopt;
}

std::string Where(const std::string& location) { return "#" + location; }

}  // namespace

struct Schema::Node {
  // Set for the boolean schemas: true accepts every value, false none.
  std::optional<bool> constant;

  unsigned types = 0;  // TypeBit set; 0 when "type" is absent
  std::vector<std::string> type_names;
  std::optional<Json> enum_values;  // an array
  std::optional<Json> const_value;

  std::optional<Json> minimum;
  std::optional<Json> maximum;
  std::optional<Json> exclusive_minimum;
  std::optional<Json> exclusive_maximum;
  std::optional<Json> multiple_of;

  std::optional<uint64_t> min_length;
  std::optional<uint64_t> max_length;
  std::shared_ptr<const re2::RE2> pattern;
  std::string pattern_source;

  std::vector<std::string> required;
  std::map<std::string, std::shared_ptr<const Node>> properties;
  // Applies to members not named in properties; null means any is allowed.
  std::shared_ptr<const Node> additional;
  std::optional<uint64_t> min_properties;
  std::optional<uint64_t> max_properties;

  std::shared_ptr<const Node> items;
  std::optional<uint64_t> min_items;
  std::optional<uint64_t> max_items;
  bool unique_items = false;

  // The document as given; kept on the root only.
  Json document;
};

namespace {

using NodePtr = std::shared_ptr<const Schema::Node>;

class Compiler {
 public:
  explicit Compiler(const SchemaLimits& limits) : limits_(limits) {}

  Result<NodePtr> CompileNode(const Json& s, const std::string& location,
                              int depth) {
    if (depth > limits_.max_depth) {
      return InvalidArgumentError("schema at " + Where(location) +
                                  " is nested deeper than " +
                                  std::to_string(limits_.max_depth));
    }
    auto node = std::make_shared<Schema::Node>();
    if (s.is_boolean()) {
      node->constant = s.get<bool>();
      return NodePtr(std::move(node));
    }
    if (!s.is_object()) {
      return InvalidArgumentError("schema at " + Where(location) +
                                  " must be an object or a boolean, not " +
                                  TypeName(s));
    }
    for (const auto& [keyword, value] : s.items()) {
      if (++keywords_ > limits_.max_keywords) {
        return InvalidArgumentError("schema has more than " +
                                    std::to_string(limits_.max_keywords) +
                                    " keywords");
      }
      WARDEN_TRY(CompileKeyword(*node, keyword, value, location, depth));
    }
    return NodePtr(std::move(node));
  }

 private:
  static Status Bad(const std::string& keyword, const std::string& location,
                    const std::string& what) {
    return InvalidArgumentError("keyword \"" + keyword + "\" at " +
                                Where(location) + " " + what);
  }

  Status Count(std::optional<uint64_t>& out, const std::string& keyword,
               const Json& value, const std::string& location) {
    out = AsCount(value);
    if (!out) return Bad(keyword, location, "must be a non-negative integer");
    return Status::Ok();
  }

  Status Number(std::optional<Json>& out, const std::string& keyword,
                const Json& value, const std::string& location) {
    if (!value.is_number()) return Bad(keyword, location, "must be a number");
    out = value;
    return Status::Ok();
  }

  Status CompileType(Schema::Node& node, const Json& value,
                     const std::string& location) {
    std::vector<std::string> names;
    if (value.is_string()) {
      names.push_back(value.get<std::string>());
    } else if (value.is_array() && !value.empty()) {
      for (const Json& item : value) {
        if (!item.is_string()) {
          return Bad("type", location, "must list type names as strings");
        }
        names.push_back(item.get<std::string>());
      }
    } else {
      return Bad("type", location,
                 "must be a type name or a non-empty array of them");
    }
    for (const std::string& name : names) {
      std::optional<unsigned> bit = TypeBitOf(name);
      if (!bit) {
        return Bad("type", location,
                   "names unknown type \"" + Truncate(name, kMaxShown) + "\"");
      }
      if (node.types & *bit) {
        return Bad("type", location, "names \"" + name + "\" twice");
      }
      node.types |= *bit;
    }
    node.type_names = std::move(names);
    return Status::Ok();
  }

  Status CompilePattern(Schema::Node& node, const Json& value,
                        const std::string& location) {
    if (!value.is_string()) return Bad("pattern", location, "must be a string");
    const std::string& source = value.get_ref<const std::string&>();
    if (source.size() > limits_.max_pattern_length) {
      return Bad("pattern", location,
                 "is longer than " +
                     std::to_string(limits_.max_pattern_length) + " bytes");
    }
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(kMaxPatternMemory);
    options.set_never_capture(true);
    auto re = std::make_shared<const re2::RE2>(source, options);
    if (!re->ok()) {
      if (re->error_code() == re2::RE2::ErrorPatternTooLarge ||
          re->error_code() == re2::RE2::ErrorRepeatSize) {
        return Bad("pattern", location,
                   "is too complex to match efficiently or has a bad "
                   "repetition count: " +
                       re->error());
      }
      return Bad("pattern", location,
                 "is not a valid regular expression (RE2 syntax: no "
                 "lookaround, no back-references): " +
                     re->error());
    }
    node.pattern = std::move(re);
    node.pattern_source = source;
    return Status::Ok();
  }

  Status CompileKeyword(Schema::Node& node, const std::string& keyword,
                        const Json& value, const std::string& location,
                        int depth) {
    const std::string here = Child(location, keyword);
    if (keyword == "type") return CompileType(node, value, location);
    if (keyword == "enum") {
      if (!value.is_array() || value.empty()) {
        return Bad(keyword, location, "must be a non-empty array");
      }
      node.enum_values = value;
      return Status::Ok();
    }
    if (keyword == "const") {
      node.const_value = value;
      return Status::Ok();
    }
    if (keyword == "minimum")
      return Number(node.minimum, keyword, value, location);
    if (keyword == "maximum")
      return Number(node.maximum, keyword, value, location);
    if (keyword == "exclusiveMinimum") {
      return Number(node.exclusive_minimum, keyword, value, location);
    }
    if (keyword == "exclusiveMaximum") {
      return Number(node.exclusive_maximum, keyword, value, location);
    }
    if (keyword == "multipleOf") {
      if (!value.is_number() || !(value.get<double>() > 0)) {
        return Bad(keyword, location, "must be a number greater than 0");
      }
      node.multiple_of = value;
      return Status::Ok();
    }
    if (keyword == "minLength")
      return Count(node.min_length, keyword, value, location);
    if (keyword == "maxLength")
      return Count(node.max_length, keyword, value, location);
    if (keyword == "pattern") return CompilePattern(node, value, location);
    if (keyword == "required") {
      if (!value.is_array()) {
        return Bad(keyword, location, "must be an array of strings");
      }
      for (const Json& item : value) {
        if (!item.is_string()) {
          return Bad(keyword, location, "must be an array of strings");
        }
        const std::string& name = item.get_ref<const std::string&>();
        for (const std::string& seen : node.required) {
          if (seen == name) {
            return Bad(keyword, location,
                       "lists \"" + Truncate(name, kMaxShown) + "\" twice");
          }
        }
        node.required.push_back(name);
      }
      return Status::Ok();
    }
    if (keyword == "properties") {
      if (!value.is_object()) {
        return Bad(keyword, location, "must be an object of schemas");
      }
      for (const auto& [name, sub] : value.items()) {
        WARDEN_ASSIGN_OR_RETURN(NodePtr child,
                                CompileNode(sub, Child(here, name), depth + 1));
        node.properties.emplace(name, std::move(child));
      }
      return Status::Ok();
    }
    if (keyword == "additionalProperties") {
      WARDEN_ASSIGN_OR_RETURN(node.additional,
                              CompileNode(value, here, depth + 1));
      // true is the same as no keyword at all.
      if (node.additional->constant == true) node.additional.reset();
      return Status::Ok();
    }
    if (keyword == "minProperties") {
      return Count(node.min_properties, keyword, value, location);
    }
    if (keyword == "maxProperties") {
      return Count(node.max_properties, keyword, value, location);
    }
    if (keyword == "items") {
      if (!value.is_object() && !value.is_boolean()) {
        return Bad(keyword, location, "must be a schema (object or boolean)");
      }
      WARDEN_ASSIGN_OR_RETURN(node.items, CompileNode(value, here, depth + 1));
      return Status::Ok();
    }
    if (keyword == "minItems")
      return Count(node.min_items, keyword, value, location);
    if (keyword == "maxItems")
      return Count(node.max_items, keyword, value, location);
    if (keyword == "uniqueItems") {
      if (!value.is_boolean())
        return Bad(keyword, location, "must be a boolean");
      node.unique_items = value.get<bool>();
      return Status::Ok();
    }
    if (keyword == "description" || keyword == "title" ||
        keyword == "$comment") {
      if (!value.is_string()) return Bad(keyword, location, "must be a string");
      return Status::Ok();
    }
    if (keyword == "default") return Status::Ok();
    return InvalidArgumentError("unknown keyword \"" +
                                Truncate(keyword, kMaxShown) + "\" at " +
                                Where(location));
  }

  const SchemaLimits& limits_;
  size_t keywords_ = 0;
};

std::optional<Violation> CheckNode(const Schema::Node& node, const Json& value,
                                   const std::string& pointer);

Violation Fail(const std::string& pointer, const char* rule,
               std::string message) {
  return Violation{pointer, rule, std::move(message)};
}

std::optional<Violation> CheckNumber(const Schema::Node& node,
                                     const Json& value,
                                     const std::string& pointer) {
  if (node.minimum && CompareNumbers(value, *node.minimum) < 0) {
    return Fail(
        pointer, "minimum",
        Show(value) + " is less than the minimum " + Show(*node.minimum));
  }
  if (node.exclusive_minimum &&
      CompareNumbers(value, *node.exclusive_minimum) <= 0) {
    return Fail(pointer, "exclusiveMinimum",
                Show(value) + " is not greater than the exclusive minimum " +
                    Show(*node.exclusive_minimum));
  }
  if (node.maximum && CompareNumbers(value, *node.maximum) > 0) {
    return Fail(
        pointer, "maximum",
        Show(value) + " is greater than the maximum " + Show(*node.maximum));
  }
  if (node.exclusive_maximum &&
      CompareNumbers(value, *node.exclusive_maximum) >= 0) {
    return Fail(pointer, "exclusiveMaximum",
                Show(value) + " is not less than the exclusive maximum " +
                    Show(*node.exclusive_maximum));
  }
  if (node.multiple_of && !IsMultipleOf(value, *node.multiple_of)) {
    return Fail(
        pointer, "multipleOf",
        Show(value) + " is not a multiple of " + Show(*node.multiple_of));
  }
  return std::nullopt;
}

std::optional<Violation> CheckString(const Schema::Node& node,
                                     const std::string& s,
                                     const std::string& pointer) {
  size_t length = CodePoints(s);
  if (node.min_length && length < *node.min_length) {
    return Fail(pointer, "minLength",
                "string is shorter than " + std::to_string(*node.min_length));
  }
  if (node.max_length && length > *node.max_length) {
    return Fail(pointer, "maxLength",
                "string is longer than " + std::to_string(*node.max_length));
  }
  if (node.pattern) {
    // JSON Schema patterns are unanchored searches.
    bool matched = re2::RE2::PartialMatch(s, *node.pattern);
    if (!matched) {
      return Fail(pointer, "pattern",
                  "does not match pattern " + node.pattern_source);
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckObject(const Schema::Node& node,
                                     const Json& value,
                                     const std::string& pointer) {
  for (const std::string& name : node.required) {
    if (!value.contains(name)) {
      Violation v = Fail(
          pointer, "required",
          "missing required property \"" + Truncate(name, kMaxShown) + "\"");
      v.missing = name;
      return v;
    }
  }
  if (node.min_properties && value.size() < *node.min_properties) {
    return Fail(
        pointer, "minProperties",
        "fewer than " + std::to_string(*node.min_properties) + " properties");
  }
  if (node.max_properties && value.size() > *node.max_properties) {
    return Fail(
        pointer, "maxProperties",
        "more than " + std::to_string(*node.max_properties) + " properties");
  }
  for (const auto& [name, member] : value.items()) {
    std::string here = Child(pointer, name);
    auto it = node.properties.find(name);
    if (it != node.properties.end()) {
      if (auto v = CheckNode(*it->second, member, here)) return v;
    } else if (node.additional) {
      if (node.additional->constant == false) {
        return Fail(
            here, "additionalProperties",
            "property \"" + Truncate(name, kMaxShown) + "\" is not allowed");
      }
      if (auto v = CheckNode(*node.additional, member, here)) return v;
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckArray(const Schema::Node& node, const Json& value,
                                    const std::string& pointer) {
  if (node.min_items && value.size() < *node.min_items) {
    return Fail(pointer, "minItems",
                "fewer than " + std::to_string(*node.min_items) + " items");
  }
  if (node.max_items && value.size() > *node.max_items) {
    return Fail(pointer, "maxItems",
                "more than " + std::to_string(*node.max_items) + " items");
  }
  if (node.items) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (auto v = CheckNode(*node.items, value[i],
                             pointer + "/" + std::to_string(i))) {
        return v;
      }
    }
  }
  if (node.unique_items) {
    // Quadratic, but arrays are bounded by the parser's max_items. JSON
    // equality treats 1 and 1.0 as equal, as the specification asks.
    for (size_t i = 1; i < value.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (value[i] == value[j]) {
          return Fail(pointer + "/" + std::to_string(i), "uniqueItems",
                      "items " + std::to_string(j) + " and " +
                          std::to_string(i) + " are equal");
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckNode(const Schema::Node& node, const Json& value,
                                   const std::string& pointer) {
  if (node.constant) {
    if (*node.constant) return std::nullopt;
    return Fail(pointer, "false", "no value is allowed here");
  }
  if (node.types != 0 && !HasType(value, node.types)) {
    std::string expected;
    for (size_t i = 0; i < node.type_names.size(); ++i) {
      if (i > 0) expected += i + 1 == node.type_names.size() ? " or " : ", ";
      expected += node.type_names[i];
    }
    return Fail(pointer, "type",
                "expected " + expected + ", got " + TypeName(value));
  }
  if (node.enum_values) {
    bool found = false;
    for (const Json& candidate : *node.enum_values) {
      if (candidate == value) {
        found = true;
        break;
      }
    }
    if (!found) {
      return Fail(pointer, "enum",
                  Show(value) + " is not one of " + Show(*node.enum_values));
    }
  }
  if (node.const_value && !(*node.const_value == value)) {
    return Fail(
        pointer, "const",
        Show(value) + " is not the constant " + Show(*node.const_value));
  }
  if (value.is_number()) return CheckNumber(node, value, pointer);
  if (value.is_string()) {
    return CheckString(node, value.get_ref<const std::string&>(), pointer);
  }
  if (value.is_object()) return CheckObject(node, value, pointer);
  if (value.is_array()) return CheckArray(node, value, pointer);
  return std::nullopt;
}

}  // namespace

Result<Schema> Schema::Compile(const Json& schema, const SchemaLimits& limits) {
  try {
    Compiler compiler(limits);
    WARDEN_ASSIGN_OR_RETURN(NodePtr root, compiler.CompileNode(schema, "", 1));
    // The root is copied once more to carry the document; subschemas only
    // keep what checking needs.
    auto with_document = std::make_shared<Node>(*root);
    with_document->document = schema;
    return Schema(std::move(with_document));
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("schema could not be compiled: ") +
                                e.what());
  }
}

std::optional<Violation> Schema::Check(const Json& value) const {
  try {
    return CheckNode(*root_, value, "");
  } catch (const std::exception& e) {
    // A check that could not finish must not pass.
    return Violation{"", "internal",
                     std::string("value could not be checked: ") + e.what()};
  }
}

const Json& Schema::json() const { return root_->document; }

Schema::Schema(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
Schema::Schema(const Schema&) = default;
Schema& Schema::operator=(const Schema&) = default;
Schema::Schema(Schema&&) noexcept = default;
Schema& Schema::operator=(Schema&&) noexcept = default;
Schema::~Schema() = default;

}  // namespace warden::schema
