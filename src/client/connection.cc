#include "client/connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <cstring>

#include "crypto/hash.h"
#include "crypto/secret.h"

namespace warden::client {
namespace {

namespace http = boost::beast::http;

// Everything OpenSSL queued, oldest first, as one line; clears the queue.
std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no details" : out;
}

std::string Seconds(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<std::string> DerFingerprint(X509* cert) {
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return InternalError("cannot encode device certificate");
  Bytes der(static_cast<size_t>(len));
  uint8_t* p = der.data();
  if (i2d_X509(cert, &p) != len) {
    return InternalError("cannot encode device certificate");
  }
  return HexEncode(crypto::Sha256(der));
}

bool ValidHeaderText(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

}  // namespace

struct Connection::Impl {
  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  std::string authority;
  std::string what;  // "device at https://host:port", for messages
  std::chrono::milliseconds io_timeout{10000};
  std::optional<std::string> pin;
  // Set by the verify callback when the presented certificate is not the
  // pinned one.
  std::optional<std::string> mismatched_fingerprint;
  std::string buffer;  // received bytes not yet parsed
  bool open = false;

  ~Impl() { Shutdown(); }

  void Shutdown() {
    if (ssl != nullptr) {
      if (open) SSL_shutdown(ssl);
      SSL_free(ssl);
      ssl = nullptr;
    }
    if (ctx != nullptr) {
      SSL_CTX_free(ctx);
      ctx = nullptr;
    }
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
    open = false;
    ERR_clear_error();
  }

  // Runs the chain check: only the leaf matters, and only its fingerprint.
  static int VerifyCallback(X509_STORE_CTX* store, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    X509* leaf = X509_STORE_CTX_get0_cert(store);
    if (leaf == nullptr) return 0;
    if (!self->pin.has_value()) return 1;
    Result<std::string> fp = DerFingerprint(leaf);
    if (!fp.ok()) return 0;
    if (!crypto::ConstantTimeEquals(AsBytes(*fp), AsBytes(*self->pin))) {
      self->mismatched_fingerprint = *fp;
      X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
      return 0;
    }
    return 1;
  }

  Status IoFailure(int ret, std::string_view during) {
    int err = SSL_get_error(ssl, ret);
    int saved_errno = errno;
    Status st;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
        (err == SSL_ERROR_SYSCALL &&
         (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))) {
      st = DeadlineExceededError(what + " did not answer within " +
                                 Seconds(io_timeout) + " (" +
                                 std::string(during) + ")");
    } else if (err == SSL_ERROR_ZERO_RETURN ||
               (err == SSL_ERROR_SYSCALL && saved_errno == 0)) {
      st = UnavailableError(what + " closed the connection (" +
                            std::string(during) + ")");
    } else if (err == SSL_ERROR_SYSCALL) {
      st = UnavailableError(what + ": " + std::string(during) + ": " +
                            std::strerror(saved_errno));
    } else {
      st = UnavailableError(what + ": " + std::string(during) + ": " +
                            OpenSslErrors());
    }
    Shutdown();
    return st;
  }

  // A signal arrived mid-call: the call is simply repeated.
  bool Interrupted(int ret) const {
    return SSL_get_error(ssl, ret) == SSL_ERROR_SYSCALL && errno == EINTR;
  }

  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ERR_clear_error();
      int chunk = static_cast<int>(std::min<size_t>(data.size(), 1 << 20));
      int n = SSL_write(ssl, data.data(), chunk);
      if (n <= 0 && Interrupted(n)) continue;
      if (n <= 0) return IoFailure(n, "sending request");
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  // Reads more bytes into `buffer`. Returns false at a clean end of stream.
  Result<bool> ReadMore() {
    char chunk[16384];
    ERR_clear_error();
    int n;
    do {
      n = SSL_read(ssl, chunk, sizeof(chunk));
    } while (n <= 0 && Interrupted(n));
    if (n > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN) return false;
    return IoFailure(n, "reading response");
  }
};

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Result<schema::Json> HttpResponse::Json() const {
  schema::JsonLimits limits;
  limits.max_bytes = kMaxResponseBody;
  limits.max_depth = 32;
  limits.max_string = kMaxResponseBody;
  limits.max_items = 16384;
  Result<schema::Json> j = schema::ParseJson(body, limits);
  if (!j.ok()) {
    return UnavailableError("device sent malformed JSON: " +
                            j.status().message());
  }
  return j;
}

Connection::Connection(std::unique_ptr<Impl> impl, std::string fingerprint,
                       std::optional<crypto::Certificate> cert)
    : impl_(std::move(impl)),
      peer_fingerprint_(std::move(fingerprint)),
      peer_cert_(std::move(cert)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

void Connection::Close() {
  if (impl_) impl_->Shutdown();
}

namespace {

// Connects a non-blocking socket within `timeout`, then makes it blocking
// with per-operation timeouts.
Result<int> ConnectTcp(const Url& url, const ConnectOptions& options,
                       const std::string& what) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_NUMERICSERV;
  if (url.kind != Url::HostKind::kName) hints.ai_flags |= AI_NUMERICHOST;
  addrinfo* list = nullptr;
  std::string port = std::to_string(url.port);
  int gai = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &list);
  if (gai != 0) {
    return UnavailableError("cannot resolve " + url.host + ": " +
                            gai_strerror(gai));
  }
  Status last = UnavailableError("cannot connect to " + what);
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                 ai->ai_protocol);
    if (fd < 0) {
      last = UnavailableError("cannot create socket: " +
                              std::string(std::strerror(errno)));
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int pr;
      do {
        pr = ::poll(&p, 1, static_cast<int>(options.connect_timeout.count()));
      } while (pr < 0 && errno == EINTR);
      if (pr == 0) {
        ::close(fd);
        last = DeadlineExceededError("cannot connect to " + what + " within " +
                                     Seconds(options.connect_timeout));
        continue;
      }
      int soerr = 0;
      socklen_t len = sizeof(soerr);
      if (pr < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
        soerr = errno;
      }
      rc = soerr == 0 ? 0 : -1;
      errno = soerr;
    }
    if (rc != 0) {
      last = UnavailableError("cannot connect to " + what + ": " +
                              std::strerror(errno));
      ::close(fd);
      continue;
    }
    int flags = fcntl(fd, F_GETFL);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(options.io_timeout.count() / 1000);
    tv.tv_usec =
        static_cast<suseconds_t>((options.io_timeout.count() % 1000) * 1000);
    int one = 1;
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
      last = UnavailableError("cannot configure socket: " +
                              std::string(std::strerror(errno)));
      ::close(fd);
      continue;
    }
    freeaddrinfo(list);
    return fd;
  }
  freeaddrinfo(list);
  return last;
}

}  // namespace

Result<Connection> Connection::Open(const Url& url,
                                    const ConnectOptions& options) {
  if ((options.client_key == nullptr) !=
      (options.client_certificate == nullptr)) {
    return InvalidArgumentError(
        "a client key needs its certificate and the other way round");
  }
  auto impl = std::make_unique<Impl>();
  impl->authority = url.Authority();
  impl->what = "device at " + url.ToString();
  impl->io_timeout = options.io_timeout;
  impl->pin = options.pinned_fingerprint;
  ERR_clear_error();

  impl->ctx = SSL_CTX_new(TLS_client_method());
  if (impl->ctx == nullptr ||
      SSL_CTX_set_min_proto_version(impl->ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(impl->ctx, TLS1_3_VERSION) != 1) {
    return InternalError("cannot set up TLS: " + OpenSslErrors());
  }
  SSL_CTX_set_session_cache_mode(impl->ctx, SSL_SESS_CACHE_OFF);
  // The callback replaces chain building: no CA is trusted, the pin is.
  SSL_CTX_set_verify(impl->ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(impl->ctx, &Impl::VerifyCallback,
                                   impl.get());
  if (options.client_key != nullptr) {
    if (SSL_CTX_use_certificate(impl->ctx, options.client_certificate->raw()) !=
            1 ||
        SSL_CTX_use_PrivateKey(impl->ctx, options.client_key->raw()) != 1 ||
        SSL_CTX_check_private_key(impl->ctx) != 1) {
      return InvalidArgumentError(
          "owner certificate does not match the owner key: " + OpenSslErrors());
    }
  }

  WARDEN_ASSIGN_OR_RETURN(impl->fd, ConnectTcp(url, options, impl->what));

  impl->ssl = SSL_new(impl->ctx);
  if (impl->ssl == nullptr || SSL_set_fd(impl->ssl, impl->fd) != 1) {
    return InternalError("cannot set up TLS: " + OpenSslErrors());
  }
  ERR_clear_error();
  int rc;
  do {
    rc = SSL_connect(impl->ssl);
  } while (rc != 1 && !impl->mismatched_fingerprint.has_value() &&
           impl->Interrupted(rc));
  if (rc != 1) {
    if (impl->mismatched_fingerprint.has_value()) {
      std::string got = *impl->mismatched_fingerprint;
      impl->Shutdown();
      return UnauthenticatedError("device certificate changed: " + impl->what +
                                  " presented " + got + ", expected " +
                                  *impl->pin);
    }
    return impl->IoFailure(rc, "TLS 1.3 handshake");
  }
  impl->open = true;

  X509* peer = SSL_get1_peer_certificate(impl->ssl);
  if (peer == nullptr) {
    impl->Shutdown();
    return UnauthenticatedError(impl->what + " presented no certificate");
  }
  Result<std::string> fp = DerFingerprint(peer);
  int len = i2d_X509(peer, nullptr);
  Bytes der(len > 0 ? static_cast<size_t>(len) : 0);
  uint8_t* p = der.data();
  if (len > 0) i2d_X509(peer, &p);
  X509_free(peer);
  if (!fp.ok()) {
    impl->Shutdown();
    return fp.status();
  }
  if (impl->pin.has_value() &&
      !crypto::ConstantTimeEquals(AsBytes(*fp), AsBytes(*impl->pin))) {
    impl->Shutdown();
    return UnauthenticatedError("device certificate changed: " + impl->what +
                                " presented " + *fp + ", expected " +
                                *impl->pin);
  }
  Result<crypto::Certificate> cert = crypto::Certificate::FromDer(der);
  if (!cert.ok()) {
    impl->Shutdown();
    return UnauthenticatedError(
        impl->what +
        " presented an unreadable certificate: " + cert.status().message());
  }
  std::string fingerprint = *fp;
  return Connection(std::move(impl), std::move(fingerprint),
                    std::move(cert).value());
}

Result<HttpResponse> Connection::Request(
    std::string_view method, std::string_view target,
    const std::optional<schema::Json>& body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  if (!impl_ || !impl_->open) {
    return UnavailableError("connection to the device is closed");
  }
  if (method.empty() || !ValidHeaderText(method) ||
      method.find(' ') != std::string_view::npos || target.empty() ||
      target.front() != '/' || !ValidHeaderText(target) ||
      target.find(' ') != std::string_view::npos) {
    return InvalidArgumentError("invalid request line");
  }
  std::string req;
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  req.append("Host: ").append(impl_->authority).append("\r\n");
  req.append("User-Agent: warden\r\nAccept: application/json\r\n");
  for (const auto& [name, value] : headers) {
    std::string lower = ToLower(name);
    if (name.empty() || !ValidHeaderText(name) || !ValidHeaderText(value) ||
        name.find(':') != std::string::npos || lower == "host" ||
        lower == "content-length" || lower == "content-type") {
      return InvalidArgumentError("invalid request header '" + name + "'");
    }
    req.append(name).append(": ").append(value).append("\r\n");
  }
  std::string payload;
  if (body.has_value()) {
    try {
      payload = body->dump();
    } catch (const std::exception& e) {
      return InvalidArgumentError(std::string("cannot encode request: ") +
                                  e.what());
    }
    req.append("Content-Type: application/json\r\n");
  }
  if (body.has_value() || method == "POST" || method == "PUT") {
    req.append("Content-Length: ")
        .append(std::to_string(payload.size()))
        .append("\r\n");
  }
  req.append("\r\n").append(payload);
  // The request may carry a password: wipe our copies once sent.
  Status sent = impl_->WriteAll(req);
  crypto::Wipe(req);
  crypto::Wipe(payload);
  WARDEN_TRY(sent);

  HttpResponse response;
  try {
    http::response_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kMaxResponseHeader));
    parser.body_limit(kMaxResponseBody);
    parser.eager(true);
    while (!parser.is_done()) {
      boost::system::error_code ec;
      size_t used = 0;
      if (!impl_->buffer.empty()) {
        used = parser.put(
            boost::asio::buffer(impl_->buffer.data(), impl_->buffer.size()),
            ec);
        impl_->buffer.erase(0, used);
      } else {
        ec = http::error::need_more;
      }
      if (ec == http::error::need_more || (!ec && used == 0)) {
        if (impl_->buffer.size() > kMaxResponseHeader + kMaxResponseBody) {
          impl_->Shutdown();
          return ResourceExhaustedError("device response is too large");
        }
        WARDEN_ASSIGN_OR_RETURN(bool more, impl_->ReadMore());
        if (!more) {
          parser.put_eof(ec);
          if (ec) {
            impl_->Shutdown();
            return UnavailableError(impl_->what +
                                    " closed the connection mid-response");
          }
        }
        continue;
      }
      if (ec) {
        impl_->Shutdown();
        if (ec == http::error::header_limit || ec == http::error::body_limit ||
            ec == http::error::buffer_overflow) {
          return ResourceExhaustedError("device response is too large (" +
                                        ec.message() + ")");
        }
        return UnavailableError(impl_->what +
                                " sent malformed HTTP: " + ec.message());
      }
    }
    auto& msg = parser.get();
    response.status = static_cast<int>(msg.result_int());
    for (const auto& field : msg) {
      response.headers[ToLower(field.name_string())] =
          std::string(field.value());
    }
    response.body = std::move(msg.body());
    if (!msg.keep_alive()) impl_->Shutdown();
  } catch (const std::exception& e) {
    impl_->Shutdown();
    return UnavailableError(impl_->what +
                            " sent a response we cannot read: " + e.what());
  }
  return response;
}

Result<Bytes> Connection::ExportKeyingMaterial(std::string_view label,
                                               size_t length) {
  if (!impl_ || !impl_->open) {
    return UnavailableError("connection to the device is closed");
  }
  if (length == 0 || length > 255 * 32) {
    return InvalidArgumentError("exporter length out of range");
  }
  Bytes out(length);
  ERR_clear_error();
  if (SSL_export_keying_material(impl_->ssl, out.data(), out.size(),
                                 label.data(), label.size(), nullptr, 0,
                                 0) != 1) {
    return InternalError("TLS exporter failed: " + OpenSslErrors());
  }
  return out;
}

}  // namespace warden::client
