// Other local users against the app, as an attacker went at it: from a
// process of the shared nobody account and from one of the app's own user,
// read /proc/PID/environ and /proc/PID/mem, and take the app's socket (fd 3)
// with pidfd_open + pidfd_getfd. Each must fail with EPERM or EACCES. The
// same attempts against a deliberately dumpable app run as nobody, from
// nobody, must succeed, so that the refusals are the defences' doing and
// not the attempts' fault.
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "app/app_host.h"
#include "app/app_test_util.h"
#include "app/app_user.h"
#include "gtest/gtest.h"
#include "platform/process.h"

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

namespace warden::app {
namespace {

struct Attempts {
  int environ_error = -1;  // 0: read it
  bool saw_socket_variable = false;
  int mem_error = -1;    // 0: read a byte of the app's memory
  int getfd_error = -1;  // 0: took fd 3, and it is a socket
};

// Reads what `path` holds, up to `size` bytes, into `buf`; the errno of the
// failing call, or 0. Async-signal-safe, for the forked attacker.
int ReadInto(const char* path, char* buf, size_t size, ssize_t* got) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  *got = ::read(fd, buf, size);
  int err = *got < 0 ? errno : 0;
  ::close(fd);
  return err;
}

// Runs the three attempts against `target` from a new process of `as`
// (which holds no capability once it has switched).
Attempts AttackAs(pid_t target, const platform::UserIds& as) {
  // Everything the attacker needs is prepared here: after fork it makes
  // only async-signal-safe calls.
  std::string proc = "/proc/" + std::to_string(target);
  std::string environ_path = proc + "/environ";
  std::string maps_path = proc + "/maps";
  std::string mem_path = proc + "/mem";
  static char buf[65536];
  int report[2];
  EXPECT_EQ(::pipe2(report, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    if (::setgroups(as.groups.size(), as.groups.data()) != 0 ||
        ::setresgid(as.gid, as.gid, as.gid) != 0 ||
        ::setresuid(as.uid, as.uid, as.uid) != 0) {
      ::_exit(10);
    }
    Attempts a;
    ssize_t got = 0;
    a.environ_error =
        ReadInto(environ_path.c_str(), buf, sizeof(buf) - 1, &got);
    if (a.environ_error == 0 && got > 0) {
      buf[got] = '\0';
      for (ssize_t i = 0; i < got; i += std::strlen(buf + i) + 1) {
        if (std::strcmp(buf + i, "WARDEN_APP_FD=3") == 0) {
          a.saw_socket_variable = true;
        }
      }
    }
    // An address that is mapped, if the maps can be read at all; the
    // first line of maps starts with one.
    unsigned long address = 0x10000;
    got = 0;
    if (ReadInto(maps_path.c_str(), buf, sizeof(buf) - 1, &got) == 0 &&
        got > 0) {
      buf[got] = '\0';
      address = std::strtoul(buf, nullptr, 16);
    }
    int mem = ::open(mem_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (mem < 0) {
      a.mem_error = errno;
    } else {
      char byte;
      a.mem_error =
          ::pread(mem, &byte, 1, static_cast<off_t>(address)) == 1 ? 0 : errno;
      ::close(mem);
    }
    long pidfd = ::syscall(SYS_pidfd_open, target, 0);
    if (pidfd < 0) {
      a.getfd_error = errno;
    } else {
      long fd = ::syscall(SYS_pidfd_getfd, static_cast<int>(pidfd),
                          platform::kChildSocketFd, 0);
      if (fd < 0) {
        a.getfd_error = errno;
      } else {
        struct stat st;
        a.getfd_error =
            ::fstat(static_cast<int>(fd), &st) == 0 && S_ISSOCK(st.st_mode)
                ? 0
                : ENOTSOCK;
      }
    }
    ssize_t unused = ::write(report[1], &a, sizeof(a));
    (void)unused;
    ::_exit(0);
  }
  ::close(report[1]);
  Attempts a;
  ssize_t n = ::read(report[0], &a, sizeof(a));
  ::close(report[0]);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the attacker could not become uid " << as.uid;
  EXPECT_EQ(n, static_cast<ssize_t>(sizeof(a)));
  return a;
}

bool Refused(int error) { return error == EPERM || error == EACCES; }

std::string Name(int error) {
  return error == 0 ? "success" : std::strerror(error);
}

class AppIsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root, to run the app and its attackers as "
                      "other users (CI runs the tests as root)";
    }
    Result<platform::UserIds> nobody = platform::LookupUser("nobody");
    ASSERT_TRUE(nobody.ok()) << nobody.status().ToString();
    nobody_ = *nobody;
    Result<platform::UserIds> app_user = platform::LookupUser(kDefaultAppUser);
    ASSERT_TRUE(app_user.ok())
        << app_user.status().ToString()
        << ": run scripts/install-deps.sh as root, which creates it";
    app_user_ = *app_user;
  }

  platform::UserIds nobody_;
  platform::UserIds app_user_;
};

TEST_F(AppIsolationTest, OtherLocalUsersCannotReadOrTakeFromTheApp) {
  boost::asio::io_context io;
  FakeClock clock;
  AppOptions o;
  o.argv = {WARDEN_THERMOSTAT_PATH};
  o.run_as_user = kDefaultAppUser;
  // Whether the user is shared is another test's business; this one must
  // not depend on what else of that user runs on the machine.
  o.allow_shared_user = true;
  AppHost host(io, o, clock);
  Status st = host.Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(RunUntil(io, [&] { return host.ready(); }));
  pid_t app = *host.pid();

  struct Attacker {
    const char* name;
    platform::UserIds ids;
  };
  for (const Attacker& attacker :
       {Attacker{"nobody", nobody_}, Attacker{kDefaultAppUser, app_user_}}) {
    SCOPED_TRACE(attacker.name);
    Attempts a = AttackAs(app, attacker.ids);
    EXPECT_TRUE(Refused(a.environ_error))
        << "read /proc/PID/environ: " << Name(a.environ_error);
    EXPECT_FALSE(a.saw_socket_variable);
    EXPECT_TRUE(Refused(a.mem_error))
        << "read /proc/PID/mem: " << Name(a.mem_error);
    EXPECT_TRUE(Refused(a.getfd_error))
        << "pidfd_getfd of fd 3: " << Name(a.getfd_error);
  }
  EXPECT_EQ(*host.pid(), app);
  EXPECT_TRUE(host.ready());
  host.Stop();
}

TEST_F(AppIsolationTest, TheSameAttemptsSucceedAgainstADumpableAppOfTheirUser) {
  platform::SpawnOptions o;
  o.argv = {WARDEN_FAKE_APP_PATH, "dumpable"};
  o.run_as_user = "nobody";
  Result<platform::Child> child = platform::SpawnWithSocket(o);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  // Its hello shows it is past start-up and waiting with the socket open.
  char header[4];
  ASSERT_EQ(::read(child->socket_fd, header, sizeof(header)), 4);

  Attempts a = AttackAs(child->pid, nobody_);
  EXPECT_EQ(a.environ_error, 0) << Name(a.environ_error);
  EXPECT_TRUE(a.saw_socket_variable);
  EXPECT_EQ(a.mem_error, 0) << Name(a.mem_error);
  EXPECT_EQ(a.getfd_error, 0) << Name(a.getfd_error);

  ASSERT_TRUE(platform::TerminateAndReap(child->pid, child->pidfd,
                                         std::chrono::seconds(2))
                  .ok());
  ::close(child->socket_fd);
  if (child->pidfd >= 0) ::close(child->pidfd);
}

}  // namespace
}  // namespace warden::app
