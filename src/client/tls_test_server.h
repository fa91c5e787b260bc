// A small TLS server on 127.0.0.1 for the client's tests: one thread,
// connections served one after another, HTTP/1.1 requests with
// Content-Length bodies, answers from a handler. It records what a test
// needs to assert on: application bytes received, the client certificate
// seen, whether the handshake completed.
#ifndef WARDEN_CLIENT_TLS_TEST_SERVER_H_
#define WARDEN_CLIENT_TLS_TEST_SERVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/bytes.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/x509.h"

namespace warden::client::testing {

struct TestRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lowercased names
  std::string body;
};

struct TestResponse {
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;
  // Sent instead of a well-formed response when set.
  std::optional<std::string> raw;
};

class TlsTestServer {
 public:
  using Handler = std::function<TestResponse(const TestRequest&, SSL* ssl)>;

  struct Options {
    const crypto::PrivateKey* key = nullptr;
    const crypto::Certificate* cert = nullptr;
    bool tls12_only = false;
    int max_connections = 1;
  };

  TlsTestServer(Options options, Handler handler)
      : options_(options), handler_(std::move(handler)) {}
  ~TlsTestServer() { Stop(); }

  // Listens on an ephemeral loopback port and starts serving. Returns the
  // port, 0 on failure.
  uint16_t Start() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    // Accept gives up after a while so a failed test never hangs.
    timeval tv{10, 0};
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 8) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
            0 ||
        setsockopt(listen_fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
      return 0;
    }
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (options_.tls12_only) {
      SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
      SSL_CTX_set_max_proto_version(ctx_, TLS1_2_VERSION);
    } else {
      SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
    }
    SSL_CTX_use_certificate(ctx_, options_.cert->raw());
    SSL_CTX_use_PrivateKey(ctx_, options_.key->raw());
    // Ask for a client certificate, accept any (as wardend does).
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(
        ctx_, [](X509_STORE_CTX*, void*) { return 1; }, nullptr);
    thread_ = std::thread([this] { Serve(); });
    return ntohs(addr.sin_port);
  }

  void Stop() {
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    ctx_ = nullptr;
  }

  size_t app_bytes_received() const { return app_bytes_; }
  int handshakes_completed() const { return handshakes_; }
  int requests_served() const { return requests_; }
  // Hex SHA-256 of the last client certificate seen, "" if none.
  std::string client_cert_fingerprint() const {
    std::lock_guard<std::mutex> l(mu_);
    return client_fp_;
  }

 private:
  void Serve() {
    for (int i = 0; i < options_.max_connections; ++i) {
      int fd;
      do {
        fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      } while (fd < 0 && errno == EINTR);
      if (fd < 0) return;
      timeval tv{10, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      int rc;
      do {
        rc = SSL_accept(ssl);
      } while (rc != 1 && SSL_get_error(ssl, rc) == SSL_ERROR_SYSCALL &&
               errno == EINTR);
      if (rc == 1) {
        ++handshakes_;
        if (X509* peer = SSL_get1_peer_certificate(ssl)) {
          int n = i2d_X509(peer, nullptr);
          Bytes der(static_cast<size_t>(n));
          uint8_t* p = der.data();
          i2d_X509(peer, &p);
          X509_free(peer);
          std::lock_guard<std::mutex> l(mu_);
          client_fp_ = HexEncode(crypto::Sha256(der));
        }
        ServeConnection(ssl);
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(fd);
      ERR_clear_error();
    }
  }

  void ServeConnection(SSL* ssl) {
    std::string buf;
    while (true) {
      size_t head_end;
      while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!ReadSome(ssl, buf)) return;
      }
      TestRequest req;
      std::string head = buf.substr(0, head_end);
      buf.erase(0, head_end + 4);
      size_t line_end = head.find("\r\n");
      std::string line = head.substr(0, line_end);
      size_t sp1 = line.find(' ');
      size_t sp2 = line.find(' ', sp1 + 1);
      req.method = line.substr(0, sp1);
      req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        std::string h = head.substr(pos, e - pos);
        size_t colon = h.find(':');
        std::string name = h.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(c));
        std::string value = h.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        req.headers[name] = value;
        pos = e + 2;
      }
      size_t length = req.headers.count("content-length")
                          ? std::stoul(req.headers["content-length"])
                          : 0;
      while (buf.size() < length) {
        if (!ReadSome(ssl, buf)) return;
      }
      req.body = buf.substr(0, length);
      buf.erase(0, length);
      ++requests_;
      TestResponse resp = handler_(req, ssl);
      std::string out;
      if (resp.raw) {
        out = *resp.raw;
      } else {
        out = "HTTP/1.1 " + std::to_string(resp.status) + " X\r\n";
        for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
        if (resp.status != 204) {
          out += "Content-Type: application/json\r\nContent-Length: " +
                 std::to_string(resp.body.size()) + "\r\n";
        }
        out += "\r\n" + resp.body;
      }
      size_t off = 0;
      while (off < out.size()) {
        int n = SSL_write(ssl, out.data() + off,
                          static_cast<int>(out.size() - off));
        if (n <= 0) return;
        off += static_cast<size_t>(n);
      }
    }
  }

  bool ReadSome(SSL* ssl, std::string& buf) {
    char chunk[4096];
    int n;
    do {
      n = SSL_read(ssl, chunk, sizeof(chunk));
    } while (n <= 0 && SSL_get_error(ssl, n) == SSL_ERROR_SYSCALL &&
             errno == EINTR);
    if (n <= 0) return false;
    app_bytes_ += static_cast<size_t>(n);
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  }

  Options options_;
  Handler handler_;
  int listen_fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  std::thread thread_;
  std::atomic<size_t> app_bytes_{0};
  std::atomic<int> handshakes_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::string client_fp_;
};

// A key and a self-signed server certificate for tests.
struct TestServerIdentity {
  crypto::PrivateKey key;
  crypto::Certificate cert;
};

inline TestServerIdentity MakeServerIdentity(const std::string& serial) {
  crypto::PrivateKey key =
      crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256).value();
  auto now = std::chrono::system_clock::now();
  crypto::CertificateRequest req{
      .common_name = serial,
      .organization = "Test Maker",
      .serial_number = serial,
      .subject_key = key.public_key(),
      .not_before = now - std::chrono::hours(1),
      .not_after = now + std::chrono::hours(24),
      .is_ca = false,
      .dns_names = {},
      .ip_addresses = {"127.0.0.1"},
      .server_auth = true,
      .client_auth = false,
  };
  crypto::Certificate cert =
      crypto::IssueCertificate(req, key, nullptr).value();
  return {std::move(key), std::move(cert)};
}

}  // namespace warden::client::testing

#endif  // WARDEN_CLIENT_TLS_TEST_SERVER_H_
