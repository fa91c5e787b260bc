#include "schema/json.h"

#include <gtest/gtest.h>

#include <string>

namespace warden::schema {
namespace {

// Parses with `limits` and returns the rule of the refusal ("" on success).
std::string RuleOf(std::string_view text, const JsonLimits& limits = {}) {
  JsonError error;
  Result<Json> r = ParseJson(text, limits, &error);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), error.rule + ": " + error.message);
  return error.rule;
}

std::string Nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

std::string ArrayOf(size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i) s += i ? ",0" : "0";
  return s + "]";
}

std::string ObjectOf(size_t n) {
  std::string s = "{";
  for (size_t i = 0; i < n; ++i) {
    s += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  }
  return s + "}";
}

TEST(ParseJson, ParsesADocumentWithEveryKindOfValue) {
  Result<Json> r = ParseJson(
      R"({"a": [1, -2, 3.5, true, false, null], "b": {"c": "d\u00e9"}})", {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["a"][0], 1);
  EXPECT_TRUE((*r)["a"][0].is_number_unsigned());
  EXPECT_EQ((*r)["a"][1], -2);
  EXPECT_EQ((*r)["a"][2], 3.5);
  EXPECT_EQ((*r)["a"][3], true);
  EXPECT_TRUE((*r)["a"][5].is_null());
  EXPECT_EQ((*r)["b"]["c"], "d\xc3\xa9");
}

TEST(ParseJson, ParsesScalarsAtTheTop) {
  ASSERT_TRUE(ParseJson("42", {}).ok());
  EXPECT_EQ(*ParseJson("\"x\"", {}), "x");
  EXPECT_TRUE(ParseJson(" null ", {})->is_null());
  EXPECT_EQ(*ParseJson("18446744073709551615", {}), UINT64_MAX);
  EXPECT_EQ(*ParseJson("-9223372036854775808", {}), INT64_MIN);
}

TEST(ParseJson, ErrorOutputIsOptional) {
  Result<Json> r = ParseJson("[1,", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("syntax: ", 0), 0u)
      << r.status().message();
}

TEST(ParseJson, MaxBytesAtAndOverTheLimit) {
  JsonLimits limits;
  limits.max_bytes = 10;
  EXPECT_EQ(RuleOf("\"12345678\"", limits), "");            // 10 bytes
  EXPECT_EQ(RuleOf("\"123456789\"", limits), "max_bytes");  // 11 bytes
}

TEST(ParseJson, MaxBytesIsCheckedBeforeSyntax) {
  JsonLimits limits;
  limits.max_bytes = 4;
  EXPECT_EQ(RuleOf("{{{{{", limits), "max_bytes");
}

TEST(ParseJson, MaxDepthAtAndOverTheLimit) {
  EXPECT_EQ(RuleOf(Nested(16)), "");
  EXPECT_EQ(RuleOf(Nested(17)), "max_depth");
  EXPECT_EQ(RuleOf(Nested(16, '{', '}')), "syntax");  // {{ is not JSON
  std::string objects;
  for (int i = 0; i < 16; ++i) objects += "{\"a\":";
  objects += "0" + std::string(16, '}');
  EXPECT_EQ(RuleOf(objects), "");
  EXPECT_EQ(RuleOf("{\"a\":" + objects + "}"), "max_depth");
}

TEST(ParseJson, DeepNestingIsRefusedAtTheLimitWithoutRecursion) {
  // 100000 levels: the parser must stop at level 17, long before the end,
  // and must not recurse (this also runs under ASan).
  JsonLimits limits;
  limits.max_bytes = 1 << 20;
  std::string deep = Nested(100000);
  JsonError error;
  ASSERT_FALSE(ParseJson(deep, limits, &error).ok());
  EXPECT_EQ(error.rule, "max_depth");
  EXPECT_NE(error.message.find("at byte 17"), std::string::npos)
      << error.message;

  limits.max_bytes = 4 << 20;
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  ASSERT_FALSE(ParseJson(objects, limits, &error).ok());
  EXPECT_EQ(error.rule, "max_depth");
}

TEST(ParseJson, CustomDepthLimit) {
  JsonLimits limits;
  limits.max_depth = 1;
  EXPECT_EQ(RuleOf("[1,2]", limits), "");
  EXPECT_EQ(RuleOf("[[1]]", limits), "max_depth");
  limits.max_depth = 0;
  EXPECT_EQ(RuleOf("7", limits), "");
  EXPECT_EQ(RuleOf("[]", limits), "max_depth");
}

TEST(ParseJson, MaxStringAtAndOverTheLimit) {
  JsonLimits limits;
  limits.max_string = 4;
  EXPECT_EQ(RuleOf("[\"abcd\"]", limits), "");
  EXPECT_EQ(RuleOf("[\"abcde\"]", limits), "max_string");
  // Counted in bytes after unescaping: \u00e9 is 2 bytes, so 2 of them = 4.
  EXPECT_EQ(RuleOf("\"\\u00e9\\u00e9\"", limits), "");
  EXPECT_EQ(RuleOf("\"\\u00e9\\u00e9a\"", limits), "max_string");
}

TEST(ParseJson, MaxStringAppliesToKeys) {
  JsonLimits limits;
  limits.max_string = 4;
  EXPECT_EQ(RuleOf("{\"abcd\":1}", limits), "");
  EXPECT_EQ(RuleOf("{\"abcde\":1}", limits), "max_string");
}

TEST(ParseJson, DefaultStringLimitIs8KiB) {
  std::string ok = "\"" + std::string(8 * 1024, 'x') + "\"";
  std::string big = "\"" + std::string(8 * 1024 + 1, 'x') + "\"";
  EXPECT_EQ(RuleOf(ok), "");
  EXPECT_EQ(RuleOf(big), "max_string");
}

TEST(ParseJson, MaxItemsForArraysAtAndOverTheLimit) {
  EXPECT_EQ(RuleOf(ArrayOf(1024)), "");
  EXPECT_EQ(RuleOf(ArrayOf(1025)), "max_items");
  JsonLimits limits;
  limits.max_items = 2;
  EXPECT_EQ(RuleOf("[[1,2],[3,4]]", limits), "");
  EXPECT_EQ(RuleOf("[[1,2],[3,4],[]]", limits), "max_items");
  EXPECT_EQ(RuleOf("[[1,2,3]]", limits), "max_items");
}

TEST(ParseJson, MaxItemsForObjectsAtAndOverTheLimit) {
  EXPECT_EQ(RuleOf(ObjectOf(1024)), "");
  EXPECT_EQ(RuleOf(ObjectOf(1025)), "max_items");
}

TEST(ParseJson, RefusesDuplicateKeys) {
  JsonError error;
  ASSERT_FALSE(ParseJson(R"({"mode":"off","mode":"heat"})", {}, &error).ok());
  EXPECT_EQ(error.rule, "duplicate_key");
  EXPECT_NE(error.message.find("\"mode\""), std::string::npos);
  // Same key in different objects is fine.
  EXPECT_EQ(RuleOf(R"({"a":{"x":1},"b":{"x":2}})"), "");
  // Keys equal after unescaping are duplicates.
  EXPECT_EQ(RuleOf(R"({"a":1,"\u0061":2})"), "duplicate_key");
  EXPECT_EQ(RuleOf(R"([{"a":1},{"b":{"c":1,"c":1}}])"), "duplicate_key");
}

TEST(ParseJson, RefusesInvalidUtf8) {
  EXPECT_EQ(RuleOf("\"\xff\""), "encoding");
  EXPECT_EQ(RuleOf("\"\xc3\""), "encoding");          // truncated
  EXPECT_EQ(RuleOf("\"\xc0\xaf\""), "encoding");      // overlong '/'
  EXPECT_EQ(RuleOf("\"\xed\xa0\x80\""), "encoding");  // UTF-16 surrogate
  EXPECT_EQ(RuleOf("{\"\xfe\":1}"), "encoding");      // in a key
  EXPECT_EQ(RuleOf(R"("\ud800")"), "encoding");       // lone surrogate
  EXPECT_EQ(RuleOf(R"("\ud83d\ude00")"), "");         // a valid pair
  EXPECT_EQ(RuleOf("\"\xf0\x9f\x98\x80\""), "");      // raw emoji
}

TEST(ParseJson, RefusesTrailingGarbage) {
  EXPECT_EQ(RuleOf("{} x"), "syntax");
  EXPECT_EQ(RuleOf("1 2"), "syntax");
  EXPECT_EQ(RuleOf("[]]"), "syntax");
  EXPECT_EQ(RuleOf("{}\n"), "");
}

TEST(ParseJson, RefusesMalformedDocuments) {
  for (const char* text :
       {"", " ", "[1,]", "{\"a\"}", "{a:1}", "'x'", "NaN", "01", "1.", "[1 2]",
        "/* c */ 1", "\"tab\there\"", "tru", "{\"a\":1,}", "1e999"}) {
    EXPECT_EQ(RuleOf(text), "syntax") << text;
  }
}

TEST(ParseJson, MessageNamesTheByteOffset) {
  // Offsets count the bytes read, so "at byte N" is the N-th byte (from 1).
  JsonError error;
  ASSERT_FALSE(ParseJson("[1, 2, x]", {}, &error).ok());
  EXPECT_EQ(error.rule, "syntax");
  EXPECT_EQ(error.message,
            "syntax error while parsing value - invalid literal at byte 8");

  JsonLimits limits;
  limits.max_items = 2;
  ASSERT_FALSE(ParseJson("[10, 20, 30]", limits, &error).ok());
  EXPECT_EQ(error.rule, "max_items");
  EXPECT_EQ(error.message, "array has more than 2 items at byte 12");

  limits.max_bytes = 3;
  ASSERT_FALSE(ParseJson("[10]", limits, &error).ok());
  EXPECT_EQ(error.message, "document is longer than 3 bytes at byte 4");
}

TEST(ParseJson, MessageDoesNotEchoTheInput) {
  // The message may be sent back to a client inside a JSON error, so it
  // must stay short, printable ASCII, whatever the input.
  JsonError error;
  ASSERT_FALSE(ParseJson("[\"ab\xff\"]", {}, &error).ok());
  EXPECT_EQ(error.rule, "encoding");
  EXPECT_EQ(error.message,
            "syntax error while parsing value - invalid string: ill-formed "
            "UTF-8 byte at byte 5");
  std::string long_number = std::string(5000, '1') + "e999";
  ASSERT_FALSE(ParseJson(long_number, {}, &error).ok());
  EXPECT_EQ(error.message, "number overflow at byte 5004");
  ASSERT_FALSE(ParseJson("{\"secret-token\" 1}", {}, &error).ok());
  EXPECT_EQ(error.message.find("secret-token"), std::string::npos)
      << error.message;
}

TEST(ParseJson, ErrorIsOnlyWrittenOnFailure) {
  JsonError error{"untouched", "untouched"};
  ASSERT_TRUE(ParseJson("[1]", {}, &error).ok());
  EXPECT_EQ(error.rule, "untouched");
  EXPECT_EQ(error.message, "untouched");
  ASSERT_FALSE(ParseJson("[1, 2, {\"a\": [3, ", {}, &error).ok());
  EXPECT_EQ(error.rule, "syntax");
}

}  // namespace
}  // namespace warden::schema
