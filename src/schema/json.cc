#include "schema/json.h"

#include <algorithm>
#include <cstddef>
#include <exception>
#include <iterator>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace warden::schema {
namespace {

// An input iterator over the text that counts the bytes the lexer has
// consumed, so a refusal raised from a SAX callback can name its offset.
// Only the lexer's "current" copy is ever advanced; the "end" copy never is.
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* p, size_t* consumed)
      : p_(p), consumed_(consumed) {}

  reference operator*() const { return *p_; }
  CountingIterator& operator++() {
    ++p_;
    ++*consumed_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  // C++20 derives != (which the lexer uses) from ==.
  friend bool operator==(const CountingIterator& a, const CountingIterator& b) {
    return a.p_ == b.p_;
  }

 private:
  const char* p_;
  size_t* consumed_;
};

// Rewrites an nlohmann error such as
//   [json.exception.parse_error.101] parse error at line 1, column 4: syntax
//   error while parsing value - invalid literal; last read: '{} x'; expected
//   end of input
// into "syntax error while parsing value - invalid literal; expected end of
// input". The echoed input ("last read", the digits of an overflowing
// number) is dropped: it is untrusted, may be long and may be invalid UTF-8,
// and the byte offset we append says where the problem is.
std::string Describe(const std::string& what) {
  std::string text = what;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find("] ");
    if (close != std::string::npos) text.erase(0, close + 2);
  }
  if (text.rfind("parse error", 0) == 0) {
    size_t colon = text.find(": ");
    if (colon != std::string::npos) text.erase(0, colon + 2);
  }
  size_t echo = text.find("; last read: '");
  if (echo != std::string::npos) {
    size_t expected = text.rfind("'; expected ");
    std::string tail = expected != std::string::npos && expected >= echo + 13
                           ? text.substr(expected + 1)
                           : std::string();
    text = text.substr(0, echo) + tail;
  }
  if (text.rfind("number overflow", 0) == 0) text = "number overflow";
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) > 0x7e) {
      c = '?';
    }
  }
  return text;
}

// Builds the document from SAX events, refusing it at the first event that
// breaks a limit. Nesting is tracked on an explicit stack (the nlohmann
// parser itself is iterative), so depth costs no native stack.
class LimitedBuilder {
 public:
  LimitedBuilder(const JsonLimits& limits, const size_t* consumed)
      : limits_(limits), consumed_(consumed) {}

  bool null() { return AddScalar(Json(nullptr)); }
  bool boolean(bool v) { return AddScalar(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return AddScalar(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return AddScalar(Json(v)); }
  bool number_float(Json::number_float_t v, const Json::string_t& /*raw*/) {
    return AddScalar(Json(v));
  }
  // The lexer hands over a string it has already buffered; that buffer is
  // bounded by max_bytes, and the limit here keeps it out of the document.
  bool string(Json::string_t& v) {
    if (!CheckString(v)) return false;
    return AddScalar(Json(std::move(v)));
  }
  bool binary(Json::binary_t& /*v*/) {
    // The JSON text format has no binary values.
    return Fail("syntax", "unexpected binary value");
  }

  bool start_object(size_t /*elements*/) {
    return OpenContainer(Json::value_t::object);
  }
  bool key(Json::string_t& k) {
    if (!CheckString(k)) return false;
    Json& object = *stack_.back();
    if (object.contains(k)) {
      return Fail("duplicate_key", "duplicate key \"" + Quote(k) + "\"");
    }
    if (object.size() >= limits_.max_items) {
      return Fail("max_items", "object has more than " +
                                   std::to_string(limits_.max_items) +
                                   " members");
    }
    pending_key_ = std::move(k);
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(size_t /*elements*/) {
    return OpenContainer(Json::value_t::array);
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }

  bool parse_error(size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    std::string what = ex.what();
    bool encoding = what.find("UTF-8") != std::string::npos ||
                    what.find("surrogate") != std::string::npos;
    error_.rule = encoding ? "encoding" : "syntax";
    error_.message = Describe(what) + " at byte " + std::to_string(position);
    return false;
  }

  bool failed() const { return !error_.rule.empty(); }
  const JsonError& error() const { return error_; }
  Json TakeRoot() { return std::move(root_); }

 private:
  bool Fail(const std::string& rule, const std::string& what) {
    error_.rule = rule;
    error_.message = what + " at byte " + std::to_string(*consumed_);
    return false;
  }

  // A key for a message: it has passed UTF-8 validation, so only control
  // characters (possible through \u escapes) are masked, and long keys cut.
  static std::string Quote(const std::string& s) {
    constexpr size_t kShown = 64;
    std::string out = s;
    if (out.size() > kShown) {
      size_t cut = kShown;
      while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
        --cut;
      }
      out = out.substr(0, cut) + "...";
    }
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    return out;
  }

  bool CheckString(const std::string& s) {
    if (s.size() > limits_.max_string) {
      return Fail("max_string", "string longer than " +
                                    std::to_string(limits_.max_string) +
                                    " bytes");
    }
    return true;
  }

  // Counts one more item in the innermost container and returns the slot
  // for it, or nullptr when that would break max_items.
  Json* NewSlot() {
    if (stack_.empty()) return &root_;
    Json& parent = *stack_.back();
    if (parent.is_object()) {
      // key() has already checked the member count.
      return &parent[std::move(pending_key_)];
    }
    if (parent.size() >= limits_.max_items) {
      Fail("max_items", "array has more than " +
                            std::to_string(limits_.max_items) + " items");
      return nullptr;
    }
    parent.push_back(Json());
    return &parent.back();
  }

  bool AddScalar(Json v) {
    Json* slot = NewSlot();
    if (slot == nullptr) return false;
    *slot = std::move(v);
    return true;
  }

  bool OpenContainer(Json::value_t type) {
    if (stack_.size() >= static_cast<size_t>(std::max(limits_.max_depth, 0))) {
      return Fail("max_depth",
                  "nesting deeper than " + std::to_string(limits_.max_depth));
    }
    Json* slot = NewSlot();
    if (slot == nullptr) return false;
    *slot = Json(type);
    stack_.push_back(slot);
    return true;
  }

  const JsonLimits& limits_;
  const size_t* consumed_;
  Json root_;
  // Pointers into root_: stable because a container's items are only
  // appended to its innermost open container, never to an ancestor while a
  // child is open.
  std::vector<Json*> stack_;
  std::string pending_key_;
  JsonError error_;
};

Status Refuse(JsonError e, JsonError* out) {
  Status status = InvalidArgumentError(e.rule + ": " + e.message);
  if (out != nullptr) *out = std::move(e);
  return status;
}

}  // namespace

Result<Json> ParseJson(std::string_view text, const JsonLimits& limits,
                       JsonError* error) {
  if (text.size() > limits.max_bytes) {
    return Refuse(
        {"max_bytes", "document is longer than " +
                          std::to_string(limits.max_bytes) + " bytes at byte " +
                          std::to_string(limits.max_bytes + 1)},
        error);
  }
  size_t consumed = 0;
  try {
    LimitedBuilder builder(limits, &consumed);
    CountingIterator first(text.data(), &consumed);
    CountingIterator last(text.data() + text.size(), &consumed);
    bool ok = Json::sax_parse(first, last, &builder, Json::input_format_t::json,
                              /*strict=*/true,
                              /*ignore_comments=*/false);
    if (!ok || builder.failed()) {
      JsonError e = builder.error();
      if (e.rule.empty()) {
        e = {"syntax", "refused at byte " + std::to_string(consumed)};
      }
      return Refuse(std::move(e), error);
    }
    return builder.TakeRoot();
  } catch (const std::bad_alloc&) {
    return Refuse(
        {"syntax", "out of memory at byte " + std::to_string(consumed)}, error);
  } catch (const std::exception& e) {
    std::string what = e.what();
    bool encoding = what.find("UTF-8") != std::string::npos;
    return Refuse({encoding ? "encoding" : "syntax",
                   Describe(what) + " at byte " + std::to_string(consumed)},
                  error);
  } catch (...) {
    return Refuse({"syntax", "unreadable at byte " + std::to_string(consumed)},
                  error);
  }
}

}  // namespace warden::schema
