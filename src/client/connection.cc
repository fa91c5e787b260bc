#include "client/connection.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "client/api_error.h"
#include "crypto/hash.h"
#include "crypto/secret.h"

namespace warden::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;
using Clock = std::chrono::steady_clock;

// Room to read into beyond the header limit; the parser moves body bytes
// out as they arrive, so the buffer never holds more than this.
constexpr size_t kReadSlack = 64 * 1024;

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

Result<Bytes> CertificateDer(X509* cert) {
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return InternalError("cannot encode device certificate");
  Bytes der(static_cast<size_t>(len));
  uint8_t* p = der.data();
  if (i2d_X509(cert, &p) != len) {
    return InternalError("cannot encode device certificate");
  }
  return der;
}

bool ValidHeaderText(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

bool ClosedByPeer(const beast::error_code& ec) {
  return ec == http::error::end_of_stream ||
         ec == http::error::partial_message || ec == asio::error::eof ||
         ec == asio::ssl::error::stream_truncated ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

struct Connection::Impl {
  ConnectOptions options;
  std::string authority;
  std::string what;  // "device at https://host:port", for messages
  std::optional<std::string> pin;
  // Set by the verify callback when the presented certificate is not the
  // pinned one.
  std::optional<std::string> mismatched_fingerprint;

  asio::io_context io{1};
  asio::ssl::context tls{asio::ssl::context::tls_client};
  std::optional<Stream> stream;
  beast::flat_buffer buffer;
  bool open = false;

  ~Impl() { Close(/*graceful=*/true); }

  // Starts one asynchronous operation through `start`, which gets the
  // completion handler, and runs the private io_context until it is done.
  // The stream's deadline guarantees completion.
  template <typename Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result = asio::error::operation_aborted;
    start([&result](const beast::error_code& ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  void Close(bool graceful) {
    if (!stream.has_value()) return;
    if (open && graceful) {
      // The device answers close_notify at once; a device that does not
      // costs at most this long.
      auto wait = std::min<std::chrono::milliseconds>(
          options.io_timeout, std::chrono::milliseconds(1000));
      beast::get_lowest_layer(*stream).expires_after(wait);
      Run([&](auto handler) { stream->async_shutdown(std::move(handler)); });
    }
    beast::error_code ignored;
    beast::get_lowest_layer(*stream).socket().close(ignored);
    stream.reset();
    open = false;
    ERR_clear_error();
  }

  // Replaces chain building: only the leaf matters, and only its
  // fingerprint. Runs inside the handshake, before our certificate goes out.
  static int VerifyCallback(X509_STORE_CTX* store, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    X509* leaf = X509_STORE_CTX_get0_cert(store);
    if (leaf == nullptr) return 0;
    if (!self->pin.has_value()) return 1;
    Result<Bytes> der = CertificateDer(leaf);
    if (!der.ok()) return 0;
    std::string fp = HexEncode(crypto::Sha256(*der));
    if (!crypto::ConstantTimeEquals(AsBytes(fp), AsBytes(*self->pin))) {
      self->mismatched_fingerprint = fp;
      X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
      return 0;
    }
    return 1;
  }

  // A failed operation: the connection is dropped and the error mapped to
  // what the owner should hear.
  Status Failure(const beast::error_code& ec, std::string_view during,
                 std::chrono::milliseconds timeout, bool got_some = false) {
    Status st;
    if (ec == beast::error::timeout) {
      st = DeadlineExceededError(what + " did not answer within " +
                                 Seconds(timeout) + " (" + std::string(during) +
                                 ")");
    } else if (ec == http::error::header_limit ||
               ec == http::error::body_limit ||
               ec == http::error::buffer_overflow) {
      st = ResourceExhaustedError(what + " sent a response over the limit (" +
                                  ec.message() + ")");
    } else if (ClosedByPeer(ec)) {
      st = UnavailableError(what + " closed the connection " +
                            (got_some ? "mid-response" : "before answering") +
                            " (" + std::string(during) + ")");
    } else if (ec.category() ==
               http::make_error_code(http::error::bad_version).category()) {
      st = UnavailableError(what + " sent malformed HTTP: " + ec.message());
    } else {
      st = UnavailableError(what + ": " + std::string(during) + ": " +
                            ec.message());
    }
    Close(/*graceful=*/false);
    return st;
  }
};

Connection::Connection(std::unique_ptr<Impl> impl, std::string fingerprint,
                       std::optional<crypto::Certificate> cert)
    : impl_(std::move(impl)),
      peer_fingerprint_(std::move(fingerprint)),
      peer_cert_(std::move(cert)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

const web::HttpLimits& Connection::limits() const {
  return impl_->options.limits;
}

void Connection::Close() {
  if (impl_) impl_->Close(/*graceful=*/true);
}

namespace {

Result<tcp::resolver::results_type> Resolve(asio::io_context& io,
                                            const web::Url& url) {
  beast::error_code ec;
  tcp::resolver resolver(io);
  auto flags = tcp::resolver::numeric_service;
  if (url.kind != web::Url::HostKind::kName)
    flags |= tcp::resolver::numeric_host;
  // Name lookups block in getaddrinfo, bounded by the resolver's own
  // timeouts (resolv.conf); literal addresses never touch the network.
  auto results =
      resolver.resolve(url.host, std::to_string(url.port), flags, ec);
  if (ec) {
    return UnavailableError("cannot resolve " + url.host + ": " + ec.message());
  }
  return results;
}

Status SetUpTls(asio::ssl::context& tls, const ConnectOptions& options,
                Connection::Impl* impl) {
  SSL_CTX* ctx = tls.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return InternalError("cannot restrict TLS to version 1.3");
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // The callback replaces chain building: no CA is trusted, the pin is.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, &Connection::Impl::VerifyCallback,
                                   impl);
  if (options.client_key != nullptr) {
    if (SSL_CTX_use_certificate(ctx, options.client_certificate->raw()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, options.client_key->raw()) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      return InvalidArgumentError(
          "owner certificate does not match the owner key");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Connection> Connection::Open(const web::Url& url,
                                    const ConnectOptions& options) {
  if ((options.client_key == nullptr) !=
      (options.client_certificate == nullptr)) {
    return InvalidArgumentError(
        "a client key needs its certificate and the other way round");
  }
  try {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->authority = url.Authority();
    impl->what = "device at " + url.ToString();
    impl->pin = options.pinned_fingerprint;
    WARDEN_TRY(SetUpTls(impl->tls, options, impl.get()));
    WARDEN_ASSIGN_OR_RETURN(auto endpoints, Resolve(impl->io, url));

    impl->stream.emplace(impl->io, impl->tls);
    impl->buffer = beast::flat_buffer(options.limits.header_bytes + kReadSlack);
    Stream& stream = *impl->stream;
    if (url.kind == web::Url::HostKind::kName) {
      SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
    }
    // One deadline for the TCP connection and the handshake together.
    const auto deadline = Clock::now() + options.connect_timeout;
    beast::get_lowest_layer(stream).expires_at(deadline);
    beast::error_code ec = impl->Run([&](auto handler) {
      beast::get_lowest_layer(stream).async_connect(endpoints,
                                                    std::move(handler));
    });
    if (ec == beast::error::timeout) {
      impl->Close(false);
      return DeadlineExceededError("cannot connect to " + impl->what +
                                   " within " +
                                   Seconds(options.connect_timeout));
    }
    if (ec) {
      impl->Close(false);
      return UnavailableError("cannot connect to " + impl->what + ": " +
                              ec.message());
    }
    beast::get_lowest_layer(stream).socket().set_option(tcp::no_delay(true),
                                                        ec);
    beast::get_lowest_layer(stream).expires_at(deadline);
    ec = impl->Run([&](auto handler) {
      stream.async_handshake(asio::ssl::stream_base::client,
                             std::move(handler));
    });
    if (impl->mismatched_fingerprint.has_value()) {
      std::string got = *impl->mismatched_fingerprint;
      impl->Close(false);
      return UnauthenticatedError("device certificate changed: " + impl->what +
                                  " presented " + got + ", expected " +
                                  *impl->pin);
    }
    if (ec) {
      return impl->Failure(ec, "TLS 1.3 handshake", options.connect_timeout);
    }
    impl->open = true;
    beast::get_lowest_layer(stream).expires_never();

    X509* peer = SSL_get1_peer_certificate(stream.native_handle());
    if (peer == nullptr) {
      impl->Close(false);
      return UnauthenticatedError(impl->what + " presented no certificate");
    }
    Result<Bytes> der = CertificateDer(peer);
    X509_free(peer);
    if (!der.ok()) {
      impl->Close(false);
      return der.status();
    }
    std::string fingerprint = HexEncode(crypto::Sha256(*der));
    Result<crypto::Certificate> cert = crypto::Certificate::FromDer(*der);
    if (!cert.ok()) {
      impl->Close(false);
      return UnauthenticatedError(
          impl->what +
          " presented an unreadable certificate: " + cert.status().message());
    }
    return Connection(std::move(impl), std::move(fingerprint),
                      std::move(cert).value());
  } catch (const std::exception& e) {
    return InternalError(std::string("cannot set up TLS: ") + e.what());
  }
}

Result<web::Response> Connection::Request(
    http::verb method, std::string_view target,
    const std::optional<schema::Json>& body, const Headers& headers) {
  if (!impl_ || !impl_->open) {
    return UnavailableError("connection to the device is closed");
  }
  if (method == http::verb::unknown || target.empty() ||
      target.front() != '/' || !ValidHeaderText(target) ||
      target.find(' ') != std::string_view::npos) {
    return InvalidArgumentError("invalid request line");
  }
  Impl& impl = *impl_;
  try {
    web::Request req(method, target, 11);
    req.set(http::field::host, impl.authority);
    req.set(http::field::user_agent, "warden");
    req.set(http::field::accept, "application/json");
    for (const auto& [name, value] : headers) {
      std::string lower = ToLower(name);
      if (name.empty() || !ValidHeaderText(name) || !ValidHeaderText(value) ||
          name.find_first_of(": \t") != std::string::npos || lower == "host" ||
          lower == "content-length" || lower == "content-type" ||
          lower == "transfer-encoding") {
        return InvalidArgumentError("invalid request header '" +
                                    Printable(name, 64) + "'");
      }
      req.insert(name, value);
    }
    if (body.has_value()) {
      try {
        req.body() = body->dump();
      } catch (const std::exception& e) {
        return InvalidArgumentError(std::string("cannot encode request: ") +
                                    e.what());
      }
      req.set(http::field::content_type, "application/json");
    }
    req.prepare_payload();

    Stream& stream = *impl.stream;
    // One deadline for sending the request and reading the whole reply, so
    // a device trickling bytes cannot hold the owner longer than that.
    beast::get_lowest_layer(stream).expires_after(impl.options.io_timeout);
    beast::error_code ec = impl.Run([&](auto handler) {
      http::async_write(stream, req, std::move(handler));
    });
    // The request may carry a password: wipe our copy once sent.
    crypto::Wipe(req.body());
    if (ec) {
      return impl.Failure(ec, "sending request", impl.options.io_timeout);
    }

    const web::HttpLimits& limits = impl.options.limits;
    ReplyParser parser;
    LimitReplyParser(parser, limits);
    if (method == http::verb::head) parser.skip(true);
    ec = impl.Run([&](auto handler) {
      http::async_read(stream, impl.buffer, parser, std::move(handler));
    });
    if (ec) {
      return impl.Failure(ec, "reading response", impl.options.io_timeout,
                          parser.got_some());
    }
    beast::get_lowest_layer(stream).expires_never();
    web::Response response = parser.release();
    if (Status fields = CheckReplyHeader(response, limits); !fields.ok()) {
      impl.Close(false);
      return fields.WithContext(impl.what);
    }
    if (!response.keep_alive()) impl.Close(/*graceful=*/true);
    return response;
  } catch (const std::exception& e) {
    impl.Close(false);
    return UnavailableError(impl.what + ": " + e.what());
  }
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
  if (SSL_export_keying_material(impl_->stream->native_handle(), out.data(),
                                 out.size(), label.data(), label.size(),
                                 nullptr, 0, 0) != 1) {
    ERR_clear_error();
    return InternalError("TLS exporter failed");
  }
  return out;
}

}  // namespace warden::client
