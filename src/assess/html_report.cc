#include "assess/html_report.h"

#include "assess/label.h"

namespace warden::assess {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxField = 16 * 1024;

std::string Str(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number() || it->is_boolean()) return it->dump();
  return "";
}

// Whether member `name` of `v` is true; false when absent or not a bool.
bool Flag(const Json& v, std::string_view name) {
  auto it = v.find(name);
  return it != v.end() && it->is_boolean() && it->get<bool>();
}

std::string H(std::string_view text) { return XmlText(text, kMaxField); }

std::string VerdictClass(std::string_view v) {
  if (v == "PASS") return "pass";
  if (v == "FAIL") return "fail";
  if (v == "INCONCLUSIVE") return "inconclusive";
  return "na";
}

std::string Badge(std::string_view v) {
  return "<span class=\"v " + VerdictClass(v) + "\">" + H(v) + "</span>";
}

// The strings of `j[key]`, if it is an array.
std::string List(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->empty()) return "";
  std::string out = "<ul>";
  for (const Json& item : *it) {
    if (item.is_string())
      out += "<li><code>" + H(item.get<std::string>()) + "</code></li>";
  }
  return out + "</ul>";
}

constexpr std::string_view kStyle = R"(
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px;
color:#1f2328;background:#fff;max-width:1100px}
h1{font-size:24px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 8px;
border-bottom:1px solid #d0d7de}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;
vertical-align:top}th{background:#f6f8fa}
.v{display:inline-block;min-width:110px;text-align:center;color:#fff;white-space:nowrap;
font-weight:bold;border-radius:4px;padding:1px 4px;font-size:12px}
.pass{background:#1a7f37}.fail{background:#cf222e}
.inconclusive{background:#9a6700}.na{background:#6e7781}
.summary{display:flex;gap:24px;align-items:flex-start}
.summary svg{width:300px;height:450px;flex:none}
.result{font-size:18px;font-weight:bold}
code{font-family:"DejaVu Sans Mono",monospace;font-size:12px;
white-space:pre-wrap;word-break:break-all}
ul{margin:2px 0;padding-left:18px}
details{margin:2px 0}
)";

}  // namespace

Result<std::string> RenderHtmlReport(const Json& report) {
  WARDEN_ASSIGN_OR_RETURN(LabelFacts facts, LabelFactsFromReport(report));
  WARDEN_ASSIGN_OR_RETURN(std::string label, RenderLabelSvg(facts));
  // Inline in HTML the parser puts <svg> in the SVG namespace itself; the
  // page then names no URL at all.
  if (label.rfind("<?xml", 0) == 0) label.erase(0, label.find('\n') + 1);
  constexpr std::string_view kXmlns = " xmlns=\"http://www.w3.org/2000/svg\"";
  if (size_t at = label.find(kXmlns); at != std::string::npos) {
    label.erase(at, kXmlns.size());
  }

  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
      "'none'; style-src 'unsafe-inline'; img-src data:\">\n"
      "<title>Assessment of " +
      H(Str(report, "target")) + "</title>\n<style>" + std::string(kStyle) +
      "</style>\n</head>\n<body>\n";
  h += "<h1>Security assessment of " + H(facts.device) + "</h1>\n";
  h += "<div class=\"summary\">\n<div>\n<table>\n";
  auto row = [&](std::string_view name, const std::string& value) {
    h += "<tr><th>" + H(name) + "</th><td>" + value + "</td></tr>\n";
  };
  row("Target", H(Str(report, "target")));
  row("Address", H(Str(report, "address")));
  row("Started", H(Str(report, "started_at")));
  row("Duration", H(Str(report, "duration_seconds")) + " s");
  row("Supported until",
      facts.support_until.empty()
          ? "not declared"
          : H(facts.support_until) + " (" + H(facts.support_source) + ")");
  row("Vulnerability contact",
      facts.contact.empty()
          ? "none found"
          : H(facts.contact) + " (" + H(facts.contact_source) + ")");
  row("Result",
      "<span class=\"result\">" + H(Str(report, "result")) + "</span>");
  row("Label level", std::to_string(facts.level) + ": " + H(facts.level_name));
  row("Report SHA-256", "<code>" + H(facts.digest) + "</code>");
  if (auto c = report.find("counts"); c != report.end() && c->is_object()) {
    row("Units", H(Str(*c, "PASS")) + " pass, " + H(Str(*c, "FAIL")) +
                     " fail, " + H(Str(*c, "INCONCLUSIVE")) +
                     " inconclusive, " + H(Str(*c, "NOT APPLICABLE")) +
                     " not applicable");
  }
  h += "</table>\n<p>Structure: ETSI TS 103 701 test groups and test units. "
       "A guideline FAILs when any of its units fails and PASSes when one "
       "passes and none fails. A maker's declaration alone never makes a "
       "PASS.</p>\n</div>\n";
  h += label + "</div>\n";

  h += "<h2>Guidelines</h2>\n<table>\n<tr><th>#</th><th>Guideline</th>"
       "<th>Verdict</th><th>ETSI EN 303 645</th><th>UK PSTI 2023</th>"
       "<th>EU CRA Annex I</th><th>NIST IR 8259A</th></tr>\n";
  for (const Json& g : report["guidelines"]) {
    h += "<tr><td>" + H(Str(g, "guideline")) + "</td><td>" +
         H(Str(g, "title")) + "</td><td>" + Badge(Str(g, "verdict")) +
         "</td><td>" + H(Str(g, "etsi_en_303_645")) + "</td><td>" +
         H(Str(g, "uk_psti_2023")) + "</td><td>" + H(Str(g, "eu_cra_annex_i")) +
         "</td><td>" + H(Str(g, "nist_ir_8259a")) + "</td></tr>\n";
  }
  h += "</table>\n";

  h += "<h2>Test groups</h2>\n";
  auto groups = report.find("groups");
  if (groups != report.end() && groups->is_array()) {
    for (const Json& g : *groups) {
      if (!g.is_object()) continue;
      h += "<h3>" + H(Str(g, "title")) + " <code>" + H(Str(g, "id")) +
           "</code></h3>\n<table>\n<tr><th>Unit</th><th>Verdict</th>"
           "<th>Guideline</th><th>What was found</th><th>Evidence</th></tr>\n";
      auto units = g.find("units");
      if (units == g.end() || !units->is_array()) continue;
      for (const Json& u : *units) {
        if (!u.is_object()) continue;
        std::string provisions;
        if (auto p = u.find("provisions"); p != u.end() && p->is_array()) {
          for (const Json& x : *p) {
            if (x.is_string()) {
              provisions +=
                  (provisions.empty() ? "" : ", ") + H(x.get<std::string>());
            }
          }
        }
        std::string evidence;
        if (auto e = u.find("evidence"); e != u.end() && e->is_object()) {
          const std::string sent = List(*e, "sent");
          const std::string received = List(*e, "received");
          std::string artefacts;
          if (auto a = e->find("artefacts"); a != e->end() && a->is_array()) {
            for (const Json& x : *a) {
              if (!x.is_object()) continue;
              artefacts += "<li>" + H(Str(x, "name")) + ": " +
                           H(Str(x, "bytes")) + " bytes, SHA-256 <code>" +
                           H(Str(x, "sha256")) + "</code></li>";
            }
          }
          evidence = "<details><summary>sent, received</summary>" +
                     (sent.empty() ? "" : "<b>Sent</b>" + sent) +
                     (received.empty() ? "" : "<b>Received</b>" + received) +
                     (artefacts.empty()
                          ? ""
                          : "<b>Artefacts</b><ul>" + artefacts + "</ul>") +
                     "</details>";
        }
        h += "<tr><td><code>" + H(Str(u, "id")) + "</code><br>" +
             H(Str(u, "title")) + "</td><td>" + Badge(Str(u, "verdict")) +
             (Flag(u, "partial") ? "<br><small>partial check</small>" : "") +
             "</td><td>" + H(Str(u, "guideline")) +
             (provisions.empty() ? "" : " (" + provisions + ")") + "</td><td>" +
             H(Str(u, "finding")) + "</td><td>" + evidence + "</td></tr>\n";
      }
      h += "</table>\n";
    }
  }
  h += "<p>Made by warden assess. Check the label against this report with "
       "<code>warden label verify label.svg report.json</code>.</p>\n"
       "</body>\n</html>\n";
  return h;
}

}  // namespace warden::assess
