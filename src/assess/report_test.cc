#include "assess/report.h"

#include <gtest/gtest.h>

namespace warden::assess {
namespace {

TestUnit Unit(std::string id, int guideline, Verdict v) {
  TestUnit u;
  u.id = std::move(id);
  u.guideline = guideline;
  u.provisions = {"5." + std::to_string(guideline) + "-1"};
  u.verdict = v;
  return u;
}

Report AllPass() {
  Report r;
  r.target = "device";
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

TEST(Report, CrosswalkFollowsTheProductTable) {
  ASSERT_EQ(CrosswalkTable().size(), 13u);
  for (int g = 1; g <= 13; ++g) EXPECT_EQ(CrosswalkFor(g).guideline, g);
  EXPECT_EQ(CrosswalkFor(1).uk_psti, "Sch. 1 para 1");
  EXPECT_EQ(CrosswalkFor(2).en_303_645, "5.2-1 to 5.2-3");
  EXPECT_EQ(CrosswalkFor(3).uk_psti, "Sch. 1 para 3 (support period, 5.3-13)");
  EXPECT_EQ(CrosswalkFor(5).eu_cra, "Part I (2)(d), (e), (f)");
  EXPECT_EQ(CrosswalkFor(6).nist_ir_8259a,
            "Logical access; device configuration");
  EXPECT_EQ(CrosswalkFor(8).en_303_645, "5.8-1 to 5.8-3; 6-1 to 6-5");
  EXPECT_EQ(CrosswalkFor(13).eu_cra, "closest: Part I (2)(f), (k)");
}

TEST(Report, AllPassIsConforming) { EXPECT_TRUE(Conforming(AllPass())); }

TEST(Report, OneFailIsNotConforming) {
  Report r = AllPass();
  r.groups[0].units.push_back(Unit("tls.8443.versions", 5, Verdict::kFail));
  EXPECT_FALSE(Conforming(r));
  EXPECT_EQ(GuidelineVerdict(r, 5), Verdict::kFail);
  EXPECT_EQ(GuidelineVerdict(r, 6), Verdict::kPass);
}

TEST(Report, AGuidelineWithoutVerdictIsNotConforming) {
  // No web service answered: guideline 2 has no unit at all.
  Report r = AllPass();
  r.groups.pop_back();
  EXPECT_EQ(GuidelineVerdict(r, 2), Verdict::kNotApplicable);
  EXPECT_FALSE(Conforming(r));
  // Only inconclusive units: still no verdict.
  r.groups.push_back(
      {"disclosure.80",
       "Disclosure",
       {Unit("disclosure.80.security_txt", 2, Verdict::kInconclusive)}});
  EXPECT_EQ(GuidelineVerdict(r, 2), Verdict::kInconclusive);
  EXPECT_FALSE(Conforming(r));
}

TEST(Report, APartialCheckFailsAGuidelineButCannotPassIt) {
  Report r;
  TestUnit narrow = Unit("warden.8443.public_secrets", 4, Verdict::kPass);
  narrow.partial = true;
  r.groups.push_back({"warden.8443", "Warden", {narrow}});
  EXPECT_EQ(GuidelineVerdict(r, 4), Verdict::kInconclusive);
  EXPECT_EQ(ToJson(r)["guidelines"][3]["verdict"], "INCONCLUSIVE");
  EXPECT_EQ(ToJson(r)["groups"][0]["units"][0]["partial"], true);
  r.groups[0].units[0].verdict = Verdict::kFail;
  EXPECT_EQ(GuidelineVerdict(r, 4), Verdict::kFail);
  TestUnit full = Unit("storage.declared", 4, Verdict::kPass);
  r.groups[0].units[0].verdict = Verdict::kPass;
  r.groups[0].units.push_back(full);
  EXPECT_EQ(GuidelineVerdict(r, 4), Verdict::kPass);
}

TEST(Report, JsonCarriesVerdictsEvidenceAndCrosswalk) {
  Report r = AllPass();
  TestUnit& u = r.groups[0].units[0];
  u.verdict = Verdict::kFail;
  u.finding = "telnet in plaintext";
  u.evidence.sent = {"banner: (nothing)"};
  u.evidence.received = {"banner: \\xff\\xfd"};
  u.evidence.artefacts.push_back(MakeArtefact("banner", AsBytes("abc")));
  nlohmann::json j = ToJson(r);
  EXPECT_EQ(j["result"], "not conforming");
  EXPECT_EQ(j["conforming"], false);
  EXPECT_EQ(j["counts"]["FAIL"], 1);
  EXPECT_EQ(j["counts"]["PASS"], 2);
  const nlohmann::json& unit = j["groups"][0]["units"][0];
  EXPECT_EQ(unit["verdict"], "FAIL");
  EXPECT_EQ(unit["guideline"], 5);
  EXPECT_EQ(unit["evidence"]["artefacts"][0]["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(unit["crosswalk"]["etsi_en_303_645"], "5.5-1 to 5.5-8");
  EXPECT_EQ(unit["crosswalk"]["eu_cra_annex_i"], "Part I (2)(d), (e), (f)");
  ASSERT_EQ(j["guidelines"].size(), 13u);
  EXPECT_EQ(j["guidelines"][4]["verdict"], "FAIL");
  EXPECT_EQ(j["guidelines"][0]["verdict"], "NOT APPLICABLE");
  EXPECT_EQ(j["guidelines"][0]["uk_psti_2023"], "Sch. 1 para 1");
  EXPECT_EQ(j["guidelines"][1]["tested_over_network"], true);
}

TEST(Report, SarifHasOneResultPerUnitWithItsKind) {
  Report r = AllPass();
  r.address = "192.0.2.7";
  r.groups[0].units[0].verdict = Verdict::kFail;
  r.groups[0].units[0].finding = "http in plaintext";
  r.groups[0].units[1].verdict = Verdict::kInconclusive;
  nlohmann::json s = ToSarif(r);
  EXPECT_EQ(s["version"], "2.1.0");
  const nlohmann::json& run = s["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "warden assess");
  ASSERT_EQ(run["results"].size(), 3u);
  EXPECT_EQ(run["tool"]["driver"]["rules"].size(), 3u);
  const nlohmann::json& fail = run["results"][0];
  EXPECT_EQ(fail["ruleId"], "services.8443.encryption");
  EXPECT_EQ(fail["kind"], "fail");
  EXPECT_EQ(fail["level"], "error");
  EXPECT_EQ(fail["message"]["text"], "http in plaintext");
  EXPECT_EQ(fail["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "tcp://192.0.2.7:8443");
  EXPECT_EQ(run["results"][1]["kind"], "review");
  EXPECT_EQ(run["results"][2]["kind"], "pass");
  EXPECT_EQ(run["tool"]["driver"]["rules"][0]["properties"]["crosswalk"]
               ["etsi_en_303_645"],
            "5.5-1 to 5.5-8");
  EXPECT_EQ(run["properties"]["result"], "not conforming");
}

TEST(Report, PrintableEscapesAndCuts) {
  EXPECT_EQ(Printable(AsBytes("a\r\n\x01")), "a\\r\\n\\x01");
  EXPECT_EQ(Printable(AsBytes("abcdef"), 3), "abc...");
}

}  // namespace
}  // namespace warden::assess
