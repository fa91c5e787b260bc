// The assessment report as one HTML page a person reads in a browser or
// files: the device, the overall result, the verdict of each of the
// thirteen guidelines with its crosswalk, and every test group and unit
// with its evidence.
//
// The page is self-contained: inline CSS, no scripts, no external
// resources (no links to stylesheets, images or fonts), so it can be
// opened offline and archived as it is. Everything taken from the report,
// and so from the device (banners, headers, certificate names), is
// HTML-escaped: a hostile device cannot inject markup into the page.
#ifndef WARDEN_ASSESS_HTML_REPORT_H_
#define WARDEN_ASSESS_HTML_REPORT_H_

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace warden::assess {

// Renders the report's JSON (ToJson, or a saved report.json) as HTML, with
// the report's label (RenderLabelSvg) inline beside the summary.
// kInvalidArgument when the JSON is not a Warden assessment report
// (LabelFactsFromReport).
Result<std::string> RenderHtmlReport(const nlohmann::json& report);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_HTML_REPORT_H_
