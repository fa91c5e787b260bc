// The consumer security label: one page that sums up an assessment report
// for a buyer, like a food label, and that anyone can check against the
// report it was made from.
//
// A label is rendered from the report's JSON (ToJson, or a saved
// report.json) and from nothing else, so `warden label` makes the same
// label from a saved report that `warden assess` made. It shows the
// device's identity, the support period end date, the vulnerability
// contact, one verdict for each of the thirteen guidelines, an overall
// level, and a QR code whose text is the SHA-256 of the report's canonical
// JSON (ReportDigest). The same digest and the verdicts are written into
// the SVG's <metadata id="warden-label"> element as JSON, where VerifyLabel
// reads them back.
//
// The label's verdict for a guideline is the report's guideline verdict
// (GuidelineVerdict: FAIL if any unit fails, else PASS if one passes) with
// INCONCLUSIVE and NOT APPLICABLE both shown as "NOT ASSESSED": a buyer is
// told only what was shown to hold or not to hold. The overall level:
//   0 "Not conforming"       a guideline FAILs or the report does not conform
//   1 "Conforming"           the report conforms (every network-tested
//                            guideline PASSes, no unit FAILs)
//   2 "Conforming, PSTI baseline verified"  and guidelines 1, 2, 3 PASS
//   3 "All thirteen guidelines verified"    and every guideline PASSes
#ifndef WARDEN_ASSESS_LABEL_H_
#define WARDEN_ASSESS_LABEL_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/status.h"

namespace warden::assess {

// SHA-256 (lowercase hex) of the report's canonical JSON: members sorted
// by key, no insignificant whitespace, strings as UTF-8 with JSON's
// escapes (nlohmann::json::dump()). A report read back from report.json
// has the digest of the report that was written. kInvalidArgument if the
// JSON holds invalid UTF-8.
Result<std::string> ReportDigest(const nlohmann::json& report);

// The text of the label's QR code: "warden-report:sha256:" + digest.
std::string QrPayload(std::string_view digest);

// What a label shows, taken from a report.
struct LabelFacts {
  std::string digest;
  std::string device;          // the declared product, else the target
  std::string address;         // the address assessed
  std::string assessed_at;     // RFC 3339
  std::string support_until;   // "" when neither declared nor shown
  std::string support_source;  // "declared", "shown by the device"
  std::string contact;         // "" when none found
  std::string contact_source;  // "security.txt", "declared"
  std::array<std::string, 13> verdicts;  // "PASS", "FAIL", "NOT ASSESSED"
  int level = 0;
  std::string level_name;
};

// Reads the facts a label needs from a report's JSON. kInvalidArgument
// when it is not a Warden assessment report ("format" is not
// "warden-assessment/1", or "guidelines" is not the thirteen rows with a
// verdict each).
Result<LabelFacts> LabelFactsFromReport(const nlohmann::json& report);

// The label as a standalone SVG document (600 x 860 user units, fonts
// from the viewer's sans-serif). Every text taken from the report is
// XML-escaped and cut to fit; control characters become '?'.
// kInternal if the QR code cannot be encoded.
Result<std::string> RenderLabelSvg(const LabelFacts& facts);

// The SVG rendered to PNG by librsvg and cairo at `scale` (1.0: 600 x 860
// pixels). kInvalidArgument if librsvg cannot read `svg`; kInternal if
// rendering fails.
Result<Bytes> RenderLabelPng(std::string_view svg, double scale = 1.0);

// What VerifyLabel found. Each check is true when it holds.
struct LabelCheck {
  bool digest_matches = false;        // metadata digest == ReportDigest(report)
  bool qr_matches = false;            // the QR drawn is the one for that digest
  bool verdicts_match = false;        // metadata verdicts and level == report's
  bool text_matches = false;          // the label is exactly the one rendered
                                      // from the report
  std::vector<std::string> problems;  // one line per failed check
  bool ok() const {
    return digest_matches && qr_matches && verdicts_match && text_matches;
  }
};

inline constexpr size_t kMaxLabelBytes = 1024 * 1024;
inline constexpr size_t kMaxLabelMetadataBytes = 4096;

// The JSON in a label's <metadata id="warden-label"> element.
// kInvalidArgument when `svg` is over kMaxLabelBytes, has no such element
// or more than one, the element's text is over kMaxLabelMetadataBytes,
// uses an entity other than the five XML predefines, or is not a JSON
// object with "report_sha256", "verdicts" (13 strings) and "level".
Result<nlohmann::json> ReadLabelMetadata(std::string_view svg);

// Checks a label against a report. kInvalidArgument when the label has no
// readable metadata (ReadLabelMetadata) or the report is not a report
// (LabelFactsFromReport); a label that does not match is a LabelCheck
// whose ok() is false.
Result<LabelCheck> VerifyLabel(std::string_view svg,
                               const nlohmann::json& report);

// Text for XML character data and attribute values: & < > " ' escaped,
// control characters (and DEL) replaced by '?', cut to at most `limit`
// bytes on a UTF-8 boundary with "..." after.
std::string XmlText(std::string_view text, size_t limit = 4096);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_LABEL_H_
