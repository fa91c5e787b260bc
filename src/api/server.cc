#include "api/server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <list>

#include "events/catalog.h"
#include "pairing/pairing_protocol.h"

namespace warden::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;

// IANA names. Only these groups, because a finite-field group (ffdhe8192:
// about 190 ms for one ClientHello) or a larger curve would let a stranger
// buy our one thread's time with a few small packets.
constexpr const char* kGroups = "x25519:secp256r1";
// What we sign with: the identity key is ECDSA P-256.
constexpr const char* kServerSignatureSchemes = "ecdsa_secp256r1_sha256";
// What an owner's client certificate may be signed with: the owner key
// types.
constexpr const char* kClientSignatureSchemes =
    "ecdsa_secp256r1_sha256:ed25519";

// We decide who an owner is by the key in the certificate, not by a CA, so
// any certificate the client shows is accepted here and checked later.
int AcceptAnyClientCertificate(int, X509_STORE_CTX*) { return 1; }

std::optional<std::string> ClientKeyFingerprint(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return std::nullopt;
  int len = i2d_X509(cert, nullptr);
  if (len <= 0 || len > 16 * 1024) return std::nullopt;
  Bytes der(static_cast<size_t>(len));
  uint8_t* p = der.data();
  i2d_X509(cert, &p);
  auto parsed = crypto::Certificate::FromDer(der);
  if (!parsed.ok()) return std::nullopt;
  return parsed->public_key().Fingerprint();
}

std::string PeerAddress(const tcp::socket& socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  return ec ? std::string("unknown") : endpoint.address().to_string();
}

ApiError LimitError(http::status s, std::string message, std::string rule) {
  ApiError e;
  e.status = s;
  e.code = s == http::status::bad_request ? Code::kInvalidArgument
                                          : Code::kResourceExhausted;
  e.message = std::move(message);
  e.rule = std::move(rule);
  return e;
}

}  // namespace

Result<std::unique_ptr<asio::ssl::context>> MakeServerTlsContext(
    const crypto::PrivateKey& key, const crypto::Certificate& certificate,
    const crypto::Certificate& ca) {
  auto ctx =
      std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* raw = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(raw, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(raw, TLS1_3_VERSION) != 1) {
    return InternalError("TLS: cannot restrict to TLS 1.3");
  }
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set1_groups_list(raw, kGroups) != 1 ||
      SSL_CTX_set1_sigalgs_list(raw, kServerSignatureSchemes) != 1 ||
      SSL_CTX_set1_client_sigalgs_list(raw, kClientSignatureSchemes) != 1) {
    return InternalError(
        "TLS: cannot restrict key exchange groups and signature schemes");
  }
  if (SSL_CTX_use_certificate(raw, certificate.raw()) != 1 ||
      SSL_CTX_use_PrivateKey(raw, key.raw()) != 1 ||
      SSL_CTX_check_private_key(raw) != 1) {
    return InvalidArgumentError(
        "TLS: the identity key does not match the certificate");
  }
  X509* chain = X509_dup(ca.raw());
  if (chain == nullptr || SSL_CTX_add0_chain_cert(raw, chain) != 1) {
    X509_free(chain);
    return InternalError("TLS: cannot add the CA certificate");
  }
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, AcceptAnyClientCertificate);
  SSL_CTX_set_session_id_context(
      raw, reinterpret_cast<const unsigned char*>("wardend"), 7);
  return ctx;
}

struct Server::State : std::enable_shared_from_this<Server::State> {
  State(asio::io_context& io, asio::ssl::context& tls, DeviceService& service,
        ServerOptions options, events::Bus& events)
      : io(io),
        tls(tls),
        service(service),
        options(options),
        bus(events),
        acceptor(io) {}

  asio::io_context& io;
  asio::ssl::context& tls;
  DeviceService& service;
  ServerOptions options;
  events::Bus& bus;
  tcp::acceptor acceptor;
  bool stopped = false;
  size_t active = 0;  // accepted and not yet closed
  std::list<Stream*> connections;

  asio::awaitable<void> Accept() {
    auto self = shared_from_this();
    while (!stopped) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(
          asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) break;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      // Counted here, not in Serve, so a burst of accepts cannot overshoot
      // the limit before the new connections start running.
      if (active >= options.max_connections) {
        bus.Publish(events::Event(events::kConnectionRefused)
                        .Personal("peer", PeerAddress(socket))
                        .Text("reason", "too many connections"));
        socket.close(ec);
        continue;
      }
      ++active;
      asio::co_spawn(io, Serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> WriteAndMaybeClose(Stream& stream, Response& res,
                                           bool keep_alive, bool* closed) {
    res.keep_alive(keep_alive);
    res.set(http::field::server, "wardend");
    res.prepare_payload();
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(options.request_timeout);
    co_await http::async_write(stream, res,
                               asio::redirect_error(asio::use_awaitable, ec));
    *closed = ec || !keep_alive;
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    auto self = shared_from_this();
    beast::error_code ec;
    std::string address = PeerAddress(socket);
    Stream stream(beast::tcp_stream(std::move(socket)), tls);
    connections.push_back(&stream);
    auto it = std::prev(connections.end());

    beast::get_lowest_layer(stream).expires_after(options.handshake_timeout);
    co_await stream.async_handshake(
        asio::ssl::stream_base::server,
        asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      Peer peer;
      peer.address = address;
      SSL* ssl = stream.native_handle();
      peer.client_key_fingerprint = ClientKeyFingerprint(ssl);
      peer.exporter = [ssl]() -> Result<Bytes> {
        Bytes out(pairing::kExporterLength);
        if (SSL_export_keying_material(
                ssl, out.data(), out.size(), pairing::kExporterLabel.data(),
                pairing::kExporterLabel.size(), nullptr, 0, 0) != 1) {
          return InternalError("TLS exporter failed");
        }
        return out;
      };
      co_await ServeRequests(stream, peer);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
      co_await stream.async_shutdown(
          asio::redirect_error(asio::use_awaitable, ec));
    }
    beast::get_lowest_layer(stream).close();
    connections.erase(it);
    --active;
  }

  asio::awaitable<void> ServeRequests(Stream& stream, Peer& peer) {
    const HttpLimits& limits = service.limits();
    beast::flat_buffer buffer(limits.header_bytes + limits.body_bytes);
    bool first = true;
    while (!stopped) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(limits.header_bytes));
      parser.body_limit(limits.body_bytes);
      beast::error_code ec;
      // The idle timer runs until the first byte of a request, then the
      // request timer bounds the rest (a slow sender cannot hold us).
      beast::get_lowest_layer(stream).expires_after(
          first ? options.request_timeout : options.idle_timeout);
      first = false;
      co_await http::async_read_header(
          stream, buffer, parser,
          asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && parser.is_header_done() && !parser.is_done()) {
        beast::get_lowest_layer(stream).expires_after(options.request_timeout);
        co_await http::async_read(
            stream, buffer, parser,
            asio::redirect_error(asio::use_awaitable, ec));
      }
      bool closed = false;
      if (ec) {
        if (ec == http::error::end_of_stream || ec == asio::error::eof ||
            ec == beast::error::timeout ||
            ec == asio::ssl::error::stream_truncated ||
            ec == asio::error::connection_reset ||
            ec == asio::error::operation_aborted) {
          co_return;
        }
        ApiError error;
        if (ec == http::error::header_limit) {
          error = LimitError(http::status::request_header_fields_too_large,
                             "request headers exceed " +
                                 std::to_string(limits.header_bytes) + " bytes",
                             "header_bytes");
        } else if (ec == http::error::body_limit) {
          error = LimitError(http::status::payload_too_large,
                             "request body exceeds " +
                                 std::to_string(limits.body_bytes) + " bytes",
                             "body_bytes");
        } else {
          error = LimitError(http::status::bad_request,
                             "malformed HTTP request: " + ec.message(),
                             "http_syntax");
        }
        bus.Publish(events::Event(events::kBadRequest)
                        .Personal("peer", peer.address)
                        .Text("reason", error.message));
        Response res = ErrorResponse(error, 11);
        co_await WriteAndMaybeClose(stream, res, false, &closed);
        co_return;
      }

      Request request = parser.release();
      const bool keep_alive = request.keep_alive();
      size_t fields = 0;
      for (auto it = request.begin(); it != request.end(); ++it) ++fields;
      std::optional<ApiError> limit;
      if (fields > limits.header_fields) {
        limit = LimitError(http::status::request_header_fields_too_large,
                           "more than " + std::to_string(limits.header_fields) +
                               " header fields",
                           "header_fields");
      } else if (request.target().size() > limits.target_bytes) {
        limit = LimitError(http::status::uri_too_long,
                           "request target longer than " +
                               std::to_string(limits.target_bytes) + " bytes",
                           "target_bytes");
      } else if (request.target().empty() || request.target()[0] != '/') {
        limit = LimitError(http::status::bad_request,
                           "request target must be an absolute path", "target");
      }
      if (limit) {
        bus.Publish(events::Event(events::kBadRequest)
                        .Personal("peer", peer.address)
                        .Text("reason", limit->message));
        Response res = ErrorResponse(*limit, request.version());
        co_await WriteAndMaybeClose(stream, res, false, &closed);
        co_return;
      }
      Response res = co_await service.Handle(std::move(request), peer);
      co_await WriteAndMaybeClose(stream, res, keep_alive, &closed);
      if (closed) co_return;
    }
  }
};

Server::Server(asio::io_context& io, asio::ssl::context& tls,
               DeviceService& service, ServerOptions options,
               events::Bus& events)
    : state_(std::make_shared<State>(io, tls, service, options, events)) {}

Server::~Server() { Stop(); }

Status Server::Listen(const tcp::endpoint& endpoint) {
  beast::error_code ec;
  auto& a = state_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return IoError("listen on " + endpoint.address().to_string() + ":" +
                   std::to_string(endpoint.port()) + ": " + ec.message());
  }
  return Status::Ok();
}

tcp::endpoint Server::local_endpoint() const {
  beast::error_code ec;
  return state_->acceptor.local_endpoint(ec);
}

void Server::Start() {
  asio::co_spawn(state_->io, state_->Accept(), asio::detached);
}

void Server::Stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  beast::error_code ec;
  state_->acceptor.close(ec);
  for (Stream* s : state_->connections) {
    beast::get_lowest_layer(*s).socket().shutdown(tcp::socket::shutdown_both,
                                                  ec);
    beast::get_lowest_layer(*s).cancel();
  }
}

size_t Server::active_connections() const { return state_->connections.size(); }

}  // namespace warden::api
