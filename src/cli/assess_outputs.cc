#include "cli/assess_outputs.h"

#include <iostream>

#include "assess/html_report.h"
#include "assess/label.h"
#include "client/api_error.h"
#include "platform/file.h"

namespace warden::cli {
namespace {

using Json = nlohmann::json;
using client::Printable;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr size_t kMaxReportBytes = 64 * 1024 * 1024;

std::string MachineJson(const Json& j) {
  return j.dump(2, ' ', false, Json::error_handler_t::replace);
}

Status WriteLabels(const std::string& dir, const Json& report) {
  WARDEN_ASSIGN_OR_RETURN(assess::LabelFacts facts,
                          assess::LabelFactsFromReport(report));
  WARDEN_ASSIGN_OR_RETURN(std::string svg, assess::RenderLabelSvg(facts));
  WARDEN_ASSIGN_OR_RETURN(Bytes png, assess::RenderLabelPng(svg));
  WARDEN_TRY(platform::WriteFileAtomic(platform::JoinPath(dir, "label.svg"),
                                       svg, 0644));
  return platform::WriteFileAtomic(
      platform::JoinPath(dir, "label.png"),
      std::string_view(reinterpret_cast<const char*>(png.data()), png.size()),
      0644);
}

Result<Json> ReadReport(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text,
                          platform::ReadFile(path, kMaxReportBytes));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return InvalidArgumentError(path + ": not JSON");
  }
  return j;
}

int Usage(const std::string& message) {
  std::cerr << "warden: " << Printable(message, 2048) << "\n";
  return kExitUsage;
}

int RunRender(const LabelArgs& a) {
  if (a.report.empty()) return Usage("label: give REPORT.json (or verify)");
  if (a.out.empty()) return Usage("label: --out DIR is required");
  Result<Json> report = ReadReport(a.report);
  if (!report.ok()) return Usage(report.status().message());
  Result<assess::LabelFacts> facts = assess::LabelFactsFromReport(*report);
  if (!facts.ok()) {
    return Usage(a.report + ": " + std::string(facts.status().message()));
  }
  Status st = platform::MakeDirs(a.out, 0755);
  if (st.ok()) st = WriteLabels(a.out, *report);
  if (!st.ok()) {
    std::cerr << "warden: " << Printable(st.message(), 2048) << "\n";
    return kExitFailed;
  }
  std::cout << "label: " << platform::JoinPath(a.out, "label.svg") << ", "
            << platform::JoinPath(a.out, "label.png") << " (level "
            << facts->level << ": " << facts->level_name << "; report sha256 "
            << facts->digest << ")\n";
  return kExitOk;
}

int RunVerify(const LabelArgs& a) {
  Result<std::string> svg =
      platform::ReadFile(a.verify_label, assess::kMaxLabelBytes);
  if (!svg.ok()) return Usage(svg.status().message());
  Result<Json> report = ReadReport(a.verify_report);
  if (!report.ok()) return Usage(report.status().message());
  Result<assess::LabelCheck> check = assess::VerifyLabel(*svg, *report);
  if (!check.ok()) return Usage(check.status().message());
  if (a.json) {
    std::cout << MachineJson({{"match", check->ok()},
                              {"digest", check->digest_matches},
                              {"qr", check->qr_matches},
                              {"verdicts", check->verdicts_match},
                              {"text", check->text_matches},
                              {"problems", check->problems}})
              << "\n";
  } else if (check->ok()) {
    std::cout << "label matches the report (digest, QR code, verdicts, "
                 "text)\n";
  } else {
    for (const std::string& p : check->problems) {
      std::cout << "mismatch: " << Printable(p, 400) << "\n";
    }
  }
  return check->ok() ? kExitOk : kExitFailed;
}

}  // namespace

Status WriteAssessOutputs(const std::string& dir, const Json& report,
                          const Json& sarif) {
  WARDEN_TRY(platform::MakeDirs(dir, 0755));
  WARDEN_TRY(platform::WriteFileAtomic(platform::JoinPath(dir, "report.json"),
                                       MachineJson(report) + "\n", 0644));
  WARDEN_TRY(platform::WriteFileAtomic(platform::JoinPath(dir, "report.sarif"),
                                       MachineJson(sarif) + "\n", 0644));
  WARDEN_ASSIGN_OR_RETURN(std::string html, assess::RenderHtmlReport(report));
  WARDEN_TRY(platform::WriteFileAtomic(platform::JoinPath(dir, "report.html"),
                                       html, 0644));
  return WriteLabels(dir, report);
}

void AddLabelCommands(CLI::App& app, LabelArgs& args) {
  args.label = app.add_subcommand(
      "label",
      "render the security label (label.svg, label.png) from a saved "
      "report, or verify a label against its report");
  args.label->add_option("report", args.report, "report.json");
  args.label->add_option("--out", args.out, "directory for the label files");
  args.verify = args.label->add_subcommand(
      "verify",
      "check a label against a report (exit 0 match, 1 mismatch, 2 "
      "unreadable)");
  args.verify->add_option("label", args.verify_label, "label.svg")->required();
  args.verify->add_option("report", args.verify_report, "report.json")
      ->required();
  args.verify->add_flag("--json", args.json, "print the checks as JSON");
}

int RunLabelCommand(const LabelArgs& args) {
  if (args.verify != nullptr && args.verify->parsed()) return RunVerify(args);
  return RunRender(args);
}

}  // namespace warden::cli
