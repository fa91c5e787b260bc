#include "keystore/testing/swtpm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

namespace warden::keystore::testing {
namespace {

// Binds `port` on loopback (0: any) and returns the port it got, or 0.
uint16_t BindLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  // As swtpm binds its own: a port that only closed connections still
  // hold (TIME_WAIT, plentiful after many TPM commands) is free for it.
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof(addr);
  const bool ok =
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  return ok ? ntohs(addr.sin_port) : 0;
}

// Two consecutive ports nobody listens on right now (swtpm's server and
// control ports). swtpm binds them a moment later; if something else took
// one meanwhile, Start tries again.
uint16_t FreePortPair() {
  for (int i = 0; i < 200; ++i) {
    const uint16_t port = BindLoopback(0);
    if (port != 0 && port < 65535 && BindLoopback(port + 1) == port + 1) {
      return port;
    }
  }
  return 0;
}

bool Accepting(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok =
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

void Stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace

Result<std::unique_ptr<TestSwtpm>> TestSwtpm::Start(
    const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return UnavailableError("cannot create " + state_dir);
  const std::string log = state_dir + "/swtpm.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    const uint16_t port = FreePortPair();
    if (port == 0) return UnavailableError("no free loopback ports for swtpm");
    std::vector<std::string> args = {
        "swtpm",
        "socket",
        "--tpm2",
        "--server",
        "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(port),
        "--ctrl",
        "type=tcp,bindaddr=127.0.0.1,port=" + std::to_string(port + 1),
        "--tpmstate",
        "dir=" + state_dir,
        "--flags",
        "not-need-init,startup-clear"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // A child of our own rather than posix_spawn: it gets the parent-death
    // signal, so a test that crashes leaves no swtpm behind.
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return UnavailableError("cannot fork for swtpm");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);
      const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      const int log_fd =
          ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (null_fd < 0 || log_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0 ||
          ::dup2(log_fd, STDOUT_FILENO) < 0 ||
          ::dup2(log_fd, STDERR_FILENO) < 0) {
        ::_exit(127);
      }
      ::execvp("swtpm", argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      if (Accepting(port)) {
        return std::unique_ptr<TestSwtpm>(new TestSwtpm(pid, port));
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
          return UnavailableError(
              "cannot run swtpm: scripts/install-deps.sh installs it");
        }
        break;  // it did not start (a port was taken): try others
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (pid > 0) Stop(pid);
  }
  std::ifstream in(log);
  const std::string why((std::istreambuf_iterator<char>(in)),
                        std::istreambuf_iterator<char>());
  return UnavailableError("swtpm did not start: " + why.substr(0, 500));
}

TestSwtpm::~TestSwtpm() { Stop(pid_); }

std::string TestSwtpm::tcti() const {
  return "swtpm:host=127.0.0.1,port=" + std::to_string(port_);
}

}  // namespace warden::keystore::testing
