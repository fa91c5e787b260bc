// Child processes: starting an application with one end of a socket pair,
// dropping its privileges, signalling it and reaping it; and the few facts
// about other processes that isolating the app needs. errno stops here:
// every failure comes back as a Status.
//
// The child is started in a new session, with the socket end on a fixed
// descriptor number (kChildSocketFd) whose number is also put in the
// environment, stdin on /dev/null, every other descriptor above the socket
// closed, and no_new_privs set. Its environment is exactly what the caller
// lists: nothing of the caller's own environment is passed on, because
// wardend's environment is not the app's business and a process of the
// app's user could read it from /proc/PID/environ while the app is
// dumpable. When the parent is root and a user is named, the child runs as
// that user, with that user's group and supplementary groups.
//
// The parent-death signal (SIGTERM) is armed after the user switch, because
// changing credentials clears it (prctl(2), PR_SET_PDEATHSIG), and the
// child then checks that its parent is still the one that forked it, so an
// app never outlives a wardend that died while it was being started. The
// signal follows the thread that called SpawnWithSocket: call it from a
// thread that lives as long as the child should.
//
// What the child cannot do for the program is make it non-dumpable:
// execve(2) sets the dumpable flag again for a program run with matching
// real and effective ids. The program must call prctl(PR_SET_DUMPABLE, 0)
// itself (the app SDK does, first thing); ProcFilesOwner() tells the parent
// whether it did.
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
  // The child's whole environment, "NAME=value" entries; fd_env_var is
  // added. Nothing is inherited.
  std::vector<std::string> env;
  // The variable that carries kChildSocketFd ("3").
  std::string fd_env_var = "WARDEN_APP_FD";
  // Honoured only when the caller's effective uid is 0; otherwise the child
  // keeps the caller's identity.
  std::optional<std::string> run_as_user;
  // When true, the child's stdout and stderr are pipes whose read ends the
  // caller gets (Child::stdout_fd, stderr_fd) and must drain or close;
  // otherwise they are the caller's own.
  bool capture_output = false;
};

// A started child. The caller owns `socket_fd`, `pidfd`, `stdout_fd` and
// `stderr_fd` (close them) and must reap `pid`.
struct Child {
  pid_t pid = -1;
  uid_t uid = 0;       // the user the program runs as
  int socket_fd = -1;  // parent's end, SOCK_STREAM, close-on-exec, blocking
  int pidfd = -1;      // readable once the child exits; -1 if the kernel
                       // has no pidfd_open
  // Read ends of the child's stdout and stderr, close-on-exec, blocking;
  // -1 unless capture_output.
  int stdout_fd = -1;
  int stderr_fd = -1;
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
// cannot be executed (missing, not executable), a privilege drop that fails
// or a parent that died during the start is reported here (kNotFound,
// kPermissionDenied or kIo) and leaves no process behind. An empty argv is
// kInvalidArgument; an unknown run_as_user is kNotFound.
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

// Replaces the running program with a fresh start of itself
// (/proc/self/exe) with `argv` and the current environment: how wardend
// "reboots" on the file-backed slots. Every descriptor is close-on-exec, so
// nothing leaks into the new image. Returns only on failure (kIo).
Status ReExecSelf(const std::vector<std::string>& argv);

// pidfd_open(2): a descriptor that becomes readable when `pid` exits, or
// kUnavailable when the kernel lacks it.
Result<int> OpenPidFd(pid_t pid);

// The live processes (zombies excluded: they hold no memory or descriptors)
// whose real, effective, saved or file-system uid is `uid`, in /proc order.
// Processes that /proc hides from the caller (hidepid) are not seen, so
// call it as root.
Result<std::vector<pid_t>> ProcessesOfUser(uid_t uid);

// The owner the kernel gives the files of /proc/PID (environ, mem, fd/...):
// the process's effective uid while it is dumpable, root (uid 0) once it is
// not (proc(5): the same get_dumpable() test makes other processes of its
// user fail the ptrace access checks). The directory /proc/PID itself keeps
// the effective uid either way, for ps, so it tells nothing. kNotFound once
// the process is gone.
Result<uid_t> ProcFilesOwner(pid_t pid);

// Makes the heap this program frees be overwritten, so that what it held
// (personal data, key material it did not wipe itself) does not stay in
// freed memory where a core dump or a memory read finds it after it was
// deleted. glibc does this when started with the tunables
// glibc.malloc.perturb (the byte freed memory is filled with) and
// glibc.malloc.tcache_count=0 (the per-thread cache, which bypasses the
// fill); they are read only at start, so when they are not set this adds
// them to GLIBC_TUNABLES and executes the program again (/proc/self/exe,
// same `argv`), and does not return. Returns Ok when they are in effect,
// or an error when the program cannot be started again. Call it first
// thing in main, before any thread starts.
Status ScrubFreedMemory(char** argv);

}  // namespace warden::platform

#endif  // WARDEN_PLATFORM_PROCESS_H_
