// A child for the process tests: it reports what it found once it runs,
// that is after the dynamic loader has finished, so the tests see exactly
// what SpawnWithSocket gave the program.
//   fds        "N TARGET" for each open descriptor (its own listing's
//              descriptor excluded), one a line, to the socket
//   env        its environment, one entry a line, to the socket
//   pdeathsig  the parent-death signal it has (PR_GET_PDEATHSIG)
//   output     "to stdout" on stdout and "to stderr" on stderr
//   nodump     makes itself non-dumpable, then says "ready"
//   wait       says "ready"
// Then it waits until the socket closes and exits 0.
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern char** environ;

namespace {

constexpr int kSocket = 3;

void Send(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(kSocket, text.data() + done, text.size() - done);
    if (n <= 0) std::exit(2);
    done += static_cast<size_t>(n);
  }
}

std::string Descriptors() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) std::exit(3);
  std::string out;
  while (struct dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = std::atoi(entry->d_name);
    if (fd == ::dirfd(dir)) continue;
    char target[PATH_MAX];
    std::string link = std::string("/proc/self/fd/") + entry->d_name;
    ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n < 0) std::exit(3);
    target[n] = '\0';
    out += std::to_string(fd) + " " + target + "\n";
  }
  ::closedir(dir);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 64;
  std::string mode = argv[1];
  if (mode == "fds") {
    Send(Descriptors());
  } else if (mode == "env") {
    std::string out;
    for (char** e = environ; *e != nullptr; ++e) out += std::string(*e) + "\n";
    Send(out);
  } else if (mode == "pdeathsig") {
    int sig = 0;
    if (::prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) != 0) return 3;
    Send(std::to_string(sig));
  } else if (mode == "output") {
    std::fputs("to stdout\n", stdout);
    std::fflush(stdout);
    std::fputs("to stderr\n", stderr);
    Send("ready");
  } else if (mode == "nodump") {
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return 3;
    Send("ready");
  } else if (mode == "wait") {
    Send("ready");
  } else {
    return 64;
  }
  ::shutdown(kSocket, SHUT_WR);
  char c;
  while (::read(kSocket, &c, 1) > 0) {
  }
  return 0;
}
