#include "assess/assessor.h"

#include <gtest/gtest.h>

#include "assess/security_txt.h"

namespace warden::assess {
namespace {

using std::chrono::hours;

WallTime Now() { return *ParseRfc3339("2026-12-01T12:00:00Z"); }

TlsFacts Tls(std::initializer_list<TlsVersion> accepted) {
  TlsFacts t;
  for (TlsVersion v : {TlsVersion::kTls10, TlsVersion::kTls11,
                       TlsVersion::kTls12, TlsVersion::kTls13}) {
    bool ok = false;
    for (TlsVersion a : accepted) ok = ok || a == v;
    t.versions.push_back({v, {ok, true, ok ? "ok" : "refused"}});
  }
  t.ffdhe_tls13 = {false, true, "refused"};
  t.dhe_tls12 = {false, true, "refused"};
  t.certificate.present = true;
  t.certificate.der = {1, 2, 3};
  t.certificate.key_type = "EC";
  t.certificate.key_bits = 256;
  t.certificate.not_before = Now() - hours(24);
  t.certificate.not_after = Now() + hours(24 * 365);
  t.certificate.subject = "/CN=ACME-0001";
  t.certificate.issuer = "/CN=Acme Heating device CA";
  return t;
}

TEST(Verdicts, OldTlsVersionsFail) {
  EXPECT_EQ(JudgeTlsVersions(443, Tls({TlsVersion::kTls13})).verdict,
            Verdict::kPass);
  EXPECT_EQ(JudgeTlsVersions(443, Tls({TlsVersion::kTls12, TlsVersion::kTls13}))
                .verdict,
            Verdict::kPass);
  TestUnit u =
      JudgeTlsVersions(443, Tls({TlsVersion::kTls10, TlsVersion::kTls12}));
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("TLS 1.0"), std::string::npos);
  EXPECT_EQ(JudgeTlsVersions(443, Tls({})).verdict, Verdict::kInconclusive);
}

TEST(Verdicts, TimeoutIsNoRefusal) {
  // A version probe that timed out may be one the server accepts.
  TlsFacts t = Tls({TlsVersion::kTls13});
  t.versions[0].second = {false, false, "handshake timed out"};
  EXPECT_EQ(JudgeTlsVersions(443, t).verdict, Verdict::kInconclusive);
  t = Tls({TlsVersion::kTls13});
  t.ffdhe_tls13 = {false, false, "handshake timed out"};
  EXPECT_EQ(JudgeFfdhe(443, t).verdict, Verdict::kInconclusive);
}

TEST(Verdicts, FiniteFieldKeyExchangeFails) {
  TlsFacts t = Tls({TlsVersion::kTls13});
  EXPECT_EQ(JudgeFfdhe(443, t).verdict, Verdict::kPass);
  t.ffdhe_tls13.completed = true;
  EXPECT_EQ(JudgeFfdhe(443, t).verdict, Verdict::kFail);
  t.ffdhe_tls13.completed = false;
  t.dhe_tls12.completed = true;
  EXPECT_EQ(JudgeFfdhe(443, t).verdict, Verdict::kFail);
}

TEST(Verdicts, MakersCaCertificatePasses) {
  // No public CA signed it: on a home network that is not a failure.
  TestUnit u = JudgeCertificate(443, Tls({TlsVersion::kTls13}), Now());
  EXPECT_EQ(u.verdict, Verdict::kPass);
  ASSERT_EQ(u.evidence.artefacts.size(), 1u);
  EXPECT_EQ(u.evidence.artefacts[0].sha256,
            "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81");
}

TEST(Verdicts, ExpiredOrWeakCertificateFails) {
  TlsFacts t = Tls({TlsVersion::kTls12});
  t.certificate.not_after = Now() - hours(1);
  t.certificate.self_signed = true;
  TestUnit u = JudgeCertificate(443, t, Now());
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("expired"), std::string::npos);
  EXPECT_NE(u.finding.find("self-signed"), std::string::npos);
  t = Tls({TlsVersion::kTls12});
  t.certificate.key_type = "RSA";
  t.certificate.key_bits = 1024;
  EXPECT_EQ(JudgeCertificate(443, t, Now()).verdict, Verdict::kFail);
  t.certificate.key_bits = 2048;
  t.certificate.not_before = Now() + hours(1);
  EXPECT_EQ(JudgeCertificate(443, t, Now()).verdict, Verdict::kFail);
}

TEST(Verdicts, SelfSignedValidCertificateIsInconclusive) {
  TlsFacts t = Tls({TlsVersion::kTls13});
  t.certificate.self_signed = true;
  EXPECT_EQ(JudgeCertificate(443, t, Now()).verdict, Verdict::kInconclusive);
}

TEST(Verdicts, CompressionJudgedInContext) {
  EXPECT_EQ(JudgeCompression(443, Tls({TlsVersion::kTls13})).verdict,
            Verdict::kPass);
  TlsFacts t = Tls({TlsVersion::kTls12});
  EXPECT_EQ(JudgeCompression(443, t).verdict, Verdict::kInconclusive);
  t.compression_offerable = true;
  EXPECT_EQ(JudgeCompression(443, t).verdict, Verdict::kPass);
  t.compression_negotiated = true;
  EXPECT_EQ(JudgeCompression(443, t).verdict, Verdict::kFail);
}

PortFacts Facts(uint16_t port, Service s, std::string http_reply = "") {
  PortFacts f;
  f.port = port;
  f.service = s;
  if (!http_reply.empty()) {
    f.exchanges.push_back({"HTTP GET /", "GET /", ToBytes(http_reply), ""});
  }
  return f;
}

TEST(Verdicts, PlaintextServicesFail) {
  EXPECT_EQ(JudgePlaintext(Facts(23, Service::kTelnet)).verdict,
            Verdict::kFail);
  EXPECT_EQ(JudgePlaintext(Facts(80, Service::kHttp,
                                 "HTTP/1.1 200 OK\r\nContent-Length: "
                                 "0\r\n\r\n"))
                .verdict,
            Verdict::kFail);
  EXPECT_EQ(JudgePlaintext(Facts(8443, Service::kHttps)).verdict,
            Verdict::kPass);
  EXPECT_EQ(JudgePlaintext(Facts(22, Service::kSsh)).verdict, Verdict::kPass);
  EXPECT_EQ(JudgePlaintext(Facts(9, Service::kUnknown)).verdict,
            Verdict::kInconclusive);
}

TEST(Verdicts, HttpThatOnlyRedirectsToHttpsPasses) {
  EXPECT_EQ(JudgePlaintext(Facts(80, Service::kHttp,
                                 "HTTP/1.1 301 Moved\r\nLocation: "
                                 "https://device/\r\nContent-Length: "
                                 "0\r\n\r\n"))
                .verdict,
            Verdict::kPass);
  EXPECT_EQ(JudgePlaintext(Facts(80, Service::kHttp,
                                 "HTTP/1.1 301 Moved\r\nLocation: "
                                 "http://device/\r\nContent-Length: "
                                 "0\r\n\r\n"))
                .verdict,
            Verdict::kFail);
}

TEST(Verdicts, OpenPortsComparedWithDeclaration) {
  Result<Declaration> d = ParseDeclaration(
      R"({"services": [{"port": 8443, "protocol": "https",
                         "purpose": "owner API"}]})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(JudgeDeclared(8443, Service::kHttps, *d).verdict, Verdict::kPass);
  EXPECT_EQ(JudgeDeclared(23, Service::kTelnet, *d).verdict, Verdict::kFail);
  EXPECT_EQ(JudgeDeclared(8443, Service::kHttp, *d).verdict, Verdict::kFail);
  // Without a declaration, nothing to compare: never a PASS.
  EXPECT_EQ(JudgeDeclared(8443, Service::kHttps, std::nullopt).verdict,
            Verdict::kInconclusive);
}

TEST(Declaration, MalformedIsRefused) {
  EXPECT_FALSE(ParseDeclaration("[").ok());
  EXPECT_FALSE(ParseDeclaration("{}").ok());
  EXPECT_FALSE(ParseDeclaration(R"({"services": [{"port": 70000}]})").ok());
  EXPECT_FALSE(ParseDeclaration(R"({"services": [{"port": "80"}]})").ok());
  EXPECT_FALSE(
      ParseDeclaration(std::string(kMaxDeclarationBytes + 1, ' ')).ok());
}

TEST(Target, HostsAddressesAndUrls) {
  EXPECT_EQ(ParseTarget("camera.local")->host, "camera.local");
  EXPECT_TRUE(ParseTarget("camera.local")->is_name);
  EXPECT_EQ(ParseTarget("192.0.2.7")->host, "192.0.2.7");
  EXPECT_FALSE(ParseTarget("192.0.2.7")->is_name);
  EXPECT_EQ(ParseTarget("https://192.0.2.7:8443/x")->host, "192.0.2.7");
  EXPECT_EQ(ParseTarget("http://[::1]:80/")->host, "::1");
  EXPECT_EQ(ParseTarget("::1")->host, "::1");
  EXPECT_EQ(ParseTarget("device:8443")->host, "device");
  EXPECT_FALSE(ParseTarget("").ok());
  EXPECT_FALSE(ParseTarget("https://").ok());
  EXPECT_FALSE(ParseTarget("a b").ok());
}

Fetch Served(std::string reply) {
  Fetch f;
  f.request = "GET /.well-known/security.txt HTTP/1.1\r\n\r\n";
  f.raw = ToBytes(reply);
  return f;
}

TEST(Verdicts, SecurityTxtMissingOrInvalidFails) {
  const std::string url = "https://d:443/.well-known/security.txt";
  EXPECT_EQ(JudgeSecurityTxt(443, true,
                             Served("HTTP/1.1 404 Not Found\r\n"
                                    "Content-Length: 0\r\n\r\n"),
                             Now(), url)
                .verdict,
            Verdict::kFail);
  const std::string body =
      "Contact: mailto:security@acme.example\nExpires: "
      "2027-05-30T00:00:00Z\n";
  const std::string ok =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
      "charset=utf-8\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  TestUnit pass = JudgeSecurityTxt(443, true, Served(ok), Now(), url);
  EXPECT_EQ(pass.verdict, Verdict::kPass) << pass.finding;
  ASSERT_EQ(pass.evidence.artefacts.size(), 1u);
  Fetch silent;
  silent.error = "no more within the deadline";
  EXPECT_EQ(JudgeSecurityTxt(443, true, silent, Now(), url).verdict,
            Verdict::kInconclusive);
  EXPECT_EQ(JudgeSecurityTxt(80, false,
                             Served("HTTP/1.1 301 Moved\r\nLocation: "
                                    "https://d/.well-known/security.txt\r\n"
                                    "Content-Length: 0\r\n\r\n"),
                             Now(), url)
                .verdict,
            Verdict::kNotApplicable);
  // The same file over plain HTTP is not RFC 9116's.
  EXPECT_EQ(JudgeSecurityTxt(80, false, Served(ok), Now(), url).verdict,
            Verdict::kFail);
  // Checked at a later time, the same file has expired.
  EXPECT_EQ(
      JudgeSecurityTxt(443, true, Served(ok), Now() + hours(24 * 200), url)
          .verdict,
      Verdict::kFail);
}

TEST(Support, ShownByTheDevicePasses) {
  Declaration d;
  d.support_until = "2031-12-31";
  WardenInfo shown;
  shown.support_end = "2031-12-31";
  EXPECT_EQ(JudgeSupportPeriod(d, shown, 8443, Now()).verdict, Verdict::kPass);
  EXPECT_EQ(JudgeSupportPeriod(std::nullopt, shown, 8443, Now()).verdict,
            Verdict::kPass);
}

TEST(Support, DeclarationAloneNeverPasses) {
  Declaration d;
  d.support_until = "2031-12-31";
  TestUnit u = JudgeSupportPeriod(d, std::nullopt, 0, Now());
  EXPECT_EQ(u.verdict, Verdict::kInconclusive);
  EXPECT_NE(u.finding.find("never makes a PASS"), std::string::npos);
  d.support_until = "2020-01-01";  // the maker says support has ended
  EXPECT_EQ(JudgeSupportPeriod(d, std::nullopt, 0, Now()).verdict,
            Verdict::kFail);
  EXPECT_EQ(JudgeSupportPeriod(std::nullopt, std::nullopt, 0, Now()).verdict,
            Verdict::kInconclusive);
}

TEST(Support, PastOrContradictedFails) {
  Declaration d;
  d.support_until = "2031-12-31";
  WardenInfo shown;
  shown.support_end = "2029-06-30";
  TestUnit u = JudgeSupportPeriod(d, shown, 8443, Now());
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("the declaration says 2031-12-31"),
            std::string::npos);
  shown.support_end = "2026-11-30";  // the day before Now()
  EXPECT_EQ(JudgeSupportPeriod(std::nullopt, shown, 8443, Now()).verdict,
            Verdict::kFail);
}

TEST(Support, WardenInfoIsCheckedBeforeUse) {
  Result<WardenInfo> ok = ParseWardenInfo(
      R"({"api":"warden/1","maker":"Acme","model":"T1","support_end":"2031-12-31","paired":true})");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->support_end, "2031-12-31");
  EXPECT_FALSE(ParseWardenInfo(R"({"maker":"Acme"})").ok());
  EXPECT_FALSE(ParseWardenInfo(R"({"api":"warden/1","maker":7})").ok());
  EXPECT_FALSE(
      ParseWardenInfo(R"({"api":"warden/1","support_end":"soon"})").ok());
  EXPECT_FALSE(ParseWardenInfo("not json").ok());
}

TEST(Declaration, LabelFactsAreChecked) {
  Result<Declaration> d = ParseDeclaration(
      R"({"services":[],"product":"Acme T1","support_until":"2031-12-31",
          "disclosure_url":"https://acme.example/security"})");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->product, "Acme T1");
  EXPECT_FALSE(
      ParseDeclaration(R"({"services":[],"support_until":"31/12/2031"})").ok());
  EXPECT_FALSE(ParseDeclaration(R"({"services":[],"product":1})").ok());
}

TEST(Disclosure, DeclaredContactComparedWithSecurityTxt) {
  const std::vector<std::string> shown = {"mailto:security@acme.example",
                                          "https://acme.example/policy"};
  EXPECT_EQ(
      JudgeDeclaredDisclosure("https://acme.example/policy", shown).verdict,
      Verdict::kPass);
  TestUnit u = JudgeDeclaredDisclosure("mailto:psirt@other.example", shown);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("mailto:security@acme.example"), std::string::npos);
  EXPECT_EQ(JudgeDeclaredDisclosure("mailto:a@b.example", {}).verdict,
            Verdict::kInconclusive);
}

}  // namespace
}  // namespace warden::assess
