// The system user the app runs as when wardend is root. It must be the
// app's own: a process of the same user passes the kernel's uid checks
// against the app, so it could signal it and, while the app is dumpable,
// read its memory and environment and take its socket (proc(5), "ptrace
// access mode"). A user that other services share (nobody), root, and a
// user that already runs processes when the app starts are therefore
// refused, unless the operator says otherwise (app.allow_shared_user). The
// last check sees what runs when wardend starts the app; keeping the user
// to the app afterwards is the device's packaging's part (a system user
// created for it, e.g. by systemd-sysusers).
#ifndef WARDEN_APP_APP_USER_H_
#define WARDEN_APP_APP_USER_H_

#include <string>

#include "base/status.h"
#include "platform/process.h"

namespace warden::app {

// The user wardend runs the app as unless configured otherwise.
inline constexpr char kDefaultAppUser[] = "warden-app";

// The overflow user, "nobody", that NFS, daemons and containers share.
inline constexpr uid_t kNobodyUid = 65534;

// Looks `user` up and checks that it may run the app. Errors name the user
// and the reason: kNotFound for an unknown user (with how to create one);
// kFailedPrecondition for root (uid 0), nobody (uid 65534) or a user that
// owns running processes, unless `allow_shared`. Meant for when wardend is
// root; a wardend that is not root switches to no user at all.
Result<platform::UserIds> CheckAppUser(const std::string& user,
                                       bool allow_shared);

}  // namespace warden::app

#endif  // WARDEN_APP_APP_USER_H_
