#include "net/testing/test_nginx.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "base/rng.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/x509.h"

extern char** environ;

namespace warden::net::testing {

namespace fs = std::filesystem;

struct TestNginx::Impl {
  std::string dir;
  std::string ca_file;
  Bytes pin;
  uint16_t port = 0;
  pid_t pid = -1;

  ~Impl() {
    StopProcess();
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }

  void StopProcess() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) {
        pid = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

namespace {

Status WriteText(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return IoError("cannot write " + path);
  return Status::Ok();
}

// A port nobody listens on right now. nginx binds it a moment later; if
// something else took it meanwhile, Start tries another.
Result<uint16_t> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) return IoError("cannot find a free port");
  return ntohs(addr.sin_port);
}

bool Accepting(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok =
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::string Config(const std::string& dir, uint16_t port,
                   const TestNginxOptions& options) {
  return fmt::format(R"(daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp/body;
  proxy_temp_path {dir}/tmp/proxy;
  fastcgi_temp_path {dir}/tmp/fastcgi;
  uwsgi_temp_path {dir}/tmp/uwsgi;
  scgi_temp_path {dir}/tmp/scgi;
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {dir}/server.crt;
    ssl_certificate_key {dir}/server.key;
    ssl_protocols {protocols};
    location /files/ {{ alias {dir}/www/; }}
    location /norange/ {{ alias {dir}/www/; max_ranges 0; }}
    location /chunked/ {{
      alias {dir}/www/;
      sub_filter_types *;
      sub_filter 'x' 'y';
      sub_filter_once off;
    }}
    location /slow/ {{ alias {dir}/www/; limit_rate 64; }}
    location /badrange/ {{
      add_header Content-Range "bytes 0-3/4" always;
      return 206 "abcd";
    }}
  }}
}}
)",
                     fmt::arg("dir", dir), fmt::arg("port", port),
                     fmt::arg("protocols", options.protocols));
}

const char* NginxBinary() {
  return ::access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : "nginx";
}

}  // namespace

Result<std::unique_ptr<TestNginx>> TestNginx::Start(TestNginxOptions options) {
  auto impl = std::make_unique<Impl>();
  WARDEN_ASSIGN_OR_RETURN(Bytes suffix, RandomBytes(SystemRng(), 8));
  impl->dir =
      (fs::temp_directory_path() / ("warden-test-nginx-" + HexEncode(suffix)))
          .string();
  std::error_code ec;
  fs::create_directories(impl->dir + "/www", ec);
  if (!ec) fs::create_directories(impl->dir + "/tmp", ec);
  if (ec) return IoError("cannot create " + impl->dir + ": " + ec.message());

  // A CA, and a server certificate from it for 127.0.0.1.
  auto now = std::chrono::system_clock::now();
  WARDEN_ASSIGN_OR_RETURN(
      crypto::PrivateKey ca_key,
      crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256));
  crypto::CertificateRequest ca_req{
      .common_name = "Warden Test Update CA",
      .organization = "Test",
      .serial_number = std::nullopt,
      .subject_key = ca_key.public_key(),
      .not_before = now - std::chrono::hours(1),
      .not_after = now + std::chrono::hours(24),
      .is_ca = true,
  };
  WARDEN_ASSIGN_OR_RETURN(crypto::Certificate ca,
                          crypto::IssueCertificate(ca_req, ca_key, nullptr));
  WARDEN_ASSIGN_OR_RETURN(
      crypto::PrivateKey key,
      crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256));
  crypto::CertificateRequest req{
      .common_name = "127.0.0.1",
      .organization = "Test",
      .serial_number = std::nullopt,
      .subject_key = key.public_key(),
      .not_before = now - std::chrono::hours(1),
      .not_after = now + std::chrono::hours(24),
      .is_ca = false,
      .dns_names = {"localhost"},
      .ip_addresses = {"127.0.0.1"},
      .server_auth = true,
  };
  WARDEN_ASSIGN_OR_RETURN(crypto::Certificate cert,
                          crypto::IssueCertificate(req, ca_key, &ca));
  impl->ca_file = impl->dir + "/ca.crt";
  impl->pin = crypto::Sha256(key.public_key().ToDer());
  WARDEN_TRY(WriteText(impl->ca_file, ca.ToPem()));
  WARDEN_TRY(WriteText(impl->dir + "/server.crt", cert.ToPem() + ca.ToPem()));
  WARDEN_TRY(WriteText(impl->dir + "/server.key", key.ToPem()));

  std::string conf = impl->dir + "/nginx.conf";
  std::string log = impl->dir + "/nginx.out";
  std::string error_log = impl->dir + "/error.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    WARDEN_ASSIGN_OR_RETURN(uint16_t port, FreePort());
    WARDEN_TRY(WriteText(conf, Config(impl->dir, port, options)));
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
    std::string binary = NginxBinary();
    std::vector<std::string> args = {binary, "-p", impl->dir, "-c",
                                     conf,   "-e", error_log};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, binary.c_str(), &files, nullptr, argv.data(),
                          environ);
    posix_spawn_file_actions_destroy(&files);
    if (rc != 0) return UnavailableError("cannot start nginx");
    impl->pid = pid;
    for (int i = 0; i < 200; ++i) {
      if (Accepting(port)) {
        impl->port = port;
        return std::unique_ptr<TestNginx>(new TestNginx(std::move(impl)));
      }
      if (::waitpid(pid, nullptr, WNOHANG) == pid) {
        impl->pid = -1;
        break;  // did not start (the port was taken): try another
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    impl->StopProcess();
  }
  std::ifstream in(log);
  std::string why((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  return UnavailableError("nginx did not start: " + why.substr(0, 500));
}

TestNginx::TestNginx(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TestNginx::~TestNginx() = default;

uint16_t TestNginx::port() const { return impl_->port; }

std::string TestNginx::Url(std::string_view path) const {
  return "https://127.0.0.1:" + std::to_string(impl_->port) + std::string(path);
}

const std::string& TestNginx::ca_file() const { return impl_->ca_file; }
const Bytes& TestNginx::spki_sha256() const { return impl_->pin; }

Status TestNginx::Put(const std::string& name, std::string_view content) {
  return WriteText(impl_->dir + "/www/" + name, content);
}

Status TestNginx::PutSparse(const std::string& name, uint64_t size) {
  std::string path = impl_->dir + "/www/" + name;
  WARDEN_TRY(WriteText(path, ""));
  std::error_code ec;
  fs::resize_file(path, size, ec);
  if (ec) return IoError("cannot size " + path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace warden::net::testing
