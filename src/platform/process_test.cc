#include "platform/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "platform/file.h"

namespace warden::platform {
namespace {

// Reads from `fd` until the peer closes it.
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Runs a shell snippet with its socket, returns what it wrote there.
std::string RunShell(const std::string& script, SpawnOptions options = {}) {
  options.argv = {"/bin/sh", "-c", script};
  options.env.push_back("PATH=/usr/bin:/bin");
  Result<Child> child = SpawnWithSocket(options);
  EXPECT_TRUE(child.ok()) << child.status().ToString();
  if (!child.ok()) return "";
  std::string out = ReadAll(child->socket_fd);
  ::close(child->socket_fd);
  Result<ExitStatus> status = TerminateAndReap(child->pid, child->pidfd,
                                               std::chrono::milliseconds(2000));
  EXPECT_TRUE(status.ok());
  if (child->pidfd >= 0) ::close(child->pidfd);
  return out;
}

// The test child (process_test_child.cc), started with its socket; it says
// what it found, then waits until the socket closes.
class Probe {
 public:
  explicit Probe(const std::string& mode, SpawnOptions options = {}) {
    options.argv = {WARDEN_PROCESS_TEST_CHILD, mode};
    Result<Child> child = SpawnWithSocket(options);
    EXPECT_TRUE(child.ok()) << child.status().ToString();
    if (!child.ok()) return;
    child_ = *child;
    said_ = ReadAll(child_.socket_fd);
  }
  ~Probe() { Finish(); }

  // Closes the socket, so the child exits, and reaps it.
  ExitStatus Finish() {
    ExitStatus status;
    if (child_.pid < 0) return status;
    ::close(child_.socket_fd);
    Result<ExitStatus> done =
        TerminateAndReap(child_.pid, child_.pidfd, std::chrono::seconds(10));
    EXPECT_TRUE(done.ok());
    if (done.ok()) status = *done;
    for (int fd : {child_.pidfd, child_.stdout_fd, child_.stderr_fd}) {
      if (fd >= 0) ::close(fd);
    }
    child_ = Child{};
    return status;
  }

  bool ok() const { return child_.pid > 0; }
  const Child& child() const { return child_; }
  const std::string& said() const { return said_; }

 private:
  Child child_;
  std::string said_;
};

std::set<std::string> Lines(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.insert(line);
  return out;
}

// One line from a blocking descriptor.
std::string ReadLine(int fd) {
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

TEST(ProcessTest, ChildEnvironmentIsExactlyTheGivenList) {
  // Something of the parent's that the child must not see.
  ASSERT_EQ(::setenv("WARDEN_TEST_SECRET", "the parent's secret", 1), 0);
  SpawnOptions options;
  options.env = {"WARDEN_TEST_VALUE=hello world", "WARDEN_APP_FD=99"};
  Probe probe("env", options);
  ::unsetenv("WARDEN_TEST_SECRET");
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(Lines(probe.said()), (std::set<std::string>{
                                     "WARDEN_TEST_VALUE=hello world",
                                     "WARDEN_APP_FD=3",
                                 }));
}

TEST(ProcessTest, EnvironmentEntryWithoutNameIsRefused) {
  SpawnOptions options;
  options.argv = {"/bin/true"};
  options.env = {"NOEQUALS"};
  EXPECT_EQ(SpawnWithSocket(options).status().code(), Code::kInvalidArgument);
  options.env = {"=value"};
  EXPECT_EQ(SpawnWithSocket(options).status().code(), Code::kInvalidArgument);
}

TEST(ProcessTest, ChildCanAnswerOnSocket) {
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c",
                  "read line <&3; printf 'got:%s' \"$line\" >&3"};
  Result<Child> child = SpawnWithSocket(options);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  ASSERT_EQ(::write(child->socket_fd, "ping\n", 5), 5);
  EXPECT_EQ(ReadAll(child->socket_fd), "got:ping");
  Result<ExitStatus> status =
      TerminateAndReap(child->pid, child->pidfd, std::chrono::seconds(2));
  ASSERT_TRUE(status.ok());
  ::close(child->socket_fd);
  if (child->pidfd >= 0) ::close(child->pidfd);
}

// The descriptors the program runs with, once its loader has finished.
std::map<int, std::string> ProbeDescriptors(bool capture) {
  std::map<int, std::string> fds;
  // A descriptor the parent leaked without close-on-exec.
  int leaked = ::open("/dev/zero", O_RDONLY);
  EXPECT_GE(leaked, 0);
  SpawnOptions options;
  options.capture_output = capture;
  Probe probe("fds", options);
  ::close(leaked);
  for (const std::string& line : Lines(probe.said())) {
    auto space = line.find(' ');
    fds[std::stoi(line.substr(0, space))] = line.substr(space + 1);
  }
  return fds;
}

std::string OwnTarget(int fd) {
  char target[PATH_MAX];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
  if (n < 0) return "(closed)";
  return std::string(target, static_cast<size_t>(n));
}

TEST(ProcessTest, ChildInheritsNoOtherDescriptors) {
  std::map<int, std::string> fds = ProbeDescriptors(/*capture=*/true);
  std::set<int> numbers;
  for (const auto& [fd, target] : fds) numbers.insert(fd);
  ASSERT_EQ(numbers, (std::set<int>{0, 1, 2, kChildSocketFd}));
  EXPECT_EQ(fds[0], "/dev/null");
  EXPECT_EQ(fds[1].rfind("pipe:[", 0), 0u) << fds[1];
  EXPECT_EQ(fds[2].rfind("pipe:[", 0), 0u) << fds[2];
  EXPECT_NE(fds[1], fds[2]);
  EXPECT_EQ(fds[kChildSocketFd].rfind("socket:[", 0), 0u)
      << fds[kChildSocketFd];
}

TEST(ProcessTest, WithoutCaptureTheChildSharesTheParentsOutput) {
  std::map<int, std::string> fds = ProbeDescriptors(/*capture=*/false);
  std::set<int> numbers;
  for (const auto& [fd, target] : fds) numbers.insert(fd);
  ASSERT_EQ(numbers, (std::set<int>{0, 1, 2, kChildSocketFd}));
  EXPECT_EQ(fds[0], "/dev/null");
  EXPECT_EQ(fds[1], OwnTarget(1));
  EXPECT_EQ(fds[2], OwnTarget(2));
}

TEST(ProcessTest, OutputReachesTheParentsPipes) {
  SpawnOptions options;
  options.capture_output = true;
  Probe probe("output", options);
  ASSERT_TRUE(probe.ok());
  ASSERT_EQ(probe.said(), "ready");
  EXPECT_EQ(ReadLine(probe.child().stdout_fd), "to stdout");
  EXPECT_EQ(ReadLine(probe.child().stderr_fd), "to stderr");
}

TEST(ProcessTest, ChildHasNoNewPrivsAndOwnSession) {
  std::string out = RunShell(
      "grep NoNewPrivs /proc/self/status | tr -d ' \\t\\n' >&3; "
      "printf '%s %s' \"$(cut -d' ' -f6 /proc/$$/stat)\" $$ >&3");
  ASSERT_EQ(out.rfind("NoNewPrivs:1", 0), 0u) << out;
  // In a new session the session id is the shell's own pid.
  std::string rest = out.substr(std::string("NoNewPrivs:1").size());
  auto space = rest.find(' ');
  ASSERT_NE(space, std::string::npos) << out;
  EXPECT_EQ(rest.substr(0, space), rest.substr(space + 1));
}

TEST(ProcessTest, MissingProgramIsReportedAndLeavesNoChild) {
  SpawnOptions options;
  options.argv = {"/nonexistent/program"};
  Result<Child> child = SpawnWithSocket(options);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), Code::kNotFound);
  // No child of ours is left, not even a zombie.
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(ProcessTest, EmptyArgvIsInvalid) {
  Result<Child> child = SpawnWithSocket(SpawnOptions{});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), Code::kInvalidArgument);
}

// True once `pid` is dead: gone, or a zombie waiting for its new parent.
bool Dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  auto paren = line.rfind(')');
  return paren != std::string::npos && line.size() > paren + 2 &&
         line[paren + 2] == 'Z';
}

TEST(ProcessTest, TerminateKillsAChildThatIgnoresSigterm) {
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c",
                  "trap '' TERM; sleep 30 & printf '%s ' $! >&3; wait"};
  Result<Child> child = SpawnWithSocket(options);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  std::string grandchild;
  char c = 0;
  while (::read(child->socket_fd, &c, 1) == 1 && c != ' ') grandchild += c;
  ASSERT_FALSE(grandchild.empty());
  Result<ExitStatus> status = TerminateAndReap(child->pid, child->pidfd,
                                               std::chrono::milliseconds(100));
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_FALSE(status->exited);
  EXPECT_EQ(status->signal, SIGKILL);
  EXPECT_EQ(::kill(child->pid, 0), -1);  // reaped: the pid is gone
  // What the app started went with it (the kill is delivered
  // asynchronously; the bound only keeps a failure from hanging).
  pid_t sleeper = std::stoi(grandchild);
  for (int i = 0; i < 5000 && !Dead(sleeper); ++i) ::usleep(1000);
  EXPECT_TRUE(Dead(sleeper));
  ::close(child->socket_fd);
  if (child->pidfd >= 0) ::close(child->pidfd);
}

TEST(ProcessTest, TryReapReportsExitCode) {
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "exit 7"};
  Result<Child> child = SpawnWithSocket(options);
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(ReadAll(child->socket_fd), "");  // closes when the child exits
  std::optional<ExitStatus> done;
  while (!done) {
    Result<std::optional<ExitStatus>> r = TryReap(child->pid);
    ASSERT_TRUE(r.ok());
    done = *r;
    if (!done) ::usleep(1000);
  }
  EXPECT_TRUE(done->exited);
  EXPECT_EQ(done->code, 7);
  EXPECT_EQ(done->ToString(), "exit code 7");
  ::close(child->socket_fd);
  if (child->pidfd >= 0) ::close(child->pidfd);
}

TEST(ProcessTest, UnknownUserIsNotFound) {
  Result<UserIds> ids = LookupUser("no-such-user-warden");
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), Code::kNotFound);
}

TEST(ProcessTest, RootDropsToNobody) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  Result<UserIds> nobody = LookupUser("nobody");
  ASSERT_TRUE(nobody.ok()) << nobody.status().ToString();
  SpawnOptions options;
  options.run_as_user = "nobody";
  std::string out = RunShell(
      "printf '%s %s %s' \"$(id -u)\" \"$(id -g)\" \"$(id -G)\" >&3", options);
  std::string groups;
  for (gid_t g : nobody->groups) {
    if (!groups.empty()) groups += " ";
    groups += std::to_string(g);
  }
  EXPECT_EQ(out, std::to_string(nobody->uid) + " " +
                     std::to_string(nobody->gid) + " " + groups);
  EXPECT_NE(nobody->uid, 0u);
}

// The user tests switch to: any user other than root will do here; which
// user the app gets is the app host's business.
SpawnOptions AsNobody() {
  SpawnOptions options;
  options.run_as_user = "nobody";
  return options;
}

TEST(ProcessTest, DeathSignalIsArmedAfterTheUserSwitch) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: without a user switch nothing clears the "
                    "parent-death signal, so this would prove nothing";
  }
  Probe probe("pdeathsig", AsNobody());
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe.said(), std::to_string(SIGTERM));
}

TEST(ProcessTest, ChildDiesWithItsKilledParent) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: the death signal is lost only across a "
                    "user switch";
  }
  // A subreaper stands in for init, so that the orphan can be reaped and
  // its end read; it lives in its own process so that this test process
  // adopts nothing.
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  pid_t reaper = ::fork();
  ASSERT_GE(reaper, 0);
  if (reaper == 0) {
    ::close(report[0]);
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) ::_exit(10);
    int pid_pipe[2];
    if (::pipe(pid_pipe) != 0) ::_exit(10);
    pid_t parent = ::fork();
    if (parent < 0) ::_exit(10);
    if (parent == 0) {
      // The app's parent, as wardend would be.
      SpawnOptions options = AsNobody();
      options.argv = {"/bin/sleep", "60"};
      Result<Child> child = SpawnWithSocket(options);
      if (!child.ok()) ::_exit(11);
      ssize_t unused = ::write(pid_pipe[1], &child->pid, sizeof(child->pid));
      (void)unused;
      ::pause();
      ::_exit(0);
    }
    pid_t app = -1;
    if (::read(pid_pipe[0], &app, sizeof(app)) != sizeof(app)) ::_exit(12);
    ::kill(parent, SIGKILL);
    ::waitpid(parent, nullptr, 0);
    // The app is ours now. Without the death signal it would sleep its
    // minute out and exit 0.
    int status = 0;
    if (::waitpid(app, &status, 0) != app) ::_exit(13);
    ssize_t unused = ::write(report[1], &status, sizeof(status));
    (void)unused;
    ::_exit(0);
  }
  ::close(report[1]);
  int status = 0;
  ssize_t n = ::read(report[0], &status, sizeof(status));
  ::close(report[0]);
  int reaper_status = 0;
  ASSERT_EQ(::waitpid(reaper, &reaper_status, 0), reaper);
  ASSERT_TRUE(WIFEXITED(reaper_status) && WEXITSTATUS(reaper_status) == 0)
      << "the reaper failed at step " << WEXITSTATUS(reaper_status);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof(status)));
  ASSERT_TRUE(WIFSIGNALED(status))
      << "the app outlived its parent and exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

TEST(ProcessTest, ProcessesOfUserListsLiveProcessesOnly) {
  Result<std::vector<pid_t>> mine = ProcessesOfUser(::geteuid());
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_NE(std::find(mine->begin(), mine->end(), ::getpid()), mine->end());

  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", "read line <&3"};
  Result<Child> child = SpawnWithSocket(options);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  ASSERT_GE(child->pidfd, 0);
  mine = ProcessesOfUser(::geteuid());
  ASSERT_TRUE(mine.ok());
  EXPECT_NE(std::find(mine->begin(), mine->end(), child->pid), mine->end());

  // Once it has exited, unreaped, it is a zombie and no longer counts.
  ASSERT_EQ(::write(child->socket_fd, "\n", 1), 1);
  struct pollfd p = {child->pidfd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  mine = ProcessesOfUser(::geteuid());
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(std::find(mine->begin(), mine->end(), child->pid), mine->end());
  ASSERT_TRUE(
      TerminateAndReap(child->pid, child->pidfd, std::chrono::seconds(2)).ok());
  ::close(child->socket_fd);
  ::close(child->pidfd);

  Result<std::vector<pid_t>> none = ProcessesOfUser(4000000000u);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(ProcessTest, ProcFilesOwnerShowsWhetherTheProcessIsDumpable) {
  // As root the children run as another user: a root process's /proc
  // directory is root's either way.
  SpawnOptions options = ::geteuid() == 0 ? AsNobody() : SpawnOptions{};
  Probe dumpable("wait", options);
  ASSERT_TRUE(dumpable.ok());
  ASSERT_NE(dumpable.child().uid, 0u);
  Result<uid_t> owner = ProcFilesOwner(dumpable.child().pid);
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(*owner, dumpable.child().uid);

  Probe protected_child("nodump", options);
  ASSERT_TRUE(protected_child.ok());
  ASSERT_EQ(protected_child.said(), "ready");
  owner = ProcFilesOwner(protected_child.child().pid);
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(*owner, 0u);

  // Above PID_MAX_LIMIT (2^22): no process ever has it.
  EXPECT_EQ(ProcFilesOwner(4194304).status().code(), Code::kNotFound);
}

TEST(CheckUserCanReachTest, NamesTheDirectoryThatStopsTheUser) {
  char tmpl[] = "/tmp/warden-reach-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  std::string inner = root + "/a/b";
  ASSERT_TRUE(MakeDirs(inner, 0755).ok());
  UserIds stranger{54321, 54321, {54321}};
  ASSERT_EQ(::chmod(root.c_str(), 0700), 0);
  Status st = CheckUserCanReach(inner, stranger);
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_NE(st.message().find(root), std::string::npos) << st.message();
  ASSERT_EQ(::chmod(root.c_str(), 0711), 0);
  EXPECT_TRUE(CheckUserCanReach(inner, stranger).ok());
  EXPECT_FALSE(CheckUserCanReach("relative/path", stranger).ok());
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace warden::platform
