// The assessment report: what `warden assess` found, laid out as ETSI TS
// 103 701 lays out a conformance assessment.
//
// A report holds test groups; each group holds test units. A unit tests one
// guideline of the UK Code of Practice (1..13) through the EN 303 645
// provisions it names, and carries a verdict and the evidence behind it:
// what was sent, what came back, and the SHA-256 of every captured artefact
// (certificates, files), so that a reader can check the verdict without
// trusting the assessor. A verdict is never made from a declaration alone.
//
// Each guideline's crosswalk to EN 303 645, the UK PSTI regulations, EU CRA
// Annex I and NIST IR 8259A is a fixed table here, written into the JSON
// next to every verdict.
#ifndef WARDEN_ASSESS_REPORT_H_
#define WARDEN_ASSESS_REPORT_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/bytes.h"

namespace warden::assess {

enum class Verdict { kPass, kFail, kInconclusive, kNotApplicable };

// "PASS", "FAIL", "INCONCLUSIVE", "NOT APPLICABLE".
std::string_view VerdictName(Verdict v);

// One guideline's row of the crosswalk (PRODUCT.md's table).
struct Crosswalk {
  int guideline;
  std::string_view title;
  std::string_view en_303_645;
  std::string_view uk_psti;
  std::string_view eu_cra;
  std::string_view nist_ir_8259a;
};

// The thirteen rows, guideline 1 first.
const std::array<Crosswalk, 13>& CrosswalkTable();
// Requires 1 <= guideline <= 13.
const Crosswalk& CrosswalkFor(int guideline);

// The guidelines this assessor tests from what a device shows on the
// network. A conforming report has a PASS or FAIL for each of them.
inline constexpr std::array<int, 3> kTestedGuidelines = {2, 5, 6};

// A captured artefact, named and hashed (the bytes stay out of the report).
struct Artefact {
  std::string name;    // e.g. "certificate port 8443 (DER)"
  std::string sha256;  // lowercase hex
  size_t size = 0;
};
Artefact MakeArtefact(std::string name, ByteView data);

struct Evidence {
  std::vector<std::string> sent;      // what the assessor sent, as text
  std::vector<std::string> received;  // what came back, printable and cut
  std::vector<Artefact> artefacts;
};

struct TestUnit {
  std::string id;  // stable: "tls.8443.versions"
  int guideline = 0;
  std::vector<std::string> provisions;  // EN 303 645: "5.5-1"
  std::string title;                    // what the unit checks
  Verdict verdict = Verdict::kInconclusive;
  std::string finding;  // one line: what was found
  Evidence evidence;
  // The unit checks one narrow part of its guideline (what a Warden device
  // shows a stranger, for guidelines 4 and 8; service under held
  // connections, for 9). Its FAIL fails the guideline; its PASS alone does
  // not make the guideline a PASS, because the guideline asks for more
  // than was checked.
  bool partial = false;
};

struct TestGroup {
  std::string id;  // "services", "tls.8443", "disclosure.8443"
  std::string title;
  std::vector<TestUnit> units;
};

// Who the device is and who supports it, for the label: what the maker
// declared and what the device showed. Empty strings are unknown.
struct DeviceFacts {
  std::string product;               // declared: maker and model
  std::string support_until;         // YYYY-MM-DD
  std::string support_until_source;  // "declared"
  std::string contact;               // vulnerability contact
  std::string contact_source;        // "security.txt", "declared"
};

struct Report {
  std::string target;      // as the user named it
  std::string address;     // the address that was assessed
  std::string started_at;  // RFC 3339
  double duration_seconds = 0;
  DeviceFacts device;
  std::vector<TestGroup> groups;
};

// The verdict of a guideline over the report's units: FAIL when any unit
// of it fails, PASS when at least one unit that is not `partial` passes
// and none fails, INCONCLUSIVE when its units are only inconclusive or
// only partial passes, NOT APPLICABLE when every unit is or when there is
// none.
Verdict GuidelineVerdict(const Report& report, int guideline);

// Conforming: no unit FAILs and every guideline in kTestedGuidelines has a
// verdict of PASS.
bool Conforming(const Report& report);

// The report as JSON: the device facts, groups, units (each with its
// crosswalk), a verdict per guideline 1..13 with its crosswalk, and the
// overall result.
nlohmann::json ToJson(const Report& report);

// The report as SARIF 2.1.0 for CI systems: one run of the tool "warden
// assess", one rule per unit id (its guideline, provisions and crosswalk in
// the rule's properties), one result per unit: kind "fail" (level "error"),
// "pass", "review" (INCONCLUSIVE, level "warning") or "notApplicable", its
// location the service's address ("tcp://ADDRESS:PORT", or the address for
// units about the whole device), the evidence in the result's properties.
nlohmann::json ToSarif(const Report& report);

// Makes `bytes` printable for evidence: printable ASCII kept, other bytes
// as \xNN, CR LF as \r\n, cut to `limit` characters with "..." after.
std::string Printable(ByteView bytes, size_t limit = 512);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_REPORT_H_
