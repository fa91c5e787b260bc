#include "assess/html_report.h"

#include <gtest/gtest.h>

#include "assess/report.h"

namespace warden::assess {
namespace {

Report WithBanner(std::string banner) {
  Report r;
  r.target = "camera<b>";
  r.address = "127.0.0.1";
  r.started_at = "2026-12-01T12:00:00Z";
  TestUnit u;
  u.id = "services.23.encryption";
  u.guideline = 5;
  u.verdict = Verdict::kFail;
  u.title = "the service on port 23 protects its traffic";
  u.finding = "telnet in plaintext";
  u.evidence.sent.push_back("banner: (nothing)");
  u.evidence.received.push_back("banner: " + banner);
  r.groups.push_back({"services", "Exposed services", {u}});
  return r;
}

TEST(HtmlReport, HostileBannerIsEscaped) {
  const std::string hostile =
      "</code></td><script>alert(1)</script><img src=\"http://evil/x\" "
      "onerror=\"alert(2)\"><link rel=stylesheet href=//evil/s.css>";
  Result<std::string> html = RenderHtmlReport(ToJson(WithBanner(hostile)));
  ASSERT_TRUE(html.ok()) << html.status().message();
  EXPECT_EQ(html->find("<script"), std::string::npos);
  EXPECT_EQ(html->find("<img"), std::string::npos);
  EXPECT_EQ(html->find("<link"), std::string::npos);
  EXPECT_EQ(html->find("camera<b>"), std::string::npos);
  EXPECT_NE(html->find("&lt;script&gt;alert(1)&lt;/script&gt;"),
            std::string::npos);
  EXPECT_NE(html->find("camera&lt;b&gt;"), std::string::npos);
}

TEST(HtmlReport, ShowsEveryUnitAndGuidelineWithoutExternalResources) {
  Result<std::string> html = RenderHtmlReport(ToJson(WithBanner("x")));
  ASSERT_TRUE(html.ok());
  EXPECT_NE(html->find("services.23.encryption"), std::string::npos);
  EXPECT_NE(html->find("telnet in plaintext"), std::string::npos);
  EXPECT_NE(html->find("Validate input data"), std::string::npos);
  EXPECT_NE(html->find("Sch. 1 para 1"), std::string::npos);
  EXPECT_NE(html->find("<svg"), std::string::npos);  // the label, inline
  EXPECT_EQ(html->find("http://"), std::string::npos);
  EXPECT_EQ(html->find("https://"), std::string::npos);
  EXPECT_EQ(html->find("src="), std::string::npos);
}

TEST(HtmlReport, RefusesWhatIsNotAReport) {
  EXPECT_FALSE(RenderHtmlReport(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace warden::assess
