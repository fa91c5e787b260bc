#include "assess/service_id.h"

#include <gtest/gtest.h>

namespace warden::assess {
namespace {

Service Banner(std::string_view s) { return ClassifyBanner(AsBytes(s)); }

TEST(ServiceId, BannersNameTheirService) {
  EXPECT_EQ(Banner("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), Service::kSsh);
  EXPECT_EQ(Banner("220 (vsFTPd 3.0.3)\r\n"), Service::kFtp);
  EXPECT_EQ(Banner("220 mail.example ESMTP Postfix\r\n"), Service::kSmtp);
  EXPECT_EQ(Banner("+OK Dovecot ready.\r\n"), Service::kPop3);
  EXPECT_EQ(Banner("* OK IMAP4rev1 ready\r\n"), Service::kImap);
  const uint8_t telnet[] = {255, 253, 24, 255, 253, 32};
  EXPECT_EQ(ClassifyBanner(telnet), Service::kTelnet);
  EXPECT_EQ(Banner("\r\nDebian GNU/Linux 12\r\ncamera login: "),
            Service::kTelnet);
  EXPECT_EQ(Banner(""), Service::kUnknown);
  EXPECT_EQ(Banner("hello"), Service::kUnknown);
}

TEST(ServiceId, PlaintextServicesAreFlagged) {
  for (Service s : {Service::kFtp, Service::kTelnet, Service::kHttp,
                    Service::kMqtt, Service::kSmtp}) {
    EXPECT_TRUE(IsPlaintext(s)) << ServiceName(s);
  }
  for (Service s :
       {Service::kSsh, Service::kHttps, Service::kTls, Service::kUnknown}) {
    EXPECT_FALSE(IsPlaintext(s)) << ServiceName(s);
  }
}

TEST(ServiceId, HttpReplyIsParsed) {
  Result<HttpReply> r = ParseHttpReply(
      AsBytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
              "5\r\n\r\nhello"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "text/plain");
  EXPECT_EQ(r->body, "hello");
  EXPECT_TRUE(r->complete);
}

TEST(ServiceId, HttpReplyCutShortIsIncomplete) {
  Result<HttpReply> r = ParseHttpReply(
      AsBytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->complete);
}

TEST(ServiceId, HttpReplyWithoutLengthEndsAtClose) {
  Result<HttpReply> r =
      ParseHttpReply(AsBytes("HTTP/1.0 404 Not Found\r\n\r\nnope"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "nope");
}

TEST(ServiceId, OversizedHeadIsRefused) {
  std::string head =
      "HTTP/1.1 200 OK\r\nX: " + std::string(kMaxHttpHeadBytes, 'a') +
      "\r\n\r\n";
  EXPECT_EQ(ParseHttpReply(AsBytes(head)).status().code(),
            Code::kResourceExhausted);
  EXPECT_EQ(ParseHttpReply(AsBytes("SSH-2.0-x\r\n")).status().code(),
            Code::kInvalidArgument);
}

TEST(ServiceId, AnnouncedHugeBodyIsRefusedBeforeAllocation) {
  // A hostile device announces petabytes; the parser must not reserve them.
  const std::string reply =
      "HTTP/1.1 200 OK\r\nContent-Length: 9755555555555555\r\n\r\n{}";
  EXPECT_EQ(ParseHttpReply(AsBytes(reply)).status().code(),
            Code::kResourceExhausted);
}

TEST(ServiceId, MqttConnackIsRecognised) {
  const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
  EXPECT_TRUE(IsMqttConnack(connack));
  const uint8_t http[] = {'H', 'T', 'T', 'P'};
  EXPECT_FALSE(IsMqttConnack(http));
  Bytes probe = MqttConnectProbe();
  ASSERT_GE(probe.size(), 2u);
  EXPECT_EQ(probe[0], 0x10);
  EXPECT_EQ(probe[1], probe.size() - 2);
}

}  // namespace
}  // namespace warden::assess
