// `warden update NAME` and the update part of `warden status NAME`: the
// owner's side of the updater API (docs/PROTOCOLS.md, "Updates").
#ifndef WARDEN_CLI_UPDATE_VERBS_H_
#define WARDEN_CLI_UPDATE_VERBS_H_

#include <optional>
#include <string>

#include "schema/json.h"

namespace warden::cli {

struct UpdateArgs {
  std::string name;
  std::string from;  // a repository copy to upload first
  bool check = false;
  bool reinstall = false;  // safe mode: restore the last good release
  bool status = false;     // only show the update status
  std::optional<int> defer_hours;
  bool json = false;
  int timeout_seconds = 600;
};

// Runs the verb: defer, check, or install (from the repository, or from
// `from` uploaded piece by piece), then waits until the device settles
// (through its reboot) and prints the outcome. Exit 0 when the device runs
// the newest release (installed and committed, or nothing newer), 1 when
// the update was refused, rolled back or failed, 2 for bad usage.
int RunUpdate(const std::string& home, const UpdateArgs& args);

// The lines `warden status NAME` adds from /v1/info: support period and
// integrity, when the device has an updater.
void PrintUpdateInfo(const schema::Json& info);

}  // namespace warden::cli

#endif  // WARDEN_CLI_UPDATE_VERBS_H_
