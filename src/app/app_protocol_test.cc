#include "app/app_protocol.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace warden::app {
namespace {

using schema::Json;

Json Cap(const std::string& key, Json schema = {{"type", "number"}}) {
  return {{"key", key},
          {"description", "d"},
          {"writable", true},
          {"schema", std::move(schema)}};
}

Json Hello(Json caps) {
  return {{"type", "hello"},
          {"protocol", 1},
          {"app", "thermostat"},
          {"version", "1.0"},
          {"capabilities", std::move(caps)}};
}

TEST(ParseAppMessageTest, AcceptsValidHello) {
  Result<AppMessage> m = ParseAppMessage(
      Hello(Json::array({Cap("setpoint"), Cap("mode_2")})).dump());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& hello = std::get<HelloMessage>(*m);
  EXPECT_EQ(hello.app, "thermostat");
  EXPECT_EQ(hello.version, "1.0");
  ASSERT_EQ(hello.capabilities.size(), 2u);
  EXPECT_EQ(hello.capabilities[0].key, "setpoint");
  EXPECT_TRUE(hello.capabilities[0].writable);
  // The compiled schema is the declared one.
  EXPECT_FALSE(hello.capabilities[0].schema.Check(21.5));
  EXPECT_TRUE(hello.capabilities[0].schema.Check("warm"));
}

TEST(ParseAppMessageTest, AcceptsStateAndResults) {
  Result<AppMessage> state = ParseAppMessage(
      R"({"type":"state","key":"setpoint","value":[1,{"a":2}]})");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(std::get<StateMessage>(*state).key, "setpoint");
  EXPECT_EQ(std::get<StateMessage>(*state).value,
            Json::parse(R"([1,{"a":2}])"));

  Result<AppMessage> ok =
      ParseAppMessage(R"({"type":"result","id":9,"ok":true})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(std::get<ResultMessage>(*ok).id, 9u);
  EXPECT_TRUE(std::get<ResultMessage>(*ok).ok);

  Result<AppMessage> refused = ParseAppMessage(
      R"({"type":"result","id":3,"ok":false,"error":"too cold"})");
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(std::get<ResultMessage>(*refused).ok);
  EXPECT_EQ(std::get<ResultMessage>(*refused).error, "too cold");
}

TEST(ParseAppMessageTest, AcceptsLimits) {
  Json caps = Json::array();
  for (int i = 0; i < 64; ++i) caps.push_back(Cap("k" + std::to_string(i)));
  EXPECT_TRUE(ParseAppMessage(Hello(caps).dump()).ok());
  // 32 characters is the longest key.
  EXPECT_TRUE(
      ParseAppMessage(Hello(Json::array({Cap(std::string(32, 'a'))})).dump())
          .ok());
}

struct RejectCase {
  const char* name;
  std::string payload;
  Code code;
};

std::string WithCap(Json cap) {
  return Hello(Json::array({std::move(cap)})).dump();
}

TEST(ParseAppMessageTest, RejectsInvalidMessages) {
  // Each case below breaks one thing of this valid message.
  ASSERT_TRUE(ParseAppMessage(WithCap(Cap("a"))).ok());
  Json too_many = Json::array();
  for (int i = 0; i < 65; ++i) too_many.push_back(Cap("k" + std::to_string(i)));
  Json extra_cap = Cap("a");
  extra_cap["unit"] = "C";
  Json missing_writable = Cap("a");
  missing_writable.erase("writable");
  Json hello_extra = Hello(Json::array({Cap("a")}));
  hello_extra["debug"] = true;
  Json hello_v2 = Hello(Json::array({Cap("a")}));
  hello_v2["protocol"] = 2;
  Json empty_app = Hello(Json::array({Cap("a")}));
  empty_app["app"] = "";
  std::string deep = std::string(40, '[') + std::string(40, ']');

  const RejectCase cases[] = {
      {"not an object", "[1,2]", Code::kInvalidArgument},
      {"no type", R"({"key":"a","value":1})", Code::kInvalidArgument},
      {"type not string", R"({"type":1})", Code::kInvalidArgument},
      {"unknown type", R"({"type":"welcome","protocol":1})",
       Code::kInvalidArgument},
      {"uppercase key", WithCap(Cap("Setpoint")), Code::kInvalidArgument},
      {"key with dash", WithCap(Cap("set-point")), Code::kInvalidArgument},
      {"key starting with digit", WithCap(Cap("1a")), Code::kInvalidArgument},
      {"key too long", WithCap(Cap(std::string(33, 'a'))),
       Code::kInvalidArgument},
      {"empty key", WithCap(Cap("")), Code::kInvalidArgument},
      {"duplicate keys", Hello(Json::array({Cap("a"), Cap("a")})).dump(),
       Code::kInvalidArgument},
      {"65 capabilities", Hello(too_many).dump(), Code::kInvalidArgument},
      {"schema does not compile", WithCap(Cap("a", {{"frobnicate", 1}})),
       Code::kInvalidArgument},
      {"schema not an object", WithCap(Cap("a", true)), Code::kInvalidArgument},
      {"unknown capability field", WithCap(extra_cap), Code::kInvalidArgument},
      {"missing writable", WithCap(missing_writable), Code::kInvalidArgument},
      {"unknown hello field", hello_extra.dump(), Code::kInvalidArgument},
      {"protocol 2", hello_v2.dump(), Code::kInvalidArgument},
      {"empty app name", empty_app.dump(), Code::kInvalidArgument},
      {"capabilities not array",
       R"({"type":"hello","protocol":1,"app":"a","version":"1","capabilities":{}})",
       Code::kInvalidArgument},
      {"state without value", R"({"type":"state","key":"a"})",
       Code::kInvalidArgument},
      {"state bad key", R"({"type":"state","key":"A","value":1})",
       Code::kInvalidArgument},
      {"state extra field", R"({"type":"state","key":"a","value":1,"x":1})",
       Code::kInvalidArgument},
      {"result negative id", R"({"type":"result","id":-1,"ok":true})",
       Code::kInvalidArgument},
      {"result string id", R"({"type":"result","id":"1","ok":true})",
       Code::kInvalidArgument},
      {"result ok with error",
       R"({"type":"result","id":1,"ok":true,"error":"x"})",
       Code::kInvalidArgument},
      {"result refused without reason",
       R"({"type":"result","id":1,"ok":false})", Code::kInvalidArgument},
      {"duplicate member",
       R"({"type":"state","type":"state","key":"a","value":1})",
       Code::kInvalidArgument},
      {"too deep", R"({"type":"state","key":"a","value":)" + deep + "}",
       Code::kInvalidArgument},
      {"not JSON", "{\"type\":", Code::kDataLoss},
      {"garbage", "hello", Code::kDataLoss},
      {"invalid UTF-8", "{\"type\":\"state\",\"key\":\"a\",\"value\":\"\xff\"}",
       Code::kDataLoss},
      {"oversized", std::string(kMaxFrameSize + 1, ' '), Code::kDataLoss},
  };
  for (const auto& c : cases) {
    Result<AppMessage> m = ParseAppMessage(c.payload);
    ASSERT_FALSE(m.ok()) << c.name;
    EXPECT_EQ(m.status().code(), c.code)
        << c.name << ": " << m.status().ToString();
  }
}

TEST(FrameTest, HeaderLimits) {
  Result<uint32_t> ok = ParseFrameHeader({0, 1, 0, 0});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 65536u);
  EXPECT_EQ(ParseFrameHeader({0, 1, 0, 1}).status().code(), Code::kDataLoss);
  EXPECT_EQ(ParseFrameHeader({0xff, 0xff, 0xff, 0xff}).status().code(),
            Code::kDataLoss);
  EXPECT_EQ(ParseFrameHeader({0, 0, 0, 0}).status().code(), Code::kDataLoss);
}

TEST(FrameTest, EncodeRoundTripsAndRefusesOversized) {
  Result<std::string> frame = EncodeMessage({{"type", "welcome"}});
  ASSERT_TRUE(frame.ok());
  std::array<uint8_t, 4> header;
  std::copy_n(frame->begin(), 4, header.begin());
  Result<uint32_t> n = ParseFrameHeader(header);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(frame->substr(4), R"({"type":"welcome"})");
  EXPECT_EQ(*n, frame->size() - 4);
  EXPECT_FALSE(EncodeFrame(std::string(kMaxFrameSize + 1, 'x')).ok());
  EXPECT_TRUE(EncodeFrame(std::string(kMaxFrameSize, 'x')).ok());
}

Json Kind(const std::string& name) {
  return {{"name", name},
          {"category", "usage"},
          {"purpose", "p"},
          {"retention_seconds", 60},
          {"may_leave_device", false}};
}

TEST(ParseAppMessageTest, AcceptsDataDeclarationsInHello) {
  Json hello = Hello(Json::array());
  hello["data"] = Json::array({Kind("schedule"), Kind("temperature_2")});
  Result<AppMessage> m = ParseAppMessage(hello.dump());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& data = std::get<HelloMessage>(*m).data;
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0], (DataKind{"schedule", "usage", "p", 60, false}));
}

TEST(ParseAppMessageTest, RefusesBadDataDeclarationsInHello) {
  for (Json kinds :
       {Json::array({Kind("a"), Kind("a")}), Json::array({Kind("Bad-Name")}),
        Json::array({Kind(std::string(33, 'a'))}), Json("x")}) {
    Json hello = Hello(Json::array());
    hello["data"] = kinds;
    EXPECT_EQ(ParseAppMessage(hello.dump()).status().code(),
              Code::kInvalidArgument)
        << kinds.dump();
  }
  Json too_many = Json::array();
  for (int i = 0; i <= 32; ++i)
    too_many.push_back(Kind("k" + std::to_string(i)));
  Json hello = Hello(Json::array());
  hello["data"] = too_many;
  EXPECT_EQ(ParseAppMessage(hello.dump()).status().code(),
            Code::kInvalidArgument);
  Json extra = Kind("a");
  extra["shared_with"] = "everyone";
  hello["data"] = Json::array({extra});
  EXPECT_EQ(ParseAppMessage(hello.dump()).status().code(),
            Code::kInvalidArgument);
}

TEST(ParseAppMessageTest, AcceptsDataRequests) {
  auto parse = [](const Json& j) {
    Result<AppMessage> m = ParseAppMessage(j.dump());
    EXPECT_TRUE(m.ok()) << j.dump();
    return std::get<DataRequest>(*m);
  };
  DataRequest w = parse(
      {{"type", "data_write"}, {"id", 4}, {"kind", "notes"}, {"value", "x"}});
  EXPECT_EQ(w.op, DataOp::kWrite);
  EXPECT_EQ(w.id, 4u);
  EXPECT_EQ(w.value, "x");
  EXPECT_TRUE(w.refusal.empty());
  DataRequest r = parse(
      {{"type", "data_read"}, {"id", 5}, {"kind", "notes"}, {"record", 9}});
  EXPECT_EQ(r.op, DataOp::kRead);
  EXPECT_EQ(r.record, 9);
  DataRequest l = parse({{"type", "data_list"}, {"id", 6}, {"kind", "notes"}});
  EXPECT_EQ(l.limit, kMaxDataListLimit);
  EXPECT_EQ(l.after, 0);
  DataRequest d = parse({{"type", "data_delete_all"}, {"id", 7}});
  EXPECT_EQ(d.op, DataOp::kDeleteAll);
  DataRequest k = parse(
      {{"type", "data_declare"}, {"id", 8}, {"kinds", {Kind("history")}}});
  ASSERT_EQ(k.kinds.size(), 1u);
  EXPECT_EQ(k.kinds[0].name, "history");
  // The largest value fits.
  DataRequest big = parse({{"type", "data_write"},
                           {"id", 1},
                           {"kind", "notes"},
                           {"value", std::string(kMaxDataValueSize, 'v')}});
  EXPECT_TRUE(big.refusal.empty());
}

TEST(ParseAppMessageTest, InvalidDataRequestsAreRefusedByTheirId) {
  for (Json j : std::vector<Json>{
           {{"type", "data_write"}, {"id", 3}, {"kind", "notes"}},
           {{"type", "data_write"}, {"id", 3}, {"kind", "n"}, {"value", 1}},
           {{"type", "data_write"}, {"id", 3}, {"kind", "No"}, {"value", "x"}},
           {{"type", "data_read"}, {"id", 3}, {"kind", "n"}, {"record", 0}},
           {{"type", "data_read"}, {"id", 3}, {"kind", "n"}, {"record", -1}},
           {{"type", "data_list"}, {"id", 3}, {"kind", "n"}, {"limit", 257}},
           {{"type", "data_erase"}, {"id", 3}, {"kind", "n"}},
           {{"type", "data_delete_all"}, {"id", 3}, {"everything", true}},
           {{"type", "data_declare"}, {"id", 3}, {"kinds", {Kind("A")}}}}) {
    Result<AppMessage> m = ParseAppMessage(j.dump());
    ASSERT_TRUE(m.ok()) << j.dump();
    const auto& request = std::get<DataRequest>(*m);
    EXPECT_EQ(request.id, 3u) << j.dump();
    EXPECT_FALSE(request.refusal.empty()) << j.dump();
  }
  // Without a usable id there is nothing to answer: a plain refusal.
  EXPECT_EQ(ParseAppMessage(R"({"type":"data_write","id":-1})").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ParseAppMessage(R"({"type":"data_delete_all"})").status().code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace warden::app
