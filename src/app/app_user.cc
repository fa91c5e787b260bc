#include "app/app_user.h"

#include <vector>

namespace warden::app {
namespace {

constexpr size_t kPidsNamed = 5;

std::string Quoted(const std::string& user) { return "\"" + user + "\""; }

std::string Remedy() {
  return "; give the app a system user of its own (app.user, --app-user), "
         "or allow a shared one with app.allow_shared_user "
         "(--app-allow-shared-user)";
}

}  // namespace

Result<platform::UserIds> CheckAppUser(const std::string& user,
                                       bool allow_shared) {
  Result<platform::UserIds> ids = platform::LookupUser(user);
  if (!ids.ok()) {
    if (ids.status().code() != Code::kNotFound) return ids.status();
    return NotFoundError(
        "app user " + Quoted(user) +
        " does not exist: create a system user for the app (useradd "
        "--system --no-create-home --shell /usr/sbin/nologin " +
        user + ", or systemd-sysusers)");
  }
  if (allow_shared) return ids;
  if (ids->uid == 0) {
    return FailedPreconditionError(
        "app user " + Quoted(user) +
        " is root (uid 0): the app would hold every privilege wardend has" +
        Remedy());
  }
  if (ids->uid == kNobodyUid || user == "nobody") {
    return FailedPreconditionError(
        "app user " + Quoted(user) + " (uid " + std::to_string(ids->uid) +
        ") is shared by other services, whose processes could read the "
        "app's memory and environment and take its socket" +
        Remedy());
  }
  WARDEN_ASSIGN_OR_RETURN(std::vector<pid_t> running,
                          platform::ProcessesOfUser(ids->uid));
  if (!running.empty()) {
    std::string pids;
    for (size_t i = 0; i < running.size() && i < kPidsNamed; ++i) {
      if (!pids.empty()) pids += ", ";
      pids += std::to_string(running[i]);
    }
    if (running.size() > kPidsNamed) pids += ", ...";
    return FailedPreconditionError(
        "app user " + Quoted(user) + " (uid " + std::to_string(ids->uid) +
        ") already runs processes (pid " + pids +
        "): another service shares it and could reach the app" + Remedy());
  }
  return ids;
}

}  // namespace warden::app
