#include "assess/label.h"

#include <gtest/gtest.h>

#include "assess/report.h"

// fontconfig (under librsvg) keeps its font cache for the life of the
// process on purpose; LeakSanitizer would report it at exit. Read by
// LeakSanitizer only, in sanitizer builds.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\n";
}

namespace warden::assess {
namespace {

using Json = nlohmann::json;

TestUnit Unit(std::string id, int guideline, Verdict v,
              std::string finding = "") {
  TestUnit u;
  u.id = std::move(id);
  u.guideline = guideline;
  u.verdict = v;
  u.finding = std::move(finding);
  return u;
}

Report Conforming() {
  Report r;
  r.target = "127.0.0.1";
  r.address = "127.0.0.1";
  r.started_at = "2026-12-01T12:00:00Z";
  r.duration_seconds = 1.25;
  r.device.product = "Acme Thermostat T1";
  r.device.support_until = "2031-12-31";
  r.device.support_until_source = "declared";
  r.device.contact = "mailto:security@acme.example";
  r.device.contact_source = "security.txt";
  r.groups.push_back({"services",
                      "Exposed services",
                      {Unit("services.8443.encryption", 5, Verdict::kPass),
                       Unit("services.8443.declared", 6, Verdict::kPass)}});
  r.groups.push_back(
      {"disclosure.8443",
       "Disclosure",
       {Unit("disclosure.8443.security_txt", 2, Verdict::kPass)}});
  return r;
}

// A report as warden label reads it: written, then parsed back.
Json RoundTrip(const Report& r) {
  return Json::parse(ToJson(r).dump(2, ' ', false));
}

std::string Svg(const Json& report) {
  Result<LabelFacts> facts = LabelFactsFromReport(report);
  EXPECT_TRUE(facts.ok()) << facts.status().message();
  Result<std::string> svg = RenderLabelSvg(*facts);
  EXPECT_TRUE(svg.ok());
  return *svg;
}

TEST(Label, DigestSurvivesWritingAndReadingTheReport) {
  const Report r = Conforming();
  Result<std::string> a = ReportDigest(ToJson(r));
  Result<std::string> b = ReportDigest(RoundTrip(r));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 64u);
  Report changed = r;
  changed.groups[0].units[0].finding = "x";
  EXPECT_NE(*ReportDigest(ToJson(changed)), *a);
}

TEST(Label, VerdictsRollUpAndLevelFollowsThem) {
  Result<LabelFacts> f = LabelFactsFromReport(RoundTrip(Conforming()));
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->verdicts[1], "PASS");
  EXPECT_EQ(f->verdicts[4], "PASS");
  EXPECT_EQ(f->verdicts[0], "NOT ASSESSED");  // no unit
  EXPECT_EQ(f->level, 1);
  EXPECT_EQ(f->device, "Acme Thermostat T1");
  EXPECT_EQ(f->support_until, "2031-12-31");
  EXPECT_EQ(f->contact, "mailto:security@acme.example");

  Report bad = Conforming();
  bad.groups[0].units.push_back(Unit("tls.8443.versions", 5, Verdict::kFail));
  bad.groups[0].units.push_back(
      Unit("services.8443.credentials", 1, Verdict::kInconclusive));
  f = LabelFactsFromReport(RoundTrip(bad));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->verdicts[4], "FAIL");
  EXPECT_EQ(f->verdicts[0], "NOT ASSESSED");
  EXPECT_EQ(f->level, 0);
  EXPECT_EQ(f->level_name, "Not conforming");
}

TEST(Label, RefusesWhatIsNotAReport) {
  EXPECT_FALSE(LabelFactsFromReport(Json::object()).ok());
  Json j = RoundTrip(Conforming());
  j["guidelines"].erase(0);
  EXPECT_FALSE(LabelFactsFromReport(j).ok());
  j = RoundTrip(Conforming());
  j["guidelines"][3]["verdict"] = "GREAT";
  EXPECT_FALSE(LabelFactsFromReport(j).ok());
}

TEST(Label, ALabelMatchesItsOwnReport) {
  const Json report = RoundTrip(Conforming());
  const std::string svg = Svg(report);
  EXPECT_NE(svg.find("Acme Thermostat T1"), std::string::npos);
  EXPECT_NE(svg.find("2031-12-31"), std::string::npos);
  EXPECT_NE(svg.find("mailto:security@acme.example"), std::string::npos);
  Result<LabelCheck> check = VerifyLabel(svg, report);
  ASSERT_TRUE(check.ok()) << check.status().message();
  EXPECT_TRUE(check->ok());
  EXPECT_TRUE(check->problems.empty());
}

TEST(Label, AnotherReportDoesNotMatch) {
  const std::string svg = Svg(RoundTrip(Conforming()));
  Report other = Conforming();
  other.groups[0].units[1].verdict = Verdict::kFail;
  Result<LabelCheck> check = VerifyLabel(svg, RoundTrip(other));
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->ok());
  EXPECT_FALSE(check->digest_matches);
  EXPECT_FALSE(check->qr_matches);
  EXPECT_FALSE(check->verdicts_match);  // guideline 6 now FAILs
}

TEST(Label, AnEditedVerdictOnTheLabelIsCaught) {
  Report bad = Conforming();
  bad.groups[0].units[0].verdict = Verdict::kFail;
  const Json report = RoundTrip(bad);
  std::string svg = Svg(report);
  // Turn the visible FAIL of guideline 5 into a PASS.
  const std::string fail = ">FAIL</text>";
  const size_t at = svg.find(fail);
  ASSERT_NE(at, std::string::npos);
  svg.replace(at, fail.size(), ">PASS</text>");
  Result<LabelCheck> check = VerifyLabel(svg, report);
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->digest_matches);
  EXPECT_FALSE(check->text_matches);
  EXPECT_FALSE(check->ok());

  // And in the metadata.
  svg = Svg(report);
  const std::string meta = "&quot;FAIL&quot;";
  const size_t m = svg.find(meta);
  ASSERT_NE(m, std::string::npos);
  svg.replace(m, meta.size(), "&quot;PASS&quot;");
  check = VerifyLabel(svg, report);
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->verdicts_match);
  EXPECT_FALSE(check->ok());
}

TEST(Label, HostileDeviceTextCannotInjectMarkup) {
  Report r = Conforming();
  r.device.product = "<script>alert(1)</script><image href=\"http://x/\"/>";
  r.device.contact = "mailto:a@b\x01\"&amp;";
  const std::string svg = Svg(RoundTrip(r));
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("<image"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(svg.find("&amp;amp;"), std::string::npos);
  EXPECT_EQ(svg.find('\x01'), std::string::npos);
}

TEST(Label, MetadataReaderRefusesMalformedLabels) {
  const std::string svg = Svg(RoundTrip(Conforming()));
  EXPECT_TRUE(ReadLabelMetadata(svg).ok());
  EXPECT_FALSE(ReadLabelMetadata("<svg></svg>").ok());
  EXPECT_FALSE(ReadLabelMetadata(svg + svg).ok());  // two metadata elements
  EXPECT_FALSE(
      ReadLabelMetadata("<metadata id=\"warden-label\">&foo;</metadata>").ok());
  EXPECT_FALSE(
      ReadLabelMetadata("<metadata id=\"warden-label\">{\"level\":1}").ok());
  EXPECT_FALSE(ReadLabelMetadata("<metadata id=\"warden-label\">" +
                                 std::string(kMaxLabelMetadataBytes + 1, ' ') +
                                 "</metadata>")
                   .ok());
}

TEST(Label, XmlTextCutsOnACharacterBoundary) {
  EXPECT_EQ(XmlText("a<b", 10), "a&lt;b");
  EXPECT_EQ(XmlText("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9...");
  EXPECT_EQ(XmlText("\xff", 10), "?");
  EXPECT_EQ(XmlText("\xed\xa0\x80", 10), "???");  // a surrogate
}

TEST(Label, PngIsRenderedAtTheLabelsSize) {
  const std::string svg = Svg(RoundTrip(Conforming()));
  Result<Bytes> png = RenderLabelPng(svg);
  ASSERT_TRUE(png.ok()) << png.status().message();
  ASSERT_GT(png->size(), 24u);
  const uint8_t signature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  EXPECT_TRUE(std::equal(signature, signature + 8, png->begin()));
  auto be32 = [&](size_t at) {
    return (uint32_t{(*png)[at]} << 24) | (uint32_t{(*png)[at + 1]} << 16) |
           (uint32_t{(*png)[at + 2]} << 8) | uint32_t{(*png)[at + 3]};
  };
  EXPECT_EQ(be32(16), 600u);  // IHDR width
  EXPECT_EQ(be32(20), 900u);  // IHDR height
  EXPECT_FALSE(RenderLabelPng("not svg").ok());
}

}  // namespace
}  // namespace warden::assess
