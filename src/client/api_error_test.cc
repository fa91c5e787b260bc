// Reading device replies: limits, error bodies and what reaches the
// owner's terminal. The same code reads replies from a real device in
// tests/client.
#include "client/api_error.h"

#include <gtest/gtest.h>

#include <string>

namespace warden::client {
namespace {

std::string Reply(const std::string& status_line, const std::string& body,
                  const std::string& headers = "") {
  return "HTTP/1.1 " + status_line + "\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(ReplyTest, ErrorBodiesBecomeOneLineStatuses) {
  Result<web::Response> r = ParseReply(
      Reply("400 Bad Request",
            R"({"error":{"code":"invalid_argument","message":"40 is greater )"
            R"(than the maximum 30","field":"/value","rule":"maximum"}})"),
      web::DeviceReplyLimits());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Status st = StatusFromResponse(*r, "device refused setpoint");
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "device refused setpoint: /value: 40 is greater than the maximum "
            "30 (maximum)");

  Result<web::Response> throttled = ParseReply(
      Reply("429 Too Many Requests", R"({"error":{"message":"slow down"}})",
            "Retry-After: 30\r\n"),
      web::DeviceReplyLimits());
  ASSERT_TRUE(throttled.ok());
  Status t = StatusFromResponse(*throttled, "pairing refused");
  EXPECT_EQ(t.code(), Code::kResourceExhausted);
  EXPECT_EQ(t.message(), "pairing refused: slow down; retry after 30 s");

  Result<web::Response> bare =
      ParseReply(Reply("502 Bad Gateway", "<html>"), web::DeviceReplyLimits());
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(StatusFromResponse(*bare, "x").ToString(),
            Status(Code::kInternal, "x: HTTP status 502").ToString());
  EXPECT_TRUE(StatusFromResponse(*ParseReply(Reply("204 No Content", ""),
                                             web::DeviceReplyLimits()),
                                 "x")
                  .ok());
}

TEST(ReplyTest, DeviceTextCannotReachTheTerminalRaw) {
  Result<web::Response> r = ParseReply(
      Reply(
          "409 Conflict",
          "{\"error\":{\"message\":\"a\\u001b[2Jb\\u0007\",\"rule\":\"\\n\"}}"),
      web::DeviceReplyLimits());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Status st = StatusFromResponse(*r, "device refused \x1b[1m");
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_EQ(st.message(), "device refused ?[1m: a?[2Jb? (?)");
}

TEST(ReplyTest, RepliesOverTheLimitsAreRefused) {
  web::HttpLimits limits = web::DeviceReplyLimits();
  limits.body_bytes = 100;
  limits.header_bytes = 200;
  limits.header_fields = 3;
  // Announced too long: refused from the header alone.
  EXPECT_EQ(ParseReply("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", limits)
                .status()
                .code(),
            Code::kResourceExhausted);
  // Chunked past the limit.
  std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 11; ++i) chunked += "a\r\n0123456789\r\n";
  chunked += "0\r\n\r\n";
  EXPECT_EQ(ParseReply(chunked, limits).status().code(),
            Code::kResourceExhausted);
  // Header bytes and header fields.
  EXPECT_EQ(ParseReply(
                Reply("200 OK", "{}", "X-A: " + std::string(300, 'a') + "\r\n"),
                limits)
                .status()
                .code(),
            Code::kResourceExhausted);
  EXPECT_EQ(
      ParseReply(Reply("200 OK", "{}", "A: 1\r\nB: 2\r\nC: 3\r\n"), limits)
          .status()
          .code(),
      Code::kResourceExhausted);
  // Within every limit.
  EXPECT_TRUE(
      ParseReply(Reply("200 OK", std::string(100, ' '), "A: 1\r\n"), limits)
          .ok());
  // The JSON limits apply to the body too.
  limits.json.max_depth = 2;
  Result<web::Response> deep = ParseReply(Reply("200 OK", "[[[1]]]"), limits);
  ASSERT_TRUE(deep.ok());
  EXPECT_EQ(ReplyJson(*deep, limits).status().code(), Code::kUnavailable);
}

TEST(ReplyTest, IncompleteOrMalformedRepliesAreUnavailable) {
  for (const char* wire :
       {"", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        "HTTP/1.1 abc\r\n\r\n", "SSH-2.0-OpenSSH\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: "
        "2\r\n\r\nab"}) {
    SCOPED_TRACE(wire);
    EXPECT_EQ(ParseReply(wire, web::DeviceReplyLimits()).status().code(),
              Code::kUnavailable);
  }
}

}  // namespace
}  // namespace warden::client
