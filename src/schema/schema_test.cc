#include "schema/schema.h"

#include <gtest/gtest.h>

#include <string>

namespace warden::schema {
namespace {

Json Parse(std::string_view text) {
  Result<Json> r = ParseJson(text, {});
  EXPECT_TRUE(r.ok()) << r.status().ToString() << " in " << text;
  return r.ok() ? *r : Json();
}

Schema MustCompile(std::string_view text) {
  Result<Schema> r = Schema::Compile(Parse(text));
  EXPECT_TRUE(r.ok()) << r.status().ToString() << " for " << text;
  if (!r.ok()) return *Schema::Compile(Json(false));
  return *r;
}

// The compile error for `text`, or "" when it compiles.
std::string CompileError(std::string_view text,
                         const SchemaLimits& limits = {}) {
  Result<Schema> r = Schema::Compile(Parse(text), limits);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

bool Accepts(const Schema& schema, std::string_view value) {
  std::optional<Violation> v = schema.Check(Parse(value));
  EXPECT_FALSE(v.has_value())
      << value << ": " << v->pointer << " " << v->rule << " " << v->message;
  return !v.has_value();
}

// Expects `value` to be refused at `pointer` by `rule`; returns the message.
std::string Refusal(const Schema& schema, std::string_view value,
                    const std::string& pointer, const std::string& rule) {
  std::optional<Violation> v = schema.Check(Parse(value));
  EXPECT_TRUE(v.has_value()) << value << " was accepted";
  if (!v) return "";
  EXPECT_EQ(v->pointer, pointer) << value;
  EXPECT_EQ(v->rule, rule) << value;
  return v->message;
}

// --- The thermostat's capabilities ---------------------------------------

constexpr char kSetpoint[] = R"({"type":"number","minimum":5,"maximum":30})";
constexpr char kMode[] =
    R"({"type":"string","enum":["off","heat","auto"],"description":"mode"})";

std::string ScheduleSchema() {
  std::string entry = R"({"type":"object","required":["time","setpoint"],
      "additionalProperties":false,
      "properties":{
        "time":{"type":"string","pattern":"^([01][0-9]|2[0-3]):[0-5][0-9]$"},
        "setpoint":)" +
                      std::string(kSetpoint) + "}}";
  std::string day = R"({"type":"array","maxItems":8,"items":)" + entry + "}";
  std::string s = R"({"type":"object","additionalProperties":false,
      "required":["mon","tue","wed","thu","fri","sat","sun"],"properties":{)";
  const char* days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  for (int i = 0; i < 7; ++i) {
    s += std::string(i ? "," : "") + "\"" + days[i] + "\":" + day;
  }
  return s + "}}";
}

std::string Week(const std::string& monday) {
  return R"({"mon":)" + monday +
         R"(,"tue":[],"wed":[],"thu":[],"fri":[],"sat":[],
            "sun":[{"time":"08:00","setpoint":21}]})";
}

TEST(Thermostat, Setpoint) {
  Schema s = MustCompile(kSetpoint);
  EXPECT_TRUE(Accepts(s, "5"));
  EXPECT_TRUE(Accepts(s, "21.5"));
  EXPECT_TRUE(Accepts(s, "30"));
  EXPECT_TRUE(Accepts(s, "30.0"));
  EXPECT_EQ(Refusal(s, "31", "", "maximum"),
            "31 is greater than the maximum 30");
  EXPECT_EQ(Refusal(s, "30.01", "", "maximum"),
            "30.01 is greater than the maximum 30");
  EXPECT_EQ(Refusal(s, "4", "", "minimum"), "4 is less than the minimum 5");
  EXPECT_EQ(Refusal(s, "-40", "", "minimum"), "-40 is less than the minimum 5");
  EXPECT_EQ(Refusal(s, "\"21\"", "", "type"), "expected number, got string");
}

TEST(Thermostat, Mode) {
  Schema s = MustCompile(kMode);
  EXPECT_TRUE(Accepts(s, "\"off\""));
  EXPECT_TRUE(Accepts(s, "\"heat\""));
  EXPECT_TRUE(Accepts(s, "\"auto\""));
  EXPECT_EQ(Refusal(s, "\"hot\"", "", "enum"),
            R"("hot" is not one of ["off","heat","auto"])");
  EXPECT_EQ(Refusal(s, "\"OFF\"", "", "enum"),
            R"("OFF" is not one of ["off","heat","auto"])");
  EXPECT_EQ(Refusal(s, "1", "", "type"), "expected string, got integer");
}

TEST(Thermostat, ScheduleAcceptsAGoodWeek) {
  Schema s = MustCompile(ScheduleSchema());
  EXPECT_TRUE(Accepts(s, Week("[]")));
  EXPECT_TRUE(Accepts(
      s, Week(R"([{"time":"06:30","setpoint":21},{"time":"23:59","setpoint":5},
                 {"time":"00:00","setpoint":30}])")));
  std::string eight = "[";
  for (int i = 0; i < 8; ++i) {
    eight += std::string(i ? "," : "") + R"({"time":"1)" + std::to_string(i) +
             R"(:00","setpoint":20})";
  }
  EXPECT_TRUE(Accepts(s, Week(eight + "]")));
}

TEST(Thermostat, ScheduleRefusesBadValuesWithTheirPointer) {
  Schema s = MustCompile(ScheduleSchema());
  EXPECT_EQ(Refusal(s, Week(R"([{"time":"06:30","setpoint":21},
                             {"time":"08:00","setpoint":20},
                             {"time":"22:00","setpoint":31}])"),
                    "/mon/2/setpoint", "maximum"),
            "31 is greater than the maximum 30");
  EXPECT_EQ(Refusal(s, Week(R"([{"time":"24:00","setpoint":21}])"),
                    "/mon/0/time", "pattern"),
            "does not match pattern ^([01][0-9]|2[0-3]):[0-5][0-9]$");
  Refusal(s, Week(R"([{"time":"6:30","setpoint":21}])"), "/mon/0/time",
          "pattern");
  Refusal(s, Week(R"([{"time":"06:30 ","setpoint":21}])"), "/mon/0/time",
          "pattern");
  EXPECT_EQ(Refusal(s, Week(R"([{"time":"06:30"}])"), "/mon/0", "required"),
            "missing required property \"setpoint\"");
  EXPECT_EQ(Refusal(s, Week(R"([{"time":"06:30","setpoint":21,"eco":true}])"),
                    "/mon/0/eco", "additionalProperties"),
            "property \"eco\" is not allowed");
  EXPECT_EQ(Refusal(s, Week(R"([{"time":630,"setpoint":21}])"), "/mon/0/time",
                    "type"),
            "expected string, got integer");
  std::string nine = "[";
  for (int i = 0; i < 9; ++i) {
    nine += std::string(i ? "," : "") + R"({"time":"10:00","setpoint":20})";
  }
  EXPECT_EQ(Refusal(s, Week(nine + "]"), "/mon", "maxItems"),
            "more than 8 items");
  EXPECT_EQ(Refusal(s, R"({"mon":[],"tue":[],"wed":[],"thu":[],"fri":[],
                           "sat":[]})",
                    "", "required"),
            "missing required property \"sun\"");
  EXPECT_EQ(Refusal(s, R"({"mon":[],"tue":[],"wed":[],"thu":[],"fri":[],
                           "sat":[],"sun":[],"holiday":[]})",
                    "/holiday", "additionalProperties"),
            "property \"holiday\" is not allowed");
  EXPECT_EQ(Refusal(s, "[]", "", "type"), "expected object, got array");
}

// --- Keywords, one by one ---------------------------------------------------

TEST(Keyword, TypeNames) {
  struct Case {
    const char* type;
    const char* good;
    const char* bad;
    const char* got;
  };
  for (const Case& c : {Case{"null", "null", "0", "integer"},
                        Case{"boolean", "true", "null", "null"},
                        Case{"object", "{}", "[]", "array"},
                        Case{"array", "[]", "{}", "object"},
                        Case{"number", "1.5", "\"1\"", "string"},
                        Case{"string", "\"\"", "false", "boolean"},
                        Case{"integer", "-7", "7.5", "number"}}) {
    Schema s = MustCompile(std::string(R"({"type":")") + c.type + "\"}");
    EXPECT_TRUE(Accepts(s, c.good)) << c.type;
    EXPECT_EQ(Refusal(s, c.bad, "", "type"),
              std::string("expected ") + c.type + ", got " + c.got);
  }
}

TEST(Keyword, IntegerIncludesNumbersWithoutFraction) {
  Schema s = MustCompile(R"({"type":"integer"})");
  EXPECT_TRUE(Accepts(s, "5.0"));
  EXPECT_TRUE(Accepts(s, "-0.0"));
  EXPECT_TRUE(Accepts(s, "1e3"));
  EXPECT_TRUE(Accepts(s, "18446744073709551615"));
  EXPECT_EQ(Refusal(s, "5.5", "", "type"), "expected integer, got number");
  EXPECT_EQ(Refusal(s, "\"5\"", "", "type"), "expected integer, got string");
}

TEST(Keyword, NumberIncludesIntegers) {
  Schema s = MustCompile(R"({"type":"number"})");
  EXPECT_TRUE(Accepts(s, "5"));
  EXPECT_TRUE(Accepts(s, "-5"));
}

TEST(Keyword, TypeArray) {
  Schema s = MustCompile(R"({"type":["string","null"]})");
  EXPECT_TRUE(Accepts(s, "null"));
  EXPECT_TRUE(Accepts(s, "\"x\""));
  EXPECT_EQ(Refusal(s, "3", "", "type"),
            "expected string or null, got integer");
  Schema three = MustCompile(R"({"type":["string","number","boolean"]})");
  EXPECT_EQ(Refusal(three, "{}", "", "type"),
            "expected string, number or boolean, got object");
}

TEST(Keyword, Enum) {
  Schema s = MustCompile(R"({"enum":[1,"a",null,[1,2],{"k":true}]})");
  EXPECT_TRUE(Accepts(s, "1"));
  EXPECT_TRUE(Accepts(s, "1.0"));  // equal as numbers
  EXPECT_TRUE(Accepts(s, "\"a\""));
  EXPECT_TRUE(Accepts(s, "null"));
  EXPECT_TRUE(Accepts(s, "[1,2]"));
  EXPECT_TRUE(Accepts(s, "{\"k\":true}"));
  Refusal(s, "2", "", "enum");
  Refusal(s, "[2,1]", "", "enum");
  Refusal(s, "{\"k\":false}", "", "enum");
  Refusal(s, "true", "", "enum");
}

TEST(Keyword, Const) {
  Schema s = MustCompile(R"({"const":{"a":[1,2]}})");
  EXPECT_TRUE(Accepts(s, R"({"a":[1,2]})"));
  EXPECT_EQ(Refusal(s, R"({"a":[1]})", "", "const"),
            R"({"a":[1]} is not the constant {"a":[1,2]})");
  Schema null_const = MustCompile(R"({"const":null})");
  EXPECT_TRUE(Accepts(null_const, "null"));
  Refusal(null_const, "0", "", "const");
}

TEST(Keyword, MinimumAndMaximumAreInclusive) {
  Schema s = MustCompile(R"({"minimum":-1.5,"maximum":10})");
  EXPECT_TRUE(Accepts(s, "-1.5"));
  EXPECT_TRUE(Accepts(s, "10"));
  EXPECT_TRUE(Accepts(s, "\"strings are not numbers\""));
  EXPECT_EQ(Refusal(s, "-2", "", "minimum"),
            "-2 is less than the minimum -1.5");
  EXPECT_EQ(Refusal(s, "11", "", "maximum"),
            "11 is greater than the maximum 10");
}

TEST(Keyword, ExclusiveBounds) {
  Schema s = MustCompile(R"({"exclusiveMinimum":0,"exclusiveMaximum":1})");
  EXPECT_TRUE(Accepts(s, "0.5"));
  EXPECT_EQ(Refusal(s, "0", "", "exclusiveMinimum"),
            "0 is not greater than the exclusive minimum 0");
  EXPECT_EQ(Refusal(s, "1", "", "exclusiveMaximum"),
            "1 is not less than the exclusive maximum 1");
  Refusal(s, "-0.5", "", "exclusiveMinimum");
  Refusal(s, "1.0", "", "exclusiveMaximum");
}

TEST(Keyword, LargeIntegersCompareExactly) {
  // As doubles, 2^63 and 2^63 + 1 are equal; as integers they are not.
  Schema s = MustCompile(R"({"maximum":9223372036854775808})");
  EXPECT_TRUE(Accepts(s, "9223372036854775808"));
  EXPECT_EQ(Refusal(s, "9223372036854775809", "", "maximum"),
            "9223372036854775809 is greater than the maximum "
            "9223372036854775808");
  Schema neg = MustCompile(R"({"minimum":-9223372036854775807})");
  EXPECT_TRUE(Accepts(neg, "-9223372036854775807"));
  Refusal(neg, "-9223372036854775808", "", "minimum");
  Schema mixed =
      MustCompile(R"({"minimum":-1,"maximum":18446744073709551615})");
  EXPECT_TRUE(Accepts(mixed, "18446744073709551615"));
  EXPECT_TRUE(Accepts(mixed, "-1"));
  Refusal(mixed, "-2", "", "minimum");
}

TEST(Keyword, MultipleOfIntegers) {
  Schema s = MustCompile(R"({"multipleOf":5})");
  EXPECT_TRUE(Accepts(s, "0"));
  EXPECT_TRUE(Accepts(s, "-15"));
  EXPECT_TRUE(Accepts(s, "10.0"));
  Refusal(s, "-9223372036854775808", "", "multipleOf");  // exact, no overflow
  EXPECT_EQ(Refusal(s, "7", "", "multipleOf"), "7 is not a multiple of 5");
}

TEST(Keyword, MultipleOfDecimalsToleratesBinaryRounding) {
  Schema tenth = MustCompile(R"({"multipleOf":0.1})");
  EXPECT_TRUE(Accepts(tenth, "0.3"));
  EXPECT_TRUE(Accepts(tenth, "19.9"));
  EXPECT_TRUE(Accepts(tenth, "7"));
  Refusal(tenth, "0.35", "", "multipleOf");
  Schema cent = MustCompile(R"({"multipleOf":0.01})");
  EXPECT_TRUE(Accepts(cent, "19.99"));
  EXPECT_TRUE(Accepts(cent, "1234.56"));
  Refusal(cent, "19.999", "", "multipleOf");
  Schema half = MustCompile(R"({"multipleOf":0.5})");
  EXPECT_TRUE(Accepts(half, "21.5"));
  EXPECT_EQ(Refusal(half, "21.3", "", "multipleOf"),
            "21.3 is not a multiple of 0.5");
  Schema one = MustCompile(R"({"multipleOf":1})");
  Refusal(one, "1000000.001", "", "multipleOf");
  EXPECT_TRUE(Accepts(one, "1e308"));
  // A quotient that overflows to infinity is not a multiple.
  Schema tiny = MustCompile(R"({"multipleOf":1e-300})");
  Refusal(tiny, "1e300", "", "multipleOf");
}

TEST(Keyword, StringLengthCountsCodePoints) {
  Schema s = MustCompile(R"({"minLength":2,"maxLength":3})");
  EXPECT_TRUE(Accepts(s, "\"ab\""));
  EXPECT_TRUE(Accepts(s, "\"abc\""));
  EXPECT_TRUE(Accepts(s, "\"\xc3\xa9\xc3\xa9\xc3\xa9\""));  // 3 points, 6 bytes
  EXPECT_TRUE(Accepts(s, "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\""));  // 2 emoji
  EXPECT_TRUE(Accepts(s, "12345"));  // not a string
  EXPECT_EQ(Refusal(s, "\"a\"", "", "minLength"), "string is shorter than 2");
  EXPECT_EQ(Refusal(s, "\"\xf0\x9f\x98\x80\"", "", "minLength"),
            "string is shorter than 2");
  EXPECT_EQ(Refusal(s, "\"abcd\"", "", "maxLength"), "string is longer than 3");
}

TEST(Keyword, MaxLength32) {
  Schema s = MustCompile(R"({"maxLength":32})");
  EXPECT_TRUE(Accepts(s, "\"" + std::string(32, 'x') + "\""));
  EXPECT_EQ(Refusal(s, "\"" + std::string(33, 'x') + "\"", "", "maxLength"),
            "string is longer than 32");
}

TEST(Keyword, PatternSearchesUnanchored) {
  Schema anchored = MustCompile(R"({"pattern":"^[a-z]+$"})");
  EXPECT_TRUE(Accepts(anchored, "\"abc\""));
  EXPECT_EQ(Refusal(anchored, "\"abc1\"", "", "pattern"),
            "does not match pattern ^[a-z]+$");
  Schema loose = MustCompile(R"({"pattern":"[0-9]"})");
  EXPECT_TRUE(Accepts(loose, "\"abc1def\""));
  Refusal(loose, "\"abc\"", "", "pattern");
}

TEST(Keyword, PatternMatchesStringsOfAnyAllowedLength) {
  // Matching is linear, so no separate input bound is needed: a string as
  // long as the JSON limits allow is matched like a short one.
  Schema s = MustCompile(R"({"pattern":"^(a|b)*$"})");
  EXPECT_TRUE(Accepts(s, "\"" + std::string(8000, 'a') + "\""));
  Refusal(s, "\"" + std::string(8000, 'a') + "c\"", "", "pattern");
}

TEST(Keyword, PatternKeepsSearchSemantics) {
  struct Case {
    const char* pattern;
    const char* value;
    bool match;
  };
  for (const Case& c :
       {Case{"^abc", "xabc", false}, Case{"^abc", "abcx", true},
        Case{"abc$", "xxabc", true}, Case{"abc$", "abcx", false},
        Case{"b", "abc", true}, Case{"a|^z", "ba", true},
        Case{"^z|q", "az", false}, Case{"^$", "", true}, Case{"x*", "", true},
        Case{"\\d{3}", "ab123", true}, Case{"^[a-z]+[0-9]?$", "abc1", true},
        Case{"colou?r", "color", true}, Case{"café$", "un café", true},
        Case{"^.$", "é", true}, Case{"\\bcat\\b", "a cat!", true},
        Case{"\\bcat\\b", "concat", false}}) {
    Result<Schema> s = Schema::Compile(Json{{"pattern", c.pattern}});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    std::optional<Violation> v = s->Check(Json(c.value));
    EXPECT_EQ(!v.has_value(), c.match) << c.pattern << " on " << c.value;
  }
}

TEST(Keyword, PatternsWithCatastrophicBacktrackingFinish) {
  // A backtracking matcher takes exponential or high-polynomial time on
  // these; the check must still come back (a hang fails under ctest's
  // timeout).
  std::string input = std::string(1024, 'a');
  for (const char* pattern :
       {"(a*)*b", "a*a*a*a*a*a*b", "(a|aa)*b", "^(a+)+$", "(a|a?)+b"}) {
    Schema s = MustCompile(std::string(R"({"pattern":")") + pattern + "\"}");
    Refusal(s, Json(input + "!").dump(), "", "pattern");
  }
}

TEST(Keyword, Required) {
  Schema s = MustCompile(R"({"required":["mode","setpoint"]})");
  EXPECT_TRUE(Accepts(s, R"({"mode":"off","setpoint":20,"x":1})"));
  EXPECT_TRUE(Accepts(s, "[]"));  // only applies to objects
  EXPECT_EQ(Refusal(s, R"({"setpoint":20})", "", "required"),
            "missing required property \"mode\"");
  EXPECT_EQ(Refusal(s, R"({"mode":null})", "", "required"),
            "missing required property \"setpoint\"");
  // The missing member is named, so a reply can point at it.
  EXPECT_EQ(s.Check(Parse(R"({"mode":null})"))->missing, "setpoint");
}

TEST(Keyword, PropertiesAndAdditionalProperties) {
  Schema open = MustCompile(R"({"properties":{"a":{"type":"integer"}}})");
  EXPECT_TRUE(Accepts(open, R"({"a":1,"b":"anything"})"));
  EXPECT_TRUE(Accepts(open, R"({})"));
  EXPECT_EQ(Refusal(open, R"({"a":"1"})", "/a", "type"),
            "expected integer, got string");

  Schema closed =
      MustCompile(R"({"properties":{"a":true},"additionalProperties":false})");
  EXPECT_TRUE(Accepts(closed, R"({"a":[1]})"));
  EXPECT_EQ(
      Refusal(closed, R"({"a":1,"foo":2})", "/foo", "additionalProperties"),
      "property \"foo\" is not allowed");

  Schema typed = MustCompile(
      R"({"properties":{"a":true},"additionalProperties":{"type":"string"}})");
  EXPECT_TRUE(Accepts(typed, R"({"a":1,"b":"x"})"));
  EXPECT_EQ(Refusal(typed, R"({"a":1,"b":2})", "/b", "type"),
            "expected string, got integer");

  Schema allow = MustCompile(R"({"additionalProperties":true})");
  EXPECT_TRUE(Accepts(allow, R"({"z":1})"));
}

TEST(Keyword, FalseSubschemaRefusesAnyValue) {
  Schema s = MustCompile(R"({"properties":{"secret":false}})");
  EXPECT_TRUE(Accepts(s, R"({"other":1})"));
  Refusal(s, R"({"secret":null})", "/secret", "false");
}

TEST(Keyword, MinAndMaxProperties) {
  Schema s = MustCompile(R"({"minProperties":1,"maxProperties":2})");
  EXPECT_TRUE(Accepts(s, R"({"a":1})"));
  EXPECT_TRUE(Accepts(s, R"({"a":1,"b":2})"));
  EXPECT_EQ(Refusal(s, "{}", "", "minProperties"), "fewer than 1 properties");
  EXPECT_EQ(Refusal(s, R"({"a":1,"b":2,"c":3})", "", "maxProperties"),
            "more than 2 properties");
}

TEST(Keyword, ItemsAndItemCounts) {
  Schema s = MustCompile(R"({"items":{"type":"integer"},"minItems":1,
                              "maxItems":7})");
  EXPECT_TRUE(Accepts(s, "[1]"));
  EXPECT_TRUE(Accepts(s, "[1,2,3,4,5,6,7]"));
  EXPECT_EQ(Refusal(s, "[]", "", "minItems"), "fewer than 1 items");
  EXPECT_EQ(Refusal(s, "[1,2,3,4,5,6,7,8]", "", "maxItems"),
            "more than 7 items");
  EXPECT_EQ(Refusal(s, "[1,2,\"3\"]", "/2", "type"),
            "expected integer, got string");
  Schema none = MustCompile(R"({"items":false})");
  EXPECT_TRUE(Accepts(none, "[]"));
  Refusal(none, "[0]", "/0", "false");
}

TEST(Keyword, UniqueItems) {
  Schema s = MustCompile(R"({"uniqueItems":true})");
  EXPECT_TRUE(Accepts(s, R"([1,2,"1",[1],{"a":1},{"a":2}])"));
  EXPECT_EQ(Refusal(s, R"([1,2,1.0])", "/2", "uniqueItems"),
            "items 0 and 2 are equal");
  Refusal(s, R"([{"a":[1]},{"a":[1]}])", "/1", "uniqueItems");
  Schema off = MustCompile(R"({"uniqueItems":false})");
  EXPECT_TRUE(Accepts(off, "[1,1]"));
}

TEST(Keyword, AnnotationsHaveNoEffect) {
  Schema s = MustCompile(
      R"({"title":"t","description":"d","$comment":"c","default":{"x":1}})");
  EXPECT_TRUE(Accepts(s, "17"));
}

TEST(Keyword, BooleanSchemas) {
  EXPECT_TRUE(Accepts(MustCompile("true"), R"({"anything":[1]})"));
  EXPECT_EQ(Refusal(MustCompile("false"), "1", "", "false"),
            "no value is allowed here");
}

TEST(Pointer, EscapesTildeAndSlash) {
  Schema s = MustCompile(R"({"additionalProperties":{"type":"integer"}})");
  Refusal(s, R"({"a/b~c":"x"})", "/a~1b~0c", "type");
  Schema nested = MustCompile(
      R"({"properties":{"~":{"items":{"properties":{"/":{"type":"null"}}}}}})");
  Refusal(nested, R"({"~":[null,{"/":1}]})", "/~0/1/~1", "type");
}

TEST(Check, ReportsTheFirstViolationInDocumentOrder) {
  Schema s = MustCompile(R"({"additionalProperties":{"maximum":1}})");
  // Members are visited in key order; both b and c are too large.
  Refusal(s, R"({"c":5,"a":0,"b":3})", "/b", "maximum");
}

TEST(Check, JsonReturnsTheSchemaAsGiven) {
  Json doc = Parse(kSetpoint);
  Result<Schema> s = Schema::Compile(doc);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->json(), doc);
  Schema copy = *s;
  EXPECT_EQ(copy.json(), doc);
  EXPECT_EQ(copy.Check(Json(31))->rule, "maximum");
}

// --- Compile refusals -------------------------------------------------------

TEST(Compile, RefusesUnknownKeywordsNamingTheLocation) {
  EXPECT_EQ(CompileError(R"({"maximun":30})"),
            "unknown keyword \"maximun\" at #");
  EXPECT_EQ(
      CompileError(R"({"properties":{"mode":{"type":"string","enun":[]}}})"),
      "unknown keyword \"enun\" at #/properties/mode");
  EXPECT_EQ(CompileError(R"({"items":{"$ref":"#"}})"),
            "unknown keyword \"$ref\" at #/items");
  EXPECT_NE(CompileError(R"({"oneOf":[true]})"), "");
  EXPECT_NE(CompileError(R"({"format":"email"})"), "");
}

TEST(Compile, RefusesBadRegex) {
  std::string e = CompileError(R"({"pattern":"([a-z]"})");
  EXPECT_NE(e.find("keyword \"pattern\" at # is not a valid regular"),
            std::string::npos)
      << e;
  EXPECT_NE(CompileError(R"({"pattern":"[z-a]"})"), "");
  EXPECT_NE(CompileError(R"({"pattern":"*"})"), "");
  EXPECT_NE(CompileError(R"({"pattern":"a{2,1}"})"), "");
}

TEST(Compile, RefusesPatternsThatExpandTooMuch) {
  EXPECT_NE(
      CompileError(R"({"pattern":"(a{1,100}){1,100}b"})").find("too complex"),
      std::string::npos);
  EXPECT_NE(CompileError(R"({"pattern":"((a{1,30}){1,30}){1,30}"})"), "");
  EXPECT_NE(CompileError(R"({"pattern":"[a-z]{5000}"})"), "");
  // Ordinary patterns, counted repetition included, are fine.
  for (const char* ok :
       {"^[a-z][a-z0-9_]{0,31}$", "^[0-9a-f]{64}$", "^.{0,1000}$",
        "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "^([01][0-9]|2[0-3]):[0-5][0-9]$",
        "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$"}) {
    Result<Schema> s = Schema::Compile(Json{{"pattern", ok}});
    EXPECT_TRUE(s.ok()) << ok << ": " << s.status().ToString();
  }
}

TEST(Compile, RefusesWhatCannotBeMatchedInLinearTime) {
  // Back-references and lookaround need backtracking; RE2 refuses them,
  // and the message says why.
  for (const char* pattern : {"^(a+)\\1$", "^(?=.*[A-Z]).{8,}$", "a(?!b)"}) {
    Result<Schema> compiled = Schema::Compile(Json{{"pattern", pattern}});
    ASSERT_FALSE(compiled.ok()) << pattern;
    std::string e = compiled.status().message();
    EXPECT_NE(e.find("no lookaround, no back-references"), std::string::npos)
        << pattern << ": " << e;
  }
}

TEST(Compile, PatternLengthLimit) {
  SchemaLimits limits;
  limits.max_pattern_length = 8;
  EXPECT_EQ(CompileError(R"({"pattern":"^[a-z]+$"})", limits), "");
  EXPECT_NE(
      CompileError(R"({"pattern":"^[a-z]+$$"})", limits).find("longer than 8"),
      std::string::npos);
}

TEST(Compile, RefusesWrongKeywordTypes) {
  struct Case {
    const char* schema;
    const char* keyword;
  };
  for (const Case& c : {
           Case{R"({"minimum":"5"})", "minimum"},
           Case{R"({"maximum":null})", "maximum"},
           Case{R"({"exclusiveMinimum":true})", "exclusiveMinimum"},
           Case{R"({"exclusiveMaximum":[1]})", "exclusiveMaximum"},
           Case{R"({"multipleOf":0})", "multipleOf"},
           Case{R"({"multipleOf":-2})", "multipleOf"},
           Case{R"({"minLength":-1})", "minLength"},
           Case{R"({"maxLength":1.5})", "maxLength"},
           Case{R"({"minItems":"1"})", "minItems"},
           Case{R"({"maxItems":true})", "maxItems"},
           Case{R"({"minProperties":-3})", "minProperties"},
           Case{R"({"maxProperties":{}})", "maxProperties"},
           Case{R"({"pattern":5})", "pattern"},
           Case{R"({"required":"mode"})", "required"},
           Case{R"({"required":["a",1]})", "required"},
           Case{R"({"required":["a","a"]})", "required"},
           Case{R"({"type":"float"})", "type"},
           Case{R"({"type":[]})", "type"},
           Case{R"({"type":["string","string"]})", "type"},
           Case{R"({"type":5})", "type"},
           Case{R"({"enum":[]})", "enum"},
           Case{R"({"enum":"off"})", "enum"},
           Case{R"({"properties":[]})", "properties"},
           Case{R"({"items":[{"type":"string"}]})", "items"},
           Case{R"({"uniqueItems":"yes"})", "uniqueItems"},
           Case{R"({"description":7})", "description"},
           Case{R"({"title":null})", "title"},
           Case{R"({"$comment":[]})", "$comment"},
       }) {
    std::string e = CompileError(c.schema);
    EXPECT_EQ(e.rfind(std::string("keyword \"") + c.keyword + "\" at #", 0), 0u)
        << c.schema << " -> " << e;
  }
  EXPECT_NE(CompileError(R"({"additionalProperties":"no"})"), "");
  EXPECT_NE(CompileError(R"({"properties":{"a":1}})"), "");
  EXPECT_NE(CompileError("5"), "");
  EXPECT_NE(CompileError("[]"), "");
  EXPECT_NE(CompileError("null"), "");
}

TEST(Compile, AcceptsIntegralFloatCounts) {
  Schema s = MustCompile(R"({"maxLength":2.0})");
  Refusal(s, "\"abc\"", "", "maxLength");
}

std::string NestedSchema(int depth) {
  std::string s = "true";
  for (int i = 1; i < depth; ++i) s = R"({"items":)" + s + "}";
  return s;
}

TEST(Compile, DepthLimitAtAndOverTheBound) {
  EXPECT_EQ(CompileError(NestedSchema(8)), "");
  std::string e = CompileError(NestedSchema(9));
  EXPECT_NE(e.find("nested deeper than 8"), std::string::npos) << e;
  EXPECT_NE(e.find("#/items/items/items/items/items/items/items/items"),
            std::string::npos)
      << e;
  SchemaLimits limits;
  limits.max_depth = 2;
  EXPECT_EQ(CompileError(R"({"properties":{"a":{"type":"string"}}})", limits),
            "");
  EXPECT_NE(CompileError(R"({"properties":{"a":{"items":true}}})", limits), "");
}

TEST(Compile, KeywordCountLimitAtAndOverTheBound) {
  SchemaLimits limits;
  limits.max_keywords = 3;
  EXPECT_EQ(
      CompileError(R"({"type":"object","properties":{"a":{"minimum":1}}})",
                   limits),
      "");
  std::string e = CompileError(
      R"({"type":"object","properties":{"a":{"minimum":1,"maximum":2}}})",
      limits);
  EXPECT_NE(e.find("more than 3 keywords"), std::string::npos) << e;
}

TEST(Compile, DefaultKeywordLimitIs256) {
  std::string s = R"({"properties":{)";
  for (int i = 0; i < 256; ++i) {
    s += std::string(i ? "," : "") + "\"p" + std::to_string(i) +
         R"(":{"type":"null"})";
  }
  s += "}}";
  // 1 (properties) + 256 (type) keywords.
  EXPECT_NE(CompileError(s).find("more than 256 keywords"), std::string::npos);
}

}  // namespace
}  // namespace warden::schema
