#include "assess/tls_suites.h"

#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

namespace warden::assess {
namespace {

// A ServerHello record: version, suite, and extensions as given.
Bytes ServerHello(uint16_t legacy, uint16_t suite, const Bytes& extensions,
                  bool retry = false) {
  Bytes body = {static_cast<uint8_t>(legacy >> 8),
                static_cast<uint8_t>(legacy)};
  for (int i = 0; i < 32; ++i) body.push_back(static_cast<uint8_t>(i));
  if (retry) {
    const uint8_t hrr[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11,
                             0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
                             0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
                             0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
    std::copy(hrr, hrr + 32, body.begin() + 2);
  }
  body.push_back(0);  // no session id
  body.push_back(static_cast<uint8_t>(suite >> 8));
  body.push_back(static_cast<uint8_t>(suite));
  body.push_back(0);
  body.push_back(static_cast<uint8_t>(extensions.size() >> 8));
  body.push_back(static_cast<uint8_t>(extensions.size()));
  body.insert(body.end(), extensions.begin(), extensions.end());
  Bytes hs = {2, 0, static_cast<uint8_t>(body.size() >> 8),
              static_cast<uint8_t>(body.size())};
  hs.insert(hs.end(), body.begin(), body.end());
  Bytes rec = {22, 3, 3, static_cast<uint8_t>(hs.size() >> 8),
               static_cast<uint8_t>(hs.size())};
  rec.insert(rec.end(), hs.begin(), hs.end());
  return rec;
}

TEST(TlsSuites, TableNamesAreOpenSslsForEverySuiteItKnows) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(
      SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  ASSERT_TRUE(ctx);
  SSL_CTX_set_security_level(ctx.get(), 0);
  ASSERT_EQ(SSL_CTX_set_cipher_list(ctx.get(), "ALL:COMPLEMENTOFALL"), 1);
  STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx.get());
  int checked = 0;
  for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
    const CipherSuite* s = FindSuite(SSL_CIPHER_get_protocol_id(c));
    if (s == nullptr) continue;
    ++checked;
    EXPECT_EQ(s->iana, SSL_CIPHER_standard_name(c)) << s->openssl;
    EXPECT_EQ(s->openssl, SSL_CIPHER_get_name(c)) << s->iana;
  }
  EXPECT_GT(checked, 40);
}

TEST(TlsSuites, WeaknessesFollowTheName) {
  auto weak = [](uint16_t id, uint16_t v) {
    return SuiteWeaknesses(*FindSuite(id), v);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(weak(0xC02F, kWireTls12), V{});  // ECDHE-RSA-AES128-GCM
  EXPECT_EQ(weak(0x1301, kWireTls13), V{});
  EXPECT_EQ(weak(0xC013, kWireTls12), V{});  // ECDHE CBC-SHA under 1.2
  EXPECT_EQ(weak(0xC013, kWireTls10), V{"CBC with SHA-1 under TLS 1.0"});
  EXPECT_EQ(weak(0x002F, kWireTls12), V{"no forward secrecy"});
  EXPECT_EQ(weak(0x0003, kWireTls10),
            (V{"EXPORT", "RC4", "no forward secrecy", "MD5"}));
  EXPECT_EQ(weak(0xC017, kWireTls12),
            (V{"DES or 3DES", "anonymous key exchange"}));
  EXPECT_EQ(weak(0xC010, kWireTls12), V{"NULL encryption"});
}

TEST(TlsSuites, ClientHelloIsOneWellFormedRecord) {
  ClientHelloOptions o;
  o.version = kWireTls12;
  o.suites = {0xC02F, 0x002F};
  o.server_name = "device.example";
  o.random = Bytes(32, 7);
  Bytes hello = BuildClientHello(o);
  ASSERT_GT(hello.size(), 9u);
  EXPECT_EQ(hello[0], 22);
  EXPECT_EQ(size_t(hello[3] << 8 | hello[4]), hello.size() - 5);
  EXPECT_EQ(hello[5], 1);  // client_hello
  EXPECT_EQ(size_t(hello[7] << 8 | hello[8]), hello.size() - 9);
  EXPECT_EQ(hello[9], 0x03);
  EXPECT_EQ(hello[10], 0x03);
  const std::string text(hello.begin(), hello.end());
  EXPECT_NE(text.find(std::string("\x00\xFF", 2)), std::string::npos);
  EXPECT_NE(text.find("device.example"), std::string::npos);

  o.version = kWireTls13;
  o.suites = {0x1301};
  o.server_name = "127.0.0.1";  // an address is never sent as SNI
  Bytes h13 = BuildClientHello(o);
  const std::string t13(h13.begin(), h13.end());
  EXPECT_NE(t13.find(std::string("\x00\x2B\x00\x03\x02\x03\x04", 7)),
            std::string::npos);
  EXPECT_EQ(t13.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(t13.find(std::string("\x00\xFF", 2)), std::string::npos);
}

TEST(TlsSuites, ServerHelloIsReadAcrossRecords) {
  const Bytes ext = {0xFF, 0x01, 0x00, 0x01, 0x00,         // renegotiation_info
                     0x00, 0x2B, 0x00, 0x02, 0x03, 0x04};  // 1.3 selected
  Bytes one = ServerHello(kWireTls12, 0x1302, ext);
  ServerHelloFacts f = ParseServerHello(one);
  EXPECT_EQ(f.kind, ServerHelloFacts::Kind::kServerHello);
  EXPECT_EQ(f.version, kWireTls13);
  EXPECT_EQ(f.suite, 0x1302);
  EXPECT_TRUE(f.renegotiation_info);

  // The same message split over two records, and cut short.
  Bytes hs(one.begin() + 5, one.end());
  Bytes split = {22, 3, 3, 0, 10};
  split.insert(split.end(), hs.begin(), hs.begin() + 10);
  split.insert(split.end(),
               {22, 3, 3, 0, static_cast<uint8_t>(hs.size() - 10)});
  split.insert(split.end(), hs.begin() + 10, hs.end());
  EXPECT_EQ(ParseServerHello(split).suite, 0x1302);
  EXPECT_EQ(ParseServerHello(ByteView(split).first(split.size() - 1)).kind,
            ServerHelloFacts::Kind::kIncomplete);

  EXPECT_EQ(ParseServerHello(ServerHello(kWireTls12, 0x1301, {}, true)).kind,
            ServerHelloFacts::Kind::kHelloRetry);
  const Bytes alert = {21, 3, 3, 0, 2, 2, 40};
  f = ParseServerHello(alert);
  EXPECT_EQ(f.kind, ServerHelloFacts::Kind::kAlert);
  EXPECT_EQ(f.alert_description, 40);
  EXPECT_EQ(ParseServerHello(AsBytes(std::string_view("HTTP/1.1 400"))).kind,
            ServerHelloFacts::Kind::kMalformed);
  Bytes bad_ext = ServerHello(kWireTls12, 0x002F, {0xFF, 0x01, 0x00, 0x09});
  EXPECT_EQ(ParseServerHello(bad_ext).kind, ServerHelloFacts::Kind::kMalformed);
}

SuiteFacts Accepting(uint16_t version, std::vector<uint16_t> suites,
                     bool reneg) {
  SuiteFacts f;
  SuiteProbeResult r;
  r.version = version;
  r.answered = true;
  r.accepted = std::move(suites);
  r.renegotiation_info = reneg;
  f.versions.push_back(r);
  return f;
}

TEST(TlsSuites, Verdicts) {
  SuiteFacts good = Accepting(kWireTls13, {0x1302, 0x1303, 0x1301}, false);
  EXPECT_EQ(JudgeCipherSuites(8443, good).verdict, Verdict::kPass);
  EXPECT_EQ(JudgeRenegotiation(8443, good).verdict, Verdict::kPass);

  SuiteFacts old = Accepting(kWireTls10, {0xC013, 0x002F}, true);
  TestUnit u = JudgeCipherSuites(8443, old);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("TLS 1.0 TLS_RSA_WITH_AES_128_CBC_SHA (no forward "
                           "secrecy, CBC with SHA-1 under TLS 1.0)"),
            std::string::npos)
      << u.finding;
  EXPECT_EQ(JudgeRenegotiation(8443, old).verdict, Verdict::kPass);
  EXPECT_EQ(
      JudgeRenegotiation(8443, Accepting(kWireTls12, {0xC02F}, false)).verdict,
      Verdict::kFail);
  EXPECT_EQ(JudgeCipherSuites(8443, Accepting(kWireTls12, {}, false)).verdict,
            Verdict::kInconclusive);
}

}  // namespace
}  // namespace warden::assess
