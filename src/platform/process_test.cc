#include "platform/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
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

TEST(ProcessTest, ChildGetsSocketAndEnvironment) {
  SpawnOptions options;
  options.env = {"WARDEN_TEST_VALUE=hello world"};
  std::string out = RunShell(
      "printf '%s|%s' \"$WARDEN_APP_FD\" \"$WARDEN_TEST_VALUE\" >&3", options);
  EXPECT_EQ(out, "3|hello world");
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

TEST(ProcessTest, ChildInheritsNoOtherDescriptors) {
  // A descriptor the parent leaked without close-on-exec.
  int leaked = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaked, 0);
  SpawnOptions options;
  options.argv = {"/bin/sleep", "30"};
  Result<Child> child = SpawnWithSocket(options);
  ::close(leaked);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  // SpawnWithSocket returns after exec: this is the program's table.
  std::set<int> fds;
  std::string dir = "/proc/" + std::to_string(child->pid) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    fds.insert(std::stoi(entry.path().filename().string()));
  }
  EXPECT_EQ(fds, (std::set<int>{0, 1, 2, kChildSocketFd}));
  ASSERT_TRUE(
      TerminateAndReap(child->pid, child->pidfd, std::chrono::seconds(2)).ok());
  ::close(child->socket_fd);
  if (child->pidfd >= 0) ::close(child->pidfd);
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
