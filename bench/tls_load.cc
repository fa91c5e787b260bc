// A TLS 1.3 load generator for the front-door benchmarks: measures full
// handshakes per second, or keep-alive HTTP requests per second with an
// optional client certificate, against any server on loopback. The same
// client drives wardend and the nginx baseline, so the ratio compares the
// servers, not the clients.
//
//   tls_load handshakes PORT SECONDS
//   tls_load requests PORT SECONDS PATH [CERT KEY]
// Prints one JSON line: {"mode", "port", "count", "seconds", "per_second"}.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

SSL_CTX* MakeContext(const char* cert, const char* key) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  // Every handshake is a full one: no resumption.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (cert && key) {
    if (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
      std::fprintf(stderr, "tls_load: cannot load %s / %s\n", cert, key);
      std::exit(1);
    }
  }
  return ctx;
}

SSL* Handshake(SSL_CTX* ctx, int port) {
  int fd = Connect(port);
  if (fd < 0) return nullptr;
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) {
    SSL_free(ssl);
    close(fd);
    return nullptr;
  }
  return ssl;
}

void Close(SSL* ssl) {
  int fd = SSL_get_fd(ssl);
  SSL_shutdown(ssl);
  SSL_free(ssl);
  close(fd);
}

// Reads one HTTP response with a Content-Length body; returns its status.
int ReadResponse(SSL* ssl, std::string& buf) {
  for (;;) {
    auto head_end = buf.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      size_t body = 0;
      auto cl = buf.find("ontent-Length: ");
      if (cl == std::string::npos) cl = buf.find("ontent-length: ");
      if (cl != std::string::npos && cl < head_end) {
        body = std::strtoul(buf.c_str() + cl + 15, nullptr, 10);
      }
      if (buf.size() >= head_end + 4 + body) {
        int status = std::atoi(buf.c_str() + 9);
        buf.erase(0, head_end + 4 + body);
        return status;
      }
    }
    char chunk[16384];
    int n = SSL_read(ssl, chunk, sizeof chunk);
    if (n <= 0) return -1;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: tls_load handshakes PORT SECONDS\n"
                 "       tls_load requests PORT SECONDS PATH [CERT KEY]\n");
    return 2;
  }
  std::string mode = argv[1];
  int port = std::atoi(argv[2]);
  double seconds = std::atof(argv[3]);
  const char* cert = argc >= 7 ? argv[5] : nullptr;
  const char* key = argc >= 7 ? argv[6] : nullptr;
  SSL_CTX* ctx = MakeContext(cert, key);

  long count = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  if (mode == "handshakes") {
    while (Clock::now() < deadline) {
      SSL* ssl = Handshake(ctx, port);
      if (!ssl) {
        std::fprintf(stderr, "tls_load: handshake failed\n");
        return 1;
      }
      Close(ssl);
      ++count;
    }
  } else if (mode == "requests" && argc >= 5) {
    std::string request =
        std::string("GET ") + argv[4] + " HTTP/1.1\r\nHost: bench\r\n\r\n";
    SSL* ssl = Handshake(ctx, port);
    if (!ssl) {
      std::fprintf(stderr, "tls_load: handshake failed\n");
      return 1;
    }
    std::string buf;
    while (Clock::now() < deadline) {
      if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) <=
          0) {
        std::fprintf(stderr, "tls_load: write failed\n");
        return 1;
      }
      int status = ReadResponse(ssl, buf);
      if (status != 200) {
        std::fprintf(stderr, "tls_load: status %d\n", status);
        return 1;
      }
      ++count;
    }
    Close(ssl);
  } else {
    std::fprintf(stderr, "tls_load: unknown mode %s\n", mode.c_str());
    return 2;
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "{\"mode\": \"%s\", \"port\": %d, \"count\": %ld, \"seconds\": %.3f, "
      "\"per_second\": %.1f}\n",
      mode.c_str(), port, count, elapsed, count / elapsed);
  SSL_CTX_free(ctx);
  return 0;
}
