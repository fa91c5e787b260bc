// Child processes: starting an application with one end of a socket pair,
// dropping its privileges, signalling it and reaping it. errno stops here:
// every failure comes back as a Status.
//
// The child is started in a new session, with the socket end on a fixed
// descriptor number (kChildSocketFd) whose number is also put in the
// environment, every other descriptor above stderr closed, no_new_privs set,
// and SIGTERM delivered to it if the parent dies. When the parent is root and
// a user is named, the child runs as that user, with that user's group and
// supplementary groups, before it executes the program.
#ifndef WARDEN_PLATFORM_PROCESS_H_
#define WARDEN_PLATFORM_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace warden::platform {

// The descriptor number the child finds its socket end on.
inline constexpr int kChildSocketFd = 3;

struct SpawnOptions {
  // argv[0] is the program's path, executed as given (no PATH search).
  std::vector<std::string> argv;
  // "NAME=value" entries added to the inherited environment; they replace
  // inherited variables of the same name.
  std::vector<std::string> env;
  // The variable that carries kChildSocketFd ("3").
  std::string fd_env_var = "WARDEN_APP_FD";
  // Honoured only when the caller's effective uid is 0; otherwise the child
  // keeps the caller's identity.
  std::optional<std::string> run_as_user;
};

// A started child. The caller owns `socket_fd` and `pidfd` (close them) and
// must reap `pid`.
struct Child {
  pid_t pid = -1;
  int socket_fd = -1;  // parent's end, SOCK_STREAM, close-on-exec, blocking
  int pidfd = -1;      // readable once the child exits; -1 if the kernel
                       // has no pidfd_open
};

struct ExitStatus {
  bool exited = false;  // true: `code` is the exit code
  int code = 0;
  int signal = 0;  // the signal that ended the process when !exited
  // "exit code 3" or "killed by signal 9".
  std::string ToString() const;
};

struct UserIds {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, primary one included
};

// Looks `name` up in the user database. kNotFound for an unknown user.
Result<UserIds> LookupUser(const std::string& name);

// Checks that `user` may search every directory from "/" down to `dir`
// (by owner, group or other permission bits), so a child running as that
// user can reach `dir`. kPermissionDenied names the first directory that
// stops it.
Status CheckUserCanReach(const std::string& dir, const UserIds& user);

// Starts argv[0]. Returns once the program has been executed: a program that
// cannot be executed (missing, not executable) or a privilege drop that
// fails is reported here (kNotFound, kPermissionDenied or kIo) and leaves no
// process behind. An empty argv is kInvalidArgument; an unknown run_as_user
// is kNotFound.
Result<Child> SpawnWithSocket(const SpawnOptions& options);

// Sends `sig` to the child (through `pidfd` when it is valid, immune to pid
// reuse) and to the rest of its process group, i.e. what it started and did
// not move elsewhere. Call only before the child is reaped. A child that has
// already exited is not an error.
Status SendSignal(pid_t pid, int pidfd, int sig);

// Reaps `pid` if it has exited; nullopt while it runs.
Result<std::optional<ExitStatus>> TryReap(pid_t pid);

// Sends SIGTERM (as SendSignal), waits up to `grace` for the child to exit,
// then sends SIGKILL; returns once the child is reaped. Blocks the calling
// thread for at most `grace` plus the time the kernel takes to kill.
Result<ExitStatus> TerminateAndReap(pid_t pid, int pidfd,
                                    std::chrono::milliseconds grace);

// pidfd_open(2): a descriptor that becomes readable when `pid` exits, or
// kUnavailable when the kernel lacks it.
Result<int> OpenPidFd(pid_t pid);

}  // namespace warden::platform

#endif  // WARDEN_PLATFORM_PROCESS_H_
