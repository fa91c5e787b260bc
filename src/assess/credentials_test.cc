#include "assess/credentials.h"

#include <gtest/gtest.h>

namespace warden::assess {
namespace {

ByteView B(std::string_view s) { return AsBytes(s); }

TEST(Credentials, ShippedListIsMiraisSixtyPairs) {
  const std::vector<CredentialPair>& list = ShippedCredentials();
  ASSERT_EQ(list.size(), 60u);
  EXPECT_EQ(list[0].user, "root");
  EXPECT_EQ(list[0].password, "xc3511");
  bool admin_admin = false, root_empty = false;
  for (const CredentialPair& p : list) {
    admin_admin = admin_admin || (p.user == "admin" && p.password == "admin");
    root_empty = root_empty || (p.user == "root" && p.password.empty());
  }
  EXPECT_TRUE(admin_admin);
  EXPECT_TRUE(root_empty);
}

TEST(Credentials, ListParserIsBounded) {
  EXPECT_FALSE(ParseCredentialList("root xc3511\n").ok());  // no TAB
  EXPECT_FALSE(ParseCredentialList("\tpw\n").ok());         // no login
  EXPECT_FALSE(ParseCredentialList("u\t" + std::string(65, 'x')).ok());
  std::string many;
  for (size_t i = 0; i <= kMaxCredentialPairs; ++i) many += "u\tp\n";
  EXPECT_FALSE(ParseCredentialList(many).ok());
  Result<std::vector<CredentialPair>> ok =
      ParseCredentialList("# c\n\nroot\t\r\nadmin\tadmin");
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ(ok->at(0).password, "");
  EXPECT_EQ(ok->at(1).password, "admin");
}

TEST(Credentials, HttpAttemptsAreClassified) {
  std::string why;
  EXPECT_EQ(ClassifyHttpAttempt(
                B("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), &why),
            AttemptOutcome::kAccepted);
  EXPECT_EQ(ClassifyHttpAttempt(
                B("HTTP/1.1 401 No\r\nContent-Length: 0\r\n\r\n"), &why),
            AttemptOutcome::kRefused);
  EXPECT_EQ(ClassifyHttpAttempt(
                B("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"), &why),
            AttemptOutcome::kThrottled);
  EXPECT_EQ(ClassifyHttpAttempt(B("HTTP/1.1 401 No\r\nRetry-After: 30\r\n"
                                  "Content-Length: 0\r\n\r\n"),
                                &why),
            AttemptOutcome::kThrottled);
  EXPECT_EQ(ClassifyHttpAttempt(B(""), &why), AttemptOutcome::kNoAnswer);
  EXPECT_TRUE(
      AsksForBasicAuth(B("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic "
                         "realm=\"cam\"\r\nContent-Length: 0\r\n\r\n")));
  EXPECT_FALSE(AsksForBasicAuth(
      B("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n"
        "Content-Length: 0\r\n\r\n")));
  EXPECT_FALSE(
      AsksForBasicAuth(B("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")));
}

TEST(Credentials, MqttConnectCarriesTheCredentials) {
  const Bytes connect = MqttConnectWithCredentials("admin", "secret");
  ASSERT_GE(connect.size(), 2u);
  EXPECT_EQ(connect[0], 0x10);
  EXPECT_EQ(connect[1], connect.size() - 2);
  EXPECT_EQ(connect[9], 0xc2);  // user name, password, clean session
  const std::string tail(connect.end() - 15, connect.end());
  EXPECT_EQ(tail, std::string("\0\x05"
                              "admin\0\x06"
                              "secret",
                              15));
  std::string why;
  const uint8_t ok[] = {0x20, 0x02, 0x00, 0x00};
  const uint8_t bad[] = {0x20, 0x02, 0x00, 0x05};
  const uint8_t busy[] = {0x20, 0x02, 0x00, 0x03};
  EXPECT_EQ(ClassifyMqttAttempt(ByteView(ok, 4), &why),
            AttemptOutcome::kAccepted);
  EXPECT_EQ(ClassifyMqttAttempt(ByteView(bad, 4), &why),
            AttemptOutcome::kRefused);
  EXPECT_EQ(ClassifyMqttAttempt(ByteView(busy, 4), &why),
            AttemptOutcome::kThrottled);
  Exchange anonymous{"MQTT CONNECT", "", Bytes(ok, ok + 4), ""};
  EXPECT_EQ(JudgeMqttAnonymous(1883, anonymous).verdict, Verdict::kFail);
  Exchange refused{"MQTT CONNECT", "", Bytes(bad, bad + 4), ""};
  EXPECT_EQ(JudgeMqttAnonymous(1883, refused).verdict, Verdict::kPass);
}

TEST(Credentials, VerdictsNeverShowThePassword) {
  CredentialRun run;
  run.port = 8081;
  run.attempts = 4;
  run.failures = 3;
  run.accepted = CredentialPair{"admin", "hunter2"};
  TestUnit u = JudgeDefaultCredentials(run);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("password found, 7 characters"), std::string::npos);
  EXPECT_EQ(u.finding.find("hunter2"), std::string::npos);
  EXPECT_EQ(JudgeThrottling(run).verdict, Verdict::kInconclusive);

  CredentialRun slow;
  slow.port = 8082;
  slow.attempts = slow.failures = 6;
  slow.throttle_sign = "HTTP 503";
  slow.throttled_after = 5;
  EXPECT_EQ(JudgeThrottling(slow).verdict, Verdict::kPass);
  EXPECT_EQ(JudgeDefaultCredentials(slow).verdict, Verdict::kInconclusive);

  CredentialRun open;
  open.port = 8083;
  open.attempts = open.failures = 60;
  EXPECT_EQ(JudgeDefaultCredentials(open).verdict, Verdict::kPass);
  EXPECT_EQ(JudgeThrottling(open).verdict, Verdict::kFail);
}

}  // namespace
}  // namespace warden::assess
