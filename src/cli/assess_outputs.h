// The files `warden assess --out DIR` writes, and `warden label`: a label
// rendered from a saved report, and `warden label verify`, which checks a
// label against the report it claims to sum up. Printing and exit status
// only; the rendering is src/assess (label.h, html_report.h).
#ifndef WARDEN_CLI_ASSESS_OUTPUTS_H_
#define WARDEN_CLI_ASSESS_OUTPUTS_H_

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/status.h"

namespace warden::cli {

// Writes report.json, report.sarif, report.html, label.svg and label.png
// into `dir` (created if missing), each replaced atomically. The first
// failure is returned; files written before it stay.
Status WriteAssessOutputs(const std::string& dir, const nlohmann::json& report,
                          const nlohmann::json& sarif);

struct LabelArgs {
  std::string report;  // warden label REPORT.json
  std::string out;     // --out DIR
  std::string verify_label;
  std::string verify_report;
  bool json = false;
  CLI::App* label = nullptr;
  CLI::App* verify = nullptr;
};

// Adds `label REPORT.json --out DIR` and `label verify LABEL.svg
// REPORT.json` to `app`; `args` must outlive the parse.
void AddLabelCommands(CLI::App& app, LabelArgs& args);

// Runs whichever of the two was parsed. Exit 0: label written, or the
// label matches the report; 1: writing failed, or the label does not
// match; 2: usage error, or a file unreadable or not a report or label.
int RunLabelCommand(const LabelArgs& args);

}  // namespace warden::cli

#endif  // WARDEN_CLI_ASSESS_OUTPUTS_H_
