// A TLS 1.3 load generator for the front-door benchmarks: measures full
// handshakes per second, or keep-alive HTTP requests per second with an
// optional client certificate, against any server on loopback. The same
// client drives wardend and the nginx baseline, so the ratio compares the
// servers, not the clients.
//
//   tls_load handshakes PORT SECONDS
//   tls_load requests PORT SECONDS PATH [CERT KEY]
// Prints one JSON line: {"mode", "port", "count", "seconds", "per_second"}.
//
// The owner's view under attack, for bench/run.py to run side by side:
//
//   tls_load latency PORT SECONDS PATH CERT KEY INTERVAL_MS
//     one request at a time on a kept-alive connection, one due every
//     INTERVAL_MS (sent at once when the last one ended late), latency
//     counted from when each was due; prints
//     {"mode", "count", "failed", "p50_ms", "p99_ms", "max_ms",
//     "service_p99_ms" (from when each was sent)}.
//   tls_load login_storm PORT SECONDS WORKERS
//     WORKERS threads, each from its own source address (127.2.0.1 and
//     up), sending wrong-password POST /v1/login as fast as answered.
//   tls_load flood PORT SECONDS WORKERS
//     WORKERS threads making new TLS connections as fast as they can, each
//     from 16 source addresses in turn (127.3.W.1 to 127.3.W.16).
//   The attacks print {"mode", "count", "per_second", "statuses"}.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// 127.a.b.c as a host-order address.
uint32_t Loopback(int a, int b, int c) {
  return (127u << 24) | (static_cast<uint32_t>(a) << 16) |
         (static_cast<uint32_t>(b) << 8) | static_cast<uint32_t>(c);
}

// Connects to 127.0.0.1:port, from `source` (host order) unless it is 0.
int Connect(int port, uint32_t source = 0) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source != 0) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(source);
    if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      close(fd);
      return -1;
    }
  }
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

SSL* Handshake(SSL_CTX* ctx, int port, uint32_t source = 0) {
  int fd = Connect(port, source);
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

std::string Get(const char* path) {
  return std::string("GET ") + path + " HTTP/1.1\r\nHost: bench\r\n\r\n";
}

double Millis(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// The owner: one request at a time with its client certificate, one due
// every `interval_ms`. Latency counts from when a request was due, not
// from when it could be sent, so a stalled server is charged for every
// request it held up (not only for the one it was serving).
int Latency(SSL_CTX* ctx, int port, double seconds, const char* path,
            double interval_ms) {
  const std::string request = Get(path);
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(interval_ms));
  std::vector<double> ms;       // from when due
  std::vector<double> service;  // from when sent
  long failed = 0;
  SSL* ssl = nullptr;
  std::string buf;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(seconds));
  for (auto due = start; due < deadline; due += interval) {
    std::this_thread::sleep_until(due);
    auto sent = Clock::now();
    if (ssl == nullptr) {
      buf.clear();
      ssl = Handshake(ctx, port);
    }
    int status = -1;
    if (ssl != nullptr &&
        SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
      status = ReadResponse(ssl, buf);
    }
    if (status != 200) {
      ++failed;
      if (ssl != nullptr) Close(ssl);
      ssl = nullptr;
      continue;
    }
    auto done = Clock::now();
    ms.push_back(Millis(done - due));
    service.push_back(Millis(done - sent));
  }
  if (ssl != nullptr) Close(ssl);
  size_t count = ms.size();
  double p50 = Percentile(ms, 0.50);
  double p99 = Percentile(ms, 0.99);
  double max = ms.empty() ? 0 : ms.back();
  double service_p99 = Percentile(service, 0.99);
  std::printf(
      "{\"mode\": \"latency\", \"port\": %d, \"count\": %zu, "
      "\"failed\": %ld, \"p50_ms\": %.2f, \"p99_ms\": %.2f, "
      "\"max_ms\": %.2f, \"service_p99_ms\": %.2f}\n",
      port, count, failed, p50, p99, max, service_p99);
  return count > 0 ? 0 : 1;
}

struct Tally {
  std::mutex mu;
  std::map<int, long> statuses;  // 0: connection or handshake failed
  void Add(int status) {
    std::lock_guard<std::mutex> lock(mu);
    ++statuses[status];
  }
};

void PrintAttack(const char* mode, int port, double elapsed, Tally& tally) {
  long count = 0;
  std::string statuses;
  for (const auto& [status, n] : tally.statuses) {
    count += n;
    if (!statuses.empty()) statuses += ", ";
    statuses += "\"" + std::to_string(status) + "\": " + std::to_string(n);
  }
  std::printf(
      "{\"mode\": \"%s\", \"port\": %d, \"count\": %ld, "
      "\"seconds\": %.3f, \"per_second\": %.1f, \"statuses\": {%s}}\n",
      mode, port, count, elapsed, count / elapsed, statuses.c_str());
}

// Wrong passwords from many addresses, each on a kept-alive connection.
void LoginStormWorker(SSL_CTX* ctx, int port, uint32_t source,
                      Clock::time_point deadline, Tally& tally) {
  // The owner bench/run.py pairs as: every guess costs an Argon2id check.
  const std::string body =
      "{\"owner\": \"bench\", \"password\": \"not the owner's password\"}";
  const std::string request =
      "POST /v1/login HTTP/1.1\r\nHost: bench\r\nContent-Type: "
      "application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  SSL* ssl = nullptr;
  std::string buf;
  while (Clock::now() < deadline) {
    if (ssl == nullptr) {
      buf.clear();
      ssl = Handshake(ctx, port, source);
      if (ssl == nullptr) {
        tally.Add(0);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
    }
    int status = -1;
    if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
      status = ReadResponse(ssl, buf);
    }
    tally.Add(std::max(status, 0));
    if (status <= 0) {
      Close(ssl);
      ssl = nullptr;
    }
  }
  if (ssl != nullptr) Close(ssl);
}

// New connections, each closed after its handshake.
void FloodWorker(SSL_CTX* ctx, int port, int worker, Clock::time_point deadline,
                 Tally& tally) {
  for (int i = 0; Clock::now() < deadline; ++i) {
    SSL* ssl = Handshake(ctx, port, Loopback(3, worker, 1 + i % 16));
    tally.Add(ssl != nullptr ? 1 : 0);
    if (ssl != nullptr) Close(ssl);
  }
}

int Attack(const std::string& mode, SSL_CTX* ctx, int port, double seconds,
           int workers) {
  Tally tally;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    if (mode == "login_storm") {
      threads.emplace_back(LoginStormWorker, ctx, port, Loopback(2, 0, 1 + w),
                           deadline, std::ref(tally));
    } else {
      threads.emplace_back(FloodWorker, ctx, port, w, deadline,
                           std::ref(tally));
    }
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  PrintAttack(mode.c_str(), port, elapsed, tally);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: tls_load handshakes PORT SECONDS\n"
                 "       tls_load requests PORT SECONDS PATH [CERT KEY]\n"
                 "       tls_load latency PORT SECONDS PATH CERT KEY "
                 "INTERVAL_MS\n"
                 "       tls_load login_storm|flood PORT SECONDS WORKERS\n");
    return 2;
  }
  std::string mode = argv[1];
  int port = std::atoi(argv[2]);
  double seconds = std::atof(argv[3]);
  const char* cert = argc >= 7 ? argv[5] : nullptr;
  const char* key = argc >= 7 ? argv[6] : nullptr;
  if (mode == "login_storm" || mode == "flood") {
    int workers = argc >= 5 ? std::atoi(argv[4]) : 0;
    if (workers < 1 || workers > 250) {
      std::fprintf(stderr, "tls_load: WORKERS must be 1..250\n");
      return 2;
    }
    SSL_CTX* ctx = MakeContext(nullptr, nullptr);
    int rc = Attack(mode, ctx, port, seconds, workers);
    SSL_CTX_free(ctx);
    return rc;
  }
  SSL_CTX* ctx = MakeContext(cert, key);
  if (mode == "latency") {
    if (argc < 8) {
      std::fprintf(stderr, "tls_load: latency needs PATH CERT KEY INTERVAL\n");
      return 2;
    }
    int rc = Latency(ctx, port, seconds, argv[4], std::atof(argv[7]));
    SSL_CTX_free(ctx);
    return rc;
  }

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
    std::string request = Get(argv[4]);
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
