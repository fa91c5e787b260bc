#include "assess/report.h"

#include <cstdio>

#include "crypto/hash.h"

namespace warden::assess {
namespace {

const std::array<Crosswalk, 13> kCrosswalk = {{
    {1, "No default passwords", "5.1-1 to 5.1-5", "Sch. 1 para 1",
     "Part I (2)(b), (d)", "Logical access to interfaces"},
    {2, "Vulnerability disclosure policy", "5.2-1 to 5.2-3", "Sch. 1 para 2",
     "Part II (5), (6); Annex II (2)", "(none)"},
    {3, "Keep software updated", "5.3-1 to 5.3-16",
     "Sch. 1 para 3 (support period, 5.3-13)",
     "Part I (2)(a), (c); Part II (2), (7), (8)", "Software update"},
    {4, "Store credentials and security-sensitive data securely",
     "5.4-1 to 5.4-4", "(none)", "Part I (2)(e), (f)", "Data protection"},
    {5, "Communicate securely", "5.5-1 to 5.5-8", "(none)",
     "Part I (2)(d), (e), (f)", "Data protection"},
    {6, "Minimise exposed attack surfaces", "5.6-1 to 5.6-9", "(none)",
     "Part I (2)(b), (j), (k)", "Logical access; device configuration"},
    {7, "Ensure software integrity", "5.7-1, 5.7-2", "(none)",
     "Part I (2)(f), (k)", "Software update; state awareness"},
    {8, "Protect personal data", "5.8-1 to 5.8-3; 6-1 to 6-5", "(none)",
     "Part I (2)(e), (g)", "Data protection"},
    {9, "Make systems resilient to outages", "5.9-1 to 5.9-3", "(none)",
     "Part I (2)(h), (i)", "(none)"},
    {10, "Monitor system telemetry", "5.10-1", "(none)", "Part I (2)(l)",
     "Cybersecurity state awareness"},
    {11, "Make it easy to delete personal data", "5.11-1 to 5.11-4", "(none)",
     "Part I (2)(m)", "Data protection; device configuration"},
    {12, "Make installation and maintenance easy", "5.12-1 to 5.12-3", "(none)",
     "Part I (2)(b); Annex II", "Device configuration"},
    {13, "Validate input data", "5.13-1", "(none)",
     "closest: Part I (2)(f), (k)", "(none)"},
}};

nlohmann::json CrosswalkJson(const Crosswalk& c) {
  return {{"guideline", c.guideline},
          {"title", std::string(c.title)},
          {"etsi_en_303_645", std::string(c.en_303_645)},
          {"uk_psti_2023", std::string(c.uk_psti)},
          {"eu_cra_annex_i", std::string(c.eu_cra)},
          {"nist_ir_8259a", std::string(c.nist_ir_8259a)}};
}

nlohmann::json UnitJson(const TestUnit& u) {
  nlohmann::json artefacts = nlohmann::json::array();
  for (const Artefact& a : u.evidence.artefacts) {
    artefacts.push_back(
        {{"name", a.name}, {"sha256", a.sha256}, {"bytes", a.size}});
  }
  return {{"id", u.id},
          {"guideline", u.guideline},
          {"provisions", u.provisions},
          {"title", u.title},
          {"verdict", std::string(VerdictName(u.verdict))},
          {"partial", u.partial},
          {"finding", u.finding},
          {"evidence",
           {{"sent", u.evidence.sent},
            {"received", u.evidence.received},
            {"artefacts", artefacts}}},
          {"crosswalk", CrosswalkJson(CrosswalkFor(u.guideline))}};
}

}  // namespace

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "PASS";
    case Verdict::kFail:
      return "FAIL";
    case Verdict::kInconclusive:
      return "INCONCLUSIVE";
    case Verdict::kNotApplicable:
      return "NOT APPLICABLE";
  }
  return "INCONCLUSIVE";
}

const std::array<Crosswalk, 13>& CrosswalkTable() { return kCrosswalk; }

const Crosswalk& CrosswalkFor(int guideline) {
  if (guideline < 1 || guideline > 13) guideline = 13;
  return kCrosswalk[static_cast<size_t>(guideline - 1)];
}

Artefact MakeArtefact(std::string name, ByteView data) {
  return Artefact{std::move(name), HexEncode(crypto::Sha256(data)),
                  data.size()};
}

Verdict GuidelineVerdict(const Report& report, int guideline) {
  bool any = false, pass = false, inconclusive = false;
  for (const TestGroup& g : report.groups) {
    for (const TestUnit& u : g.units) {
      if (u.guideline != guideline) continue;
      any = true;
      if (u.verdict == Verdict::kFail) return Verdict::kFail;
      if (u.verdict == Verdict::kPass && !u.partial) pass = true;
      if (u.verdict == Verdict::kInconclusive ||
          (u.verdict == Verdict::kPass && u.partial)) {
        inconclusive = true;
      }
    }
  }
  if (!any) return Verdict::kNotApplicable;
  if (pass) return Verdict::kPass;
  if (inconclusive) return Verdict::kInconclusive;
  return Verdict::kNotApplicable;
}

bool Conforming(const Report& report) {
  for (const TestGroup& g : report.groups) {
    for (const TestUnit& u : g.units) {
      if (u.verdict == Verdict::kFail) return false;
    }
  }
  for (int guideline : kTestedGuidelines) {
    if (GuidelineVerdict(report, guideline) != Verdict::kPass) return false;
  }
  return true;
}

nlohmann::json ToJson(const Report& report) {
  nlohmann::json groups = nlohmann::json::array();
  size_t counts[4] = {0, 0, 0, 0};
  for (const TestGroup& g : report.groups) {
    nlohmann::json units = nlohmann::json::array();
    for (const TestUnit& u : g.units) {
      units.push_back(UnitJson(u));
      ++counts[static_cast<int>(u.verdict)];
    }
    groups.push_back({{"id", g.id}, {"title", g.title}, {"units", units}});
  }
  nlohmann::json guidelines = nlohmann::json::array();
  for (const Crosswalk& c : kCrosswalk) {
    bool tested = false;
    for (int t : kTestedGuidelines) tested = tested || t == c.guideline;
    nlohmann::json row = CrosswalkJson(c);
    row["verdict"] =
        std::string(VerdictName(GuidelineVerdict(report, c.guideline)));
    row["tested_over_network"] = tested;
    guidelines.push_back(std::move(row));
  }
  const bool conforming = Conforming(report);
  return {{"format", "warden-assessment/1"},
          {"structure", "ETSI TS 103 701 test groups and test units"},
          {"target", report.target},
          {"address", report.address},
          {"started_at", report.started_at},
          {"duration_seconds", report.duration_seconds},
          {"device",
           {{"product", report.device.product},
            {"support_until", report.device.support_until},
            {"support_until_source", report.device.support_until_source},
            {"contact", report.device.contact},
            {"contact_source", report.device.contact_source}}},
          {"result", conforming ? "conforming" : "not conforming"},
          {"conforming", conforming},
          {"counts",
           {{"PASS", counts[0]},
            {"FAIL", counts[1]},
            {"INCONCLUSIVE", counts[2]},
            {"NOT APPLICABLE", counts[3]}}},
          {"guidelines", guidelines},
          {"groups", groups}};
}

nlohmann::json ToSarif(const Report& report) {
  nlohmann::json rules = nlohmann::json::array();
  nlohmann::json results = nlohmann::json::array();
  std::vector<std::string> rule_ids;
  for (const TestGroup& g : report.groups) {
    for (const TestUnit& u : g.units) {
      size_t index = 0;
      while (index < rule_ids.size() && rule_ids[index] != u.id) ++index;
      if (index == rule_ids.size()) {
        rule_ids.push_back(u.id);
        rules.push_back(
            {{"id", u.id},
             {"shortDescription", {{"text", u.title.empty() ? u.id : u.title}}},
             {"properties",
              {{"guideline", u.guideline},
               {"provisions", u.provisions},
               {"crosswalk", CrosswalkJson(CrosswalkFor(u.guideline))}}}});
      }
      std::string kind = "pass", level = "none";
      if (u.verdict == Verdict::kFail) {
        kind = "fail";
        level = "error";
      } else if (u.verdict == Verdict::kInconclusive) {
        kind = "review";
        level = "warning";
      } else if (u.verdict == Verdict::kNotApplicable) {
        kind = "notApplicable";
      }
      // The port is the second part of ids such as "tls.8443.versions".
      std::string uri = "tcp://" + report.address;
      const size_t first = u.id.find('.');
      const size_t second = u.id.find('.', first + 1);
      if (first != std::string::npos && second != std::string::npos) {
        const std::string port = u.id.substr(first + 1, second - first - 1);
        if (!port.empty() &&
            port.find_first_not_of("0123456789") == std::string::npos) {
          uri += ":" + port;
        }
      }
      nlohmann::json artefacts = nlohmann::json::array();
      for (const Artefact& a : u.evidence.artefacts) {
        artefacts.push_back({{"name", a.name}, {"sha256", a.sha256}});
      }
      results.push_back(
          {{"ruleId", u.id},
           {"ruleIndex", index},
           {"kind", kind},
           {"level", level},
           {"message", {{"text", u.finding.empty() ? u.id : u.finding}}},
           {"locations",
            {{{"physicalLocation", {{"artifactLocation", {{"uri", uri}}}}}}}},
           {"properties",
            {{"verdict", std::string(VerdictName(u.verdict))},
             {"sent", u.evidence.sent},
             {"received", u.evidence.received},
             {"artefacts", artefacts}}}});
    }
  }
  return {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       {{{"tool",
          {{"driver",
            {{"name", "warden assess"},
             {"informationUri",
              "https://www.etsi.org/deliver/etsi_en/303600_303699/303645/"},
             {"rules", rules}}}}},
         {"properties",
          {{"target", report.target},
           {"result", Conforming(report) ? "conforming" : "not conforming"}}},
         {"results", results}}}}};
}

std::string Printable(ByteView bytes, size_t limit) {
  std::string out;
  for (uint8_t b : bytes) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    if (b == '\r') {
      out += "\\r";
    } else if (b == '\n') {
      out += "\\n";
    } else if (b == '\\') {
      out += "\\\\";
    } else if (b >= 0x20 && b < 0x7f) {
      out += static_cast<char>(b);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", b);
      out += buf;
    }
  }
  return out;
}

}  // namespace warden::assess
