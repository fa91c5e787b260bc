#include "platform/process.h"

#include <dirent.h>
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
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>

#include "platform/file.h"

namespace warden::platform {
namespace {

#ifndef CLOSE_RANGE_CLOEXEC
constexpr unsigned kCloseRangeCloexec = 1U << 2;
#else
constexpr unsigned kCloseRangeCloexec = CLOSE_RANGE_CLOEXEC;
#endif

// Marks every descriptor from `first` up close-on-exec, whatever flags it
// was opened with; false on failure. Only async-signal-safe calls: the
// child runs it between fork and exec.
bool CloseFromOnExec(int first) {
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0U,
                kCloseRangeCloexec) == 0) {
    return true;
  }
  // Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC.
  long max_fd = ::sysconf(_SC_OPEN_MAX);
  if (max_fd < 0 || max_fd > 1 << 20) max_fd = 1 << 20;
  for (int fd = first; fd < max_fd; ++fd) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 && errno != EBADF) return false;
  }
  return true;
}

// Steps of the child's set-up, reported back through the error pipe.
enum Stage : int {
  kStageSignals = 1,
  kStageSession,
  kStageDeathSignal,
  kStageParentGone,
  kStageDupSocket,
  kStageStdio,
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
    case kStageStdio:
      return "dup2 stdin, stdout, stderr";
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
  int stdin_fd = -1;   // /dev/null
  int stdout_fd = -1;  // write end of a pipe, or -1 to keep the parent's
  int stderr_fd = -1;
  pid_t parent = 0;
  bool drop = false;
  UserIds ids;
};

// Moves `*fd` above kChildSocketFd, so that placing descriptors on 0..3
// cannot overwrite one that is still to be placed. The copy is
// close-on-exec; the original is left to close_range.
bool MoveAbove(int* fd) {
  if (*fd < 0 || *fd > kChildSocketFd) return true;
  int moved = ::fcntl(*fd, F_DUPFD_CLOEXEC, kChildSocketFd + 1);
  if (moved < 0) return false;
  *fd = moved;
  return true;
}

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

  // Keep the error pipe clear of the fixed numbers, then place stdin,
  // stdout, stderr and the socket. dup2 leaves the copies inheritable.
  if (!MoveAbove(&error_fd)) Fail(plan.error_fd, kStageDupSocket);
  int socket_fd = plan.socket_fd;
  int stdin_fd = plan.stdin_fd;
  int stdout_fd = plan.stdout_fd;
  int stderr_fd = plan.stderr_fd;
  if (!MoveAbove(&socket_fd)) Fail(error_fd, kStageDupSocket);
  if (!MoveAbove(&stdin_fd) || !MoveAbove(&stdout_fd) ||
      !MoveAbove(&stderr_fd)) {
    Fail(error_fd, kStageStdio);
  }
  if (::dup2(stdin_fd, STDIN_FILENO) < 0) Fail(error_fd, kStageStdio);
  if (stdout_fd >= 0 && ::dup2(stdout_fd, STDOUT_FILENO) < 0) {
    Fail(error_fd, kStageStdio);
  }
  if (stderr_fd >= 0 && ::dup2(stderr_fd, STDERR_FILENO) < 0) {
    Fail(error_fd, kStageStdio);
  }
  if (::dup2(socket_fd, kChildSocketFd) < 0) Fail(error_fd, kStageDupSocket);
  // Everything above the socket closes at exec, whatever its flags were.
  if (!CloseFromOnExec(kChildSocketFd + 1)) Fail(error_fd, kStageCloseFds);
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
  // Only now: a change of credentials clears the parent-death signal.
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) {
    Fail(error_fd, kStageDeathSignal);
  }
  // The parent may have died before the signal was armed; the child has
  // then been handed to another process and must not run unwatched.
  if (::getppid() != plan.parent) {
    errno = ESRCH;
    Fail(error_fd, kStageParentGone);
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Fail(error_fd, kStageNoNewPrivs);
  }
  ::execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  Fail(error_fd, kStageExec);
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

// At most this much of a /proc status file is read: the fields we need
// come first.
constexpr size_t kMaxProcStatus = 16 * 1024;

std::optional<std::string> ReadProcFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  while (out.size() < kMaxProcStatus) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

struct ProcStatus {
  bool zombie = false;
  std::vector<uid_t> uids;  // real, effective, saved, file system
};

// The "State:" and "Uid:" lines of /proc/PID/status (proc(5)).
std::optional<ProcStatus> ParseProcStatus(const std::string& text) {
  ProcStatus out;
  bool have_uids = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    if (line.rfind("State:", 0) == 0) {
      size_t s = line.find_first_not_of(" \t", 6);
      out.zombie =
          s != std::string_view::npos && (line[s] == 'Z' || line[s] == 'X');
    } else if (line.rfind("Uid:", 0) == 0) {
      std::string fields(line.substr(4));
      const char* p = fields.c_str();
      for (;;) {
        char* end = nullptr;
        unsigned long v = std::strtoul(p, &end, 10);
        if (end == p) break;
        out.uids.push_back(static_cast<uid_t>(v));
        p = end;
      }
      have_uids = !out.uids.empty();
    }
  }
  if (!have_uids) return std::nullopt;
  return out;
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

Status ReExecSelf(const std::vector<std::string>& argv) {
  // Whatever a library opened without O_CLOEXEC closes here too, so the new
  // image starts with stdin, stdout and stderr only.
  if (!CloseFromOnExec(STDERR_FILENO + 1)) {
    return ErrnoStatus("fcntl FD_CLOEXEC", "/proc/self/exe", errno);
  }
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv("/proc/self/exe", args.data());
  return ErrnoStatus("execv", "/proc/self/exe", errno);
}

Result<int> OpenPidFd(pid_t pid) {
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    if (errno == ENOSYS) return UnavailableError("pidfd_open: not supported");
    return ErrnoStatus("pidfd_open", std::to_string(pid), errno);
  }
  return static_cast<int>(fd);  // pidfds are always close-on-exec
}

Result<std::vector<pid_t>> ProcessesOfUser(uid_t uid) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return ErrnoStatus("opendir", "/proc", errno);
  std::vector<pid_t> found;
  for (;;) {
    errno = 0;
    struct dirent* entry = ::readdir(proc);
    if (entry == nullptr) break;
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    // A process may exit between the listing and the read: it is gone.
    std::optional<std::string> status =
        ReadProcFile("/proc/" + std::string(entry->d_name) + "/status");
    if (!status) continue;
    std::optional<ProcStatus> parsed = ParseProcStatus(*status);
    if (!parsed || parsed->zombie) continue;
    if (std::find(parsed->uids.begin(), parsed->uids.end(), uid) !=
        parsed->uids.end()) {
      found.push_back(static_cast<pid_t>(pid));
    }
  }
  int err = errno;
  ::closedir(proc);
  if (err != 0) return ErrnoStatus("readdir", "/proc", err);
  return found;
}

Result<uid_t> ProcFilesOwner(pid_t pid) {
  // Any entry but a world-readable directory would do; this is the one the
  // dumpable flag guards most.
  std::string path = "/proc/" + std::to_string(pid) + "/environ";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
  return st.st_uid;
}

Result<Child> SpawnWithSocket(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return InvalidArgumentError("spawn: empty argv");
  }
  ChildPlan plan;
  uid_t child_uid = ::geteuid();
  if (options.run_as_user && child_uid == 0) {
    WARDEN_ASSIGN_OR_RETURN(plan.ids, LookupUser(*options.run_as_user));
    plan.drop = true;
    child_uid = plan.ids.uid;
  }

  // The environment is the caller's list and the socket's number, nothing
  // inherited.
  std::vector<std::string> env_entries;
  const std::string fd_prefix = options.fd_env_var + "=";
  for (const auto& e : options.env) {
    if (e.find('=') == std::string::npos || e[0] == '=') {
      return InvalidArgumentError("spawn: environment entry without a name: " +
                                  e);
    }
    if (e.rfind(fd_prefix, 0) != 0) env_entries.push_back(e);
  }
  env_entries.push_back(fd_prefix + std::to_string(kChildSocketFd));
  for (auto& e : env_entries) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  std::vector<std::string> argv = options.argv;
  for (auto& a : argv) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);

  // Every descriptor made here is closed on the way out unless handed over.
  std::vector<int> opened;
  auto close_all = [&opened] {
    for (int fd : opened) CloseFd(fd);
    opened.clear();
  };
  auto fail = [&](std::string_view what) {
    Status st = ErrnoStatus(what, "", errno);
    close_all();
    return st;
  };
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail("socketpair");
  }
  opened.insert(opened.end(), {pair[0], pair[1]});
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) return fail("pipe");
  opened.insert(opened.end(), {error_pipe[0], error_pipe[1]});
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) return fail("open /dev/null");
  opened.push_back(devnull);
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (options.capture_output) {
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return fail("pipe");
    opened.insert(opened.end(), {out_pipe[0], out_pipe[1]});
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return fail("pipe");
    opened.insert(opened.end(), {err_pipe[0], err_pipe[1]});
  }
  plan.socket_fd = pair[1];
  plan.error_fd = error_pipe[1];
  plan.stdin_fd = devnull;
  plan.stdout_fd = out_pipe[1];
  plan.stderr_fd = err_pipe[1];
  plan.parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) RunChild(plan);

  // The parent keeps only its ends.
  std::vector<int> kept = {pair[0], error_pipe[0], out_pipe[0], err_pipe[0]};
  for (int fd : opened) {
    if (std::find(kept.begin(), kept.end(), fd) == kept.end()) CloseFd(fd);
  }
  opened = {pair[0]};
  if (out_pipe[0] >= 0) opened.insert(opened.end(), {out_pipe[0], err_pipe[0]});
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
    close_all();
    return ErrnoStatus(StageName(report[0]), options.argv[0], report[1]);
  }

  Child child;
  child.pid = pid;
  child.uid = child_uid;
  child.socket_fd = pair[0];
  child.stdout_fd = out_pipe[0];
  child.stderr_fd = err_pipe[0];
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

Status ScrubFreedMemory(char** argv) {
  static constexpr std::string_view kTunables =
      "glibc.malloc.perturb=165:glibc.malloc.tcache_count=0";
  const char* current = std::getenv("GLIBC_TUNABLES");
  std::string value = current != nullptr ? current : "";
  if (value.find("glibc.malloc.perturb=") != std::string::npos) {
    return Status::Ok();
  }
  value = value.empty() ? std::string(kTunables)
                        : value + ":" + std::string(kTunables);
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) {
    return ErrnoStatus("setenv", "GLIBC_TUNABLES", errno);
  }
  ::execv("/proc/self/exe", argv);
  return ErrnoStatus("execv", "/proc/self/exe", errno);
}

}  // namespace warden::platform
