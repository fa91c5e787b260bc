#include "assess/input_probes.h"

#include <gtest/gtest.h>

namespace warden::assess {
namespace {

MalformedOutcome Outcome(std::string_view received, bool closed,
                         bool timed_out = false, bool healthy = true) {
  MalformedOutcome o;
  o.name = "oversized header field";
  o.received = Bytes(received.begin(), received.end());
  o.closed = closed;
  o.timed_out = timed_out;
  o.healthy_after = healthy;
  o.health = healthy ? "GET / answered HTTP 200" : "GET / not answered";
  return o;
}

TEST(InputProbes, RepliesAreClassified) {
  using P = InputProtocol;
  EXPECT_EQ(JudgeReply(P::kHttp, Outcome("HTTP/1.1 431 Too Large\r\n"
                                         "Content-Length: 0\r\n\r\n",
                                         false)),
            "sane");
  EXPECT_EQ(JudgeReply(P::kHttp, Outcome("HTTP/1.1 200 OK\r\n"
                                         "Content-Length: 0\r\n\r\n",
                                         true)),
            "accepted");
  EXPECT_EQ(JudgeReply(P::kHttp, Outcome("", true)), "sane");
  EXPECT_EQ(JudgeReply(P::kHttp, Outcome("", false, true)), "hung");
  EXPECT_EQ(JudgeReply(P::kHttp, Outcome("garbage", false)), "unexpected");
  EXPECT_EQ(JudgeReply(
                P::kTls,
                Outcome(std::string("\x15\x03\x03\x00\x02\x02\x32", 7), false)),
            "sane");
  EXPECT_EQ(
      JudgeReply(P::kMqtt, Outcome(std::string("\x20\x02\x00\x05", 4), false)),
      "sane");
  EXPECT_EQ(
      JudgeReply(P::kMqtt, Outcome(std::string("\x20\x02\x00\x00", 4), false)),
      "accepted");
}

TEST(InputProbes, HangOrDeathAfterAProbeFails) {
  InputFacts f;
  f.port = 8080;
  f.protocol = InputProtocol::kHttp;
  f.healthy_before = true;
  f.health_before = "GET / answered HTTP 200";
  f.outcomes = {Outcome("HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n", true)};
  TestUnit u = JudgeInput(f);
  EXPECT_EQ(u.id, "input.8080.http");
  EXPECT_EQ(u.guideline, 13);
  EXPECT_EQ(u.verdict, Verdict::kPass) << u.finding;

  f.outcomes.push_back(Outcome("", false, true));
  u = JudgeInput(f);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("neither answered nor closed"), std::string::npos);

  f.outcomes = {Outcome("", true, false, false)};
  u = JudgeInput(f);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("stopped serving"), std::string::npos);

  f.healthy_before = false;
  EXPECT_EQ(JudgeInput(f).verdict, Verdict::kInconclusive);
}

}  // namespace
}  // namespace warden::assess
