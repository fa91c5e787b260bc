#include "platform/process.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "platform/file.h"

extern char** environ;

namespace warden::platform {
namespace {

#ifndef CLOSE_RANGE_CLOEXEC
constexpr unsigned kCloseRangeCloexec = 1U << 2;
#else
constexpr unsigned kCloseRangeCloexec = CLOSE_RANGE_CLOEXEC;
#endif

// Steps of the child's set-up, reported back through the error pipe.
enum Stage : int {
  kStageSignals = 1,
  kStageSession,
  kStageDeathSignal,
  kStageParentGone,
  kStageDupSocket,
  kStageCloseFds,
  kStageGroups,
  kStageGid,
  kStageUid,
  kStageRegain,
  kStageNoNewPrivs,
  kStageExec,
};

const char* StageName(int stage) {
  switch (stage) {
    case kStageSignals:
      return "reset signals";
    case kStageSession:
      return "setsid";
    case kStageDeathSignal:
      return "prctl(PR_SET_PDEATHSIG)";
    case kStageParentGone:
      return "parent exited";
    case kStageDupSocket:
      return "dup2 socket";
    case kStageCloseFds:
      return "close descriptors";
    case kStageGroups:
      return "setgroups";
    case kStageGid:
      return "setgid";
    case kStageUid:
      return "setuid";
    case kStageRegain:
      return "privileges could be regained";
    case kStageNoNewPrivs:
      return "prctl(PR_SET_NO_NEW_PRIVS)";
    case kStageExec:
      return "exec";
  }
  return "child set-up";
}

// Everything the child needs, prepared before fork so that the child only
// makes async-signal-safe calls.
struct ChildPlan {
  std::vector<char*> argv;
  std::vector<char*> envp;
  int socket_fd = -1;
  int error_fd = -1;
  pid_t parent = 0;
  bool drop = false;
  UserIds ids;
};

[[noreturn]] void Fail(int error_fd, int stage) {
  int report[2] = {stage, errno};
  ssize_t unused = ::write(error_fd, report, sizeof(report));
  (void)unused;
  ::_exit(127);
}

[[noreturn]] void RunChild(const ChildPlan& plan) {
  int error_fd = plan.error_fd;
  // Dispositions and the mask survive exec; the app starts from defaults.
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for RT internals
  }
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) {
    Fail(error_fd, kStageSignals);
  }
  if (::setsid() < 0) Fail(error_fd, kStageSession);
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) {
    Fail(error_fd, kStageDeathSignal);
  }
  // The parent may have died before the death signal was armed.
  if (::getppid() != plan.parent) Fail(error_fd, kStageParentGone);

  // Keep the error pipe clear of the fixed socket number.
  if (error_fd <= kChildSocketFd) {
    int moved = ::fcntl(error_fd, F_DUPFD_CLOEXEC, kChildSocketFd + 1);
    if (moved < 0) Fail(error_fd, kStageDupSocket);
    error_fd = moved;
  }
  if (plan.socket_fd == kChildSocketFd) {
    if (::fcntl(kChildSocketFd, F_SETFD, 0) != 0) {
      Fail(error_fd, kStageDupSocket);
    }
  } else if (::dup2(plan.socket_fd, kChildSocketFd) < 0) {
    Fail(error_fd, kStageDupSocket);
  }
  // Everything above the socket closes at exec, whatever its flags were.
  if (::syscall(SYS_close_range, kChildSocketFd + 1, ~0U, kCloseRangeCloexec) !=
      0) {
    long max_fd = ::sysconf(_SC_OPEN_MAX);
    if (max_fd < 0 || max_fd > 1 << 20) max_fd = 1 << 20;
    for (int fd = kChildSocketFd + 1; fd < max_fd; ++fd) {
      if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 && errno != EBADF) {
        Fail(error_fd, kStageCloseFds);
      }
    }
  }
  if (plan.drop) {
    if (::setgroups(plan.ids.groups.size(), plan.ids.groups.data()) != 0) {
      Fail(error_fd, kStageGroups);
    }
    if (::setresgid(plan.ids.gid, plan.ids.gid, plan.ids.gid) != 0) {
      Fail(error_fd, kStageGid);
    }
    if (::setresuid(plan.ids.uid, plan.ids.uid, plan.ids.uid) != 0) {
      Fail(error_fd, kStageUid);
    }
    if (plan.ids.uid != 0 && ::setuid(0) == 0) {
      errno = EPERM;
      Fail(error_fd, kStageRegain);
    }
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Fail(error_fd, kStageNoNewPrivs);
  }
  ::execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  Fail(error_fd, kStageExec);
}

std::string EnvName(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

void CloseFd(int fd) {
  if (fd >= 0) ::close(fd);
}

ExitStatus FromWaitStatus(int status) {
  ExitStatus out;
  if (WIFEXITED(status)) {
    out.exited = true;
    out.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out.signal = WTERMSIG(status);
  }
  return out;
}

Result<ExitStatus> BlockingReap(pid_t pid) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, 0);
    if (r == pid) return FromWaitStatus(status);
    if (r < 0 && errno == EINTR) continue;
    return ErrnoStatus("waitpid", std::to_string(pid), errno);
  }
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (exited) return "exit code " + std::to_string(code);
  return "killed by signal " + std::to_string(signal);
}

Status CheckUserCanReach(const std::string& dir, const UserIds& user) {
  if (dir.empty() || dir[0] != '/') {
    return InvalidArgumentError("not an absolute path: " + dir);
  }
  std::string path;
  size_t pos = 0;
  while (pos != std::string::npos) {
    size_t next = dir.find('/', pos + 1);
    path = dir.substr(0, next == std::string::npos ? dir.size() : next);
    if (path.empty()) path = "/";
    pos = next;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    if (user.uid == 0) continue;
    mode_t need;
    if (st.st_uid == user.uid) {
      need = S_IXUSR;
    } else if (std::find(user.groups.begin(), user.groups.end(), st.st_gid) !=
                   user.groups.end() ||
               st.st_gid == user.gid) {
      need = S_IXGRP;
    } else {
      need = S_IXOTH;
    }
    if ((st.st_mode & need) == 0) {
      return PermissionDeniedError("uid " + std::to_string(user.uid) +
                                   " cannot search " + path +
                                   " on the way to " + dir);
    }
  }
  return Status::Ok();
}

Result<UserIds> LookupUser(const std::string& name) {
  struct passwd pw;
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) return ErrnoStatus("getpwnam", name, rc);
  if (found == nullptr) return NotFoundError("no such user: " + name);
  UserIds ids;
  ids.uid = pw.pw_uid;
  ids.gid = pw.pw_gid;
  int count = 32;
  for (int attempt = 0; attempt < 8; ++attempt) {
    ids.groups.resize(static_cast<size_t>(count));
    int n = count;
    if (::getgrouplist(name.c_str(), pw.pw_gid, ids.groups.data(), &n) >= 0) {
      ids.groups.resize(static_cast<size_t>(n));
      return ids;
    }
    if (n <= count || n > 65536) break;
    count = n;
  }
  return IoError("getgrouplist " + name + ": cannot list groups");
}

Result<int> OpenPidFd(pid_t pid) {
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    if (errno == ENOSYS) return UnavailableError("pidfd_open: not supported");
    return ErrnoStatus("pidfd_open", std::to_string(pid), errno);
  }
  return static_cast<int>(fd);  // pidfds are always close-on-exec
}

Result<Child> SpawnWithSocket(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return InvalidArgumentError("spawn: empty argv");
  }
  ChildPlan plan;
  if (options.run_as_user && ::geteuid() == 0) {
    WARDEN_ASSIGN_OR_RETURN(plan.ids, LookupUser(*options.run_as_user));
    plan.drop = true;
  }

  // The environment: inherited, minus names we set, plus ours.
  std::vector<std::string> env_entries = options.env;
  env_entries.push_back(options.fd_env_var + "=" +
                        std::to_string(kChildSocketFd));
  std::vector<std::string> names;
  for (const auto& e : env_entries) names.push_back(EnvName(e));
  std::vector<std::string> inherited;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    bool overridden = false;
    for (const auto& n : names) {
      if (EnvName(entry) == n) overridden = true;
    }
    if (!overridden) inherited.push_back(std::move(entry));
  }
  for (auto& e : inherited) plan.envp.push_back(e.data());
  for (auto& e : env_entries) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  std::vector<std::string> argv = options.argv;
  for (auto& a : argv) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoStatus("socketpair", "", errno);
  }
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    Status st = ErrnoStatus("pipe", "", errno);
    CloseFd(pair[0]);
    CloseFd(pair[1]);
    return st;
  }
  plan.socket_fd = pair[1];
  plan.error_fd = error_pipe[1];
  plan.parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    Status st = ErrnoStatus("fork", options.argv[0], errno);
    CloseFd(pair[0]);
    CloseFd(pair[1]);
    CloseFd(error_pipe[0]);
    CloseFd(error_pipe[1]);
    return st;
  }
  if (pid == 0) RunChild(plan);

  CloseFd(pair[1]);
  CloseFd(error_pipe[1]);
  int report[2] = {0, 0};
  size_t got = 0;
  while (got < sizeof(report)) {
    ssize_t n = ::read(error_pipe[0], reinterpret_cast<char*>(report) + got,
                       sizeof(report) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  CloseFd(error_pipe[0]);
  if (got != 0) {
    // The child failed before or at exec and has exited.
    BlockingReap(pid).status().IgnoreError();
    CloseFd(pair[0]);
    Status st = ErrnoStatus(StageName(report[0]), options.argv[0], report[1]);
    return st;
  }

  Child child;
  child.pid = pid;
  child.socket_fd = pair[0];
  Result<int> pidfd = OpenPidFd(pid);
  if (pidfd.ok()) child.pidfd = *pidfd;
  return child;
}

Status SendSignal(pid_t pid, int pidfd, int sig) {
  // The child leads its own process group (setsid), so what it started
  // goes too. The group id stays reserved while the child is unreaped or
  // any member lives, so this cannot reach an unrelated process.
  if (::kill(-pid, sig) != 0 && errno != ESRCH) {
    return ErrnoStatus("kill", "-" + std::to_string(pid), errno);
  }
  if (pidfd >= 0) {
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0 ||
        errno == ESRCH) {
      return Status::Ok();
    }
    if (errno != ENOSYS) {
      return ErrnoStatus("pidfd_send_signal", std::to_string(pid), errno);
    }
  }
  if (::kill(pid, sig) == 0 || errno == ESRCH) return Status::Ok();
  return ErrnoStatus("kill", std::to_string(pid), errno);
}

Result<std::optional<ExitStatus>> TryReap(pid_t pid) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == 0) return std::optional<ExitStatus>();
    if (r == pid) return std::optional<ExitStatus>(FromWaitStatus(status));
    if (r < 0 && errno == EINTR) continue;
    return ErrnoStatus("waitpid", std::to_string(pid), errno);
  }
}

Result<ExitStatus> TerminateAndReap(pid_t pid, int pidfd,
                                    std::chrono::milliseconds grace) {
  WARDEN_TRY(SendSignal(pid, pidfd, SIGTERM));
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    WARDEN_ASSIGN_OR_RETURN(std::optional<ExitStatus> done, TryReap(pid));
    if (done) return *done;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (pidfd >= 0) {
      struct pollfd p = {pidfd, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r < 0 && errno != EINTR) break;
    } else {
      std::this_thread::sleep_for(
          std::min(left, std::chrono::milliseconds(10)));
    }
  }
  WARDEN_TRY(SendSignal(pid, pidfd, SIGKILL));
  return BlockingReap(pid);
}

}  // namespace warden::platform
