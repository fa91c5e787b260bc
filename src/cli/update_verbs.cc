#include "cli/update_verbs.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <regex>
#include <thread>

#include "base/bytes.h"
#include "client/api_error.h"
#include "client/owner.h"
#include "platform/file.h"

namespace warden::cli {
namespace {

using schema::Json;

// 8000 characters of base64: under the API's 8 KiB limit on one JSON string.
constexpr size_t kPiece = 6000;
constexpr size_t kMaxFile = size_t{512} << 20;

int Failed(const Status& st) {
  std::cerr << "warden: " << client::Printable(st.message(), 2048) << "\n";
  return 1;
}

std::string Text(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return client::Printable(it->get<std::string>(), 1024);
}

void PrintStatus(const std::string& name, const Json& s) {
  std::cout << name << ": " << Text(s, "phase") << ", running "
            << Text(s, "current_version");
  if (!Text(s, "available_version").empty()) {
    std::cout << ", available " << Text(s, "available_version");
  }
  std::cout << "\n";
  if (!Text(s, "last_outcome").empty()) {
    std::cout << "  last outcome: " << Text(s, "last_outcome");
    if (!Text(s, "last_detail").empty()) {
      std::cout << " (" << Text(s, "last_detail") << ")";
    }
    std::cout << "\n";
  }
  if (!Text(s, "support_until").empty()) {
    std::cout << "  security support until " << Text(s, "support_until")
              << (s.value("supported", true) ? "" : " (ENDED)") << "\n";
  }
  if (s.contains("deferred_until") && s["deferred_until"].is_number()) {
    std::cout << "  deferred until " << s["deferred_until"].get<int64_t>()
              << " (unix time)\n";
  }
  if (s.contains("integrity") && !s["integrity"].value("ok", true)) {
    std::cout << "  SAFE MODE: " << Text(s["integrity"], "reason") << "\n";
  }
}

// The files of a published copy that the device takes, in the order it
// needs them: metadata first.
Result<std::vector<std::string>> CopyFiles(const std::string& dir) {
  static const std::regex kAllowed(
      "^(metadata/([0-9]{1,9}\\.(root|snapshot|targets)|root|timestamp)\\."
      "json|targets/[0-9a-f]{64}\\.[a-z0-9][a-z0-9-]{0,62}\\.img)$");
  std::vector<std::string> out;
  for (const char* sub : {"metadata", "targets"}) {
    std::error_code ec;
    std::filesystem::directory_iterator it(std::filesystem::path(dir) / sub,
                                           ec);
    if (ec) return NotFoundError(dir + "/" + sub + ": " + ec.message());
    std::vector<std::string> names;
    for (const auto& e : it) {
      std::string rel = std::string(sub) + "/" + e.path().filename().string();
      if (std::regex_match(rel, kAllowed)) names.push_back(rel);
    }
    std::sort(names.begin(), names.end());
    out.insert(out.end(), names.begin(), names.end());
  }
  return out;
}

Status Upload(client::DeviceSession& s, const std::string& dir) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<std::string> files, CopyFiles(dir));
  WARDEN_TRY(s.UpdateAction("upload", {{"reset", true}}).status());
  for (const std::string& rel : files) {
    WARDEN_ASSIGN_OR_RETURN(std::string bytes,
                            platform::ReadFile(dir + "/" + rel, kMaxFile));
    size_t at = 0;
    do {
      std::string_view piece = std::string_view(bytes).substr(at, kPiece);
      WARDEN_TRY(
          s.UpdateAction("upload", {{"path", rel},
                                    {"offset", at},
                                    {"data", Base64Encode(AsBytes(piece))}})
              .status());
      at += piece.size();
    } while (at < bytes.size());
  }
  return Status::Ok();
}

// Polls the status until the device is idle again, across its reboot
// (the connection drops while wardend restarts).
Result<Json> Settle(const std::string& home, const std::string& name,
                    int timeout_seconds) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  Status last = UnavailableError("the device did not answer");
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = client::DeviceSession::Open(home, name);
    if (s.ok()) {
      auto st = s->UpdateStatus();
      if (st.ok()) {
        const std::string phase = Text(*st, "phase");
        const bool settled = !st->value("busy", false) &&
                             phase != "downloading" && phase != "verified" &&
                             phase != "trial_pending" && phase != "trial";
        if (settled) return *st;
      } else {
        last = st.status();
      }
    } else {
      last = s.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return DeadlineExceededError("the update did not settle: " + last.message());
}

}  // namespace

int RunUpdate(const std::string& home, const UpdateArgs& a) {
  auto s = client::DeviceSession::Open(home, a.name);
  if (!s.ok()) return Failed(s.status());
  if (a.status) {
    auto st = s->UpdateStatus();
    if (!st.ok()) return Failed(st.status());
    if (a.json) {
      std::cout << st->dump(2) << "\n";
    } else {
      PrintStatus(a.name, *st);
    }
    return 0;
  }
  if (a.defer_hours) {
    auto st = s->UpdateAction("defer", {{"hours", *a.defer_hours}});
    if (!st.ok()) return Failed(st.status());
    if (a.json) {
      std::cout << st->dump(2) << "\n";
    } else {
      PrintStatus(a.name, *st);
    }
    return 0;
  }
  Json body = Json::object();
  if (!a.from.empty()) {
    Status up = Upload(*s, a.from);
    if (!up.ok()) return Failed(up);
    body["source"] = "upload";
  }
  const char* action = a.reinstall ? "reinstall"
                       : a.check   ? "check"
                                   : "install";
  auto started = s->UpdateAction(action, body);
  if (!started.ok()) return Failed(started.status());
  auto after = Settle(home, a.name, a.timeout_seconds);
  if (!after.ok()) return Failed(after.status());
  if (a.json) {
    std::cout << after->dump(2) << "\n";
  } else {
    PrintStatus(a.name, *after);
  }
  const std::string outcome = Text(*after, "last_outcome");
  if (outcome.rfind("refused", 0) == 0 || outcome == "rolled_back" ||
      outcome == "interrupted") {
    return 1;
  }
  if (a.reinstall) {
    return after->contains("integrity") &&
                   (*after)["integrity"].value("ok", false)
               ? 0
               : 1;
  }
  if (a.check) return 0;
  return Text(*after, "available_version").empty() ||
                 Text(*after, "available_version") ==
                     Text(*after, "current_version")
             ? 0
             : 1;
}

void PrintUpdateInfo(const Json& info) {
  if (!info.contains("integrity")) return;
  // support_end, printed above, is the running release's support_until.
  if (!info.value("supported", true)) {
    std::cout << "  security support ENDED on " << Text(info, "support_until")
              << ": this release gets no more security updates\n";
  }
  if (!info["integrity"].value("ok", true)) {
    std::cout << "  SAFE MODE: the installed system failed its integrity "
                 "check: "
              << Text(info["integrity"], "reason")
              << "\n  (warden update NAME --reinstall restores it)\n";
  }
}

}  // namespace warden::cli
