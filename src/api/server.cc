#include "api/server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <tuple>
#include <unordered_map>

#include "events/catalog.h"
#include "pairing/pairing_protocol.h"
#include "platform/file.h"

namespace warden::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;

// How much of a request the wait for its first byte may take in at once.
constexpr size_t kFirstRead = 4096;

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

// How far a connection has got, for choosing which one to close. Set from
// OpenSSL's ClientHello callback (through the SSL's ex_data) and from the
// request loop; the event loop is the only writer and reader.
struct Progress {
  enum Stage {
    kSilent,  // nothing received yet
    kSpoken,  // bytes waiting or read, but no whole ClientHello yet
    kHello,   // a ClientHello has been parsed
  };
  Stage stage = kSilent;
  std::chrono::steady_clock::time_point at;  // accept, or last progress
};

int ProgressIndex() {
  static const int index =
      SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int OnClientHello(SSL* ssl, int*, void*) {
  if (auto* p = static_cast<Progress*>(SSL_get_ex_data(ssl, ProgressIndex()))) {
    p->stage = Progress::kHello;
    p->at = std::chrono::steady_clock::now();
  }
  return SSL_CLIENT_HELLO_SUCCESS;
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

std::string SourceKey(const asio::ip::address& address) {
  if (!address.is_v6()) return address.to_string();
  auto bytes = address.to_v6().to_bytes();
  if (address.to_v6().is_v4_mapped()) {
    return asio::ip::address_v4({bytes[12], bytes[13], bytes[14], bytes[15]})
        .to_string();
  }
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

Result<std::unique_ptr<asio::ssl::context>> MakeServerTlsContext(
    const crypto::PrivateKey& key, const crypto::Certificate& certificate,
    const crypto::Certificate& ca) {
  // In the key's library context: a key in a TPM is usable only from the
  // context its provider was loaded in. There, everything but the key's
  // own signatures comes from the default provider: the TPM's offers of
  // key exchange and hashing would only be slower, and its key exchange
  // does not cover the groups we use.
  SSL_CTX* native =
      SSL_CTX_new_ex(key.libctx(), key.libctx() ? "?provider=default" : nullptr,
                     TLS_server_method());
  if (native == nullptr) return InternalError("TLS: cannot make a context");
  auto ctx = std::make_unique<asio::ssl::context>(native);
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
  if (ProgressIndex() < 0) {
    return InternalError("TLS: cannot allocate connection data");
  }
  SSL_CTX_set_client_hello_cb(raw, OnClientHello, nullptr);
  SSL_CTX_set_session_id_context(
      raw, reinterpret_cast<const unsigned char*>("wardend"), 7);
  return ctx;
}

struct Server::State : std::enable_shared_from_this<Server::State> {
  // One accepted connection, from accept until its coroutine ends.
  struct Connection {
    std::string source;   // SourceKey of the peer: what the share counts
    std::string address;  // the peer's address, for events
    Stream* stream = nullptr;
    // Its client certificate belongs to a registered owner, or a request
    // on it was authenticated by a live session: never evicted.
    bool owner = false;
    // From a source an owner's connection came from lately: closed only
    // after every connection from other sources.
    bool owners_source = false;
    Progress progress;
    // Holds a slot. Cleared when the connection is evicted or stopped, so
    // the slot is free at once, before the coroutine has unwound.
    bool counted = true;
  };
  using Connections = std::list<Connection>;  // oldest first

  State(asio::io_context& io, asio::ssl::context& tls, DeviceService& service,
        ServerOptions options, events::Bus& events)
      : io(io),
        tls(tls),
        service(service),
        options(options),
        bus(events),
        acceptor(io) {
    this->options.max_connections =
        std::max<size_t>(1, options.max_connections);
    this->options.max_connections_per_address = std::clamp<size_t>(
        options.max_connections_per_address, 1, this->options.max_connections);
  }

  asio::io_context& io;
  asio::ssl::context& tls;
  DeviceService& service;
  ServerOptions options;
  events::Bus& bus;
  tcp::acceptor acceptor;
  bool stopped = false;
  size_t active = 0;  // connections with `counted` set
  Connections connections;
  std::unordered_map<std::string, size_t> per_source;  // counted ones

  // Sources an owner's connection came from, and when last. A stranger
  // flooding the table from other addresses cannot then close the owner's
  // next connection while it is still in its handshake (a new connection is
  // a stranger's until its handshake ends). Bounded; the oldest is
  // forgotten first.
  static constexpr size_t kOwnerSources = 32;
  static constexpr auto kOwnerSourceMemory = std::chrono::hours(24);
  std::unordered_map<std::string, std::chrono::steady_clock::time_point>
      owner_sources;

  void SetOwner(Connection& c, bool owner) {
    c.owner = owner;
    if (!owner) return;
    if (owner_sources.size() >= kOwnerSources &&
        !owner_sources.contains(c.source)) {
      auto oldest = std::min_element(
          owner_sources.begin(), owner_sources.end(),
          [](const auto& a, const auto& b) { return a.second < b.second; });
      owner_sources.erase(oldest);
    }
    owner_sources[c.source] = std::chrono::steady_clock::now();
  }

  bool IsOwnersSource(const std::string& source) const {
    auto it = owner_sources.find(source);
    return it != owner_sources.end() &&
           std::chrono::steady_clock::now() - it->second < kOwnerSourceMemory;
  }

  static constexpr std::string_view kSourceFull =
      "too many connections from one address";
  static constexpr std::string_view kTableFull = "too many connections";

  void Release(Connection& c) {
    if (!c.counted) return;
    c.counted = false;
    --active;
    auto it = per_source.find(c.source);
    if (it != per_source.end() && --it->second == 0) per_source.erase(it);
  }

  // Closing the socket ends the connection's pending operation, so its
  // coroutine wakes and unwinds.
  static void Close(Connection& c) {
    beast::error_code ec;
    auto& socket = beast::get_lowest_layer(*c.stream).socket();
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  // A connection still counted as silent whose first bytes have arrived
  // but not been read yet (its coroutine has not run since the accept).
  static bool HasBytesWaiting(Connection& c) {
    beast::error_code ec;
    const size_t n = beast::get_lowest_layer(*c.stream).socket().available(ec);
    return !ec && n > 0;
  }

  // Closes the connection not known to belong to an owner that has made
  // the least progress, among those of `source` (all sources when null):
  // one from a source no owner came from lately before one from such a
  // source; then a silent one first, then one that has sent part of a
  // ClientHello, then the one whose last progress is oldest. False when
  // there is none.
  bool EvictOldestStranger(const std::string* source, std::string_view why) {
    Connection* victim = nullptr;
    for (;;) {
      victim = nullptr;
      for (Connection& c : connections) {
        if (!c.counted || c.owner) continue;
        if (source != nullptr && c.source != *source) continue;
        if (victim == nullptr ||
            std::tie(c.owners_source, c.progress.stage, c.progress.at) <
                std::tie(victim->owners_source, victim->progress.stage,
                         victim->progress.at)) {
          victim = &c;
        }
      }
      // Under load a new client's ClientHello may sit unread in the socket;
      // such a connection has spoken, so look again.
      if (victim == nullptr || victim->progress.stage != Progress::kSilent ||
          !HasBytesWaiting(*victim)) {
        break;
      }
      victim->progress.stage = Progress::kSpoken;
      victim->progress.at = std::chrono::steady_clock::now();
    }
    if (victim == nullptr) return false;
    bus.Publish(events::Event(events::kConnectionEvicted)
                    .Personal("peer", victim->address)
                    .Text("reason", std::string(why)));
    Release(*victim);
    Close(*victim);
    return true;
  }

  // Frees a slot for a new connection from `source` when its share or the
  // table is full. False when the new connection must be refused.
  bool MakeRoom(const std::string& source, const std::string& address) {
    std::string_view refused;
    auto it = per_source.find(source);
    if (it != per_source.end() &&
        it->second >= options.max_connections_per_address &&
        !EvictOldestStranger(&source, kSourceFull)) {
      refused = kSourceFull;
    } else if (active >= options.max_connections &&
               !EvictOldestStranger(nullptr, kTableFull)) {
      refused = kTableFull;
    }
    if (refused.empty()) return true;
    bus.Publish(events::Event(events::kConnectionRefused)
                    .Personal("peer", address)
                    .Text("reason", std::string(refused)));
    return false;
  }

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
      auto remote = socket.remote_endpoint(ec);
      // asio accepts without SOCK_CLOEXEC.
      if (ec || !platform::SetCloseOnExec(socket.native_handle()).ok()) {
        socket.close(ec);  // already gone
        continue;
      }
      // Slots are taken here, not in Serve, so a burst of accepts cannot
      // overshoot the limits before the new connections start running.
      Connection c;
      c.source = SourceKey(remote.address());
      c.address = remote.address().to_string();
      if (!MakeRoom(c.source, c.address)) {
        socket.close(ec);
        continue;
      }
      auto stream =
          std::make_unique<Stream>(beast::tcp_stream(std::move(socket)), tls);
      c.stream = stream.get();
      c.progress.at = std::chrono::steady_clock::now();
      if (HasBytesWaiting(c)) c.progress.stage = Progress::kSpoken;
      c.owners_source = IsOwnersSource(c.source);
      ++active;
      ++per_source[c.source];
      connections.push_back(std::move(c));
      SSL_set_ex_data(stream->native_handle(), ProgressIndex(),
                      &connections.back().progress);
      asio::co_spawn(io, Serve(std::move(stream), std::prev(connections.end())),
                     asio::detached);
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

  asio::awaitable<void> Serve(std::unique_ptr<Stream> owned,
                              Connections::iterator conn) {
    auto self = shared_from_this();
    Stream& stream = *owned;
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(options.handshake_timeout);
    co_await stream.async_handshake(
        asio::ssl::stream_base::server,
        asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && conn->counted) {
      conn->progress.at = std::chrono::steady_clock::now();
      Peer peer;
      peer.address = conn->address;
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
      SetOwner(*conn, service.RecogniseOwner(peer));
      co_await ServeRequests(stream, peer, *conn);
      if (conn->counted) {
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
        co_await stream.async_shutdown(
            asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    beast::get_lowest_layer(stream).close();
    SSL_set_ex_data(stream.native_handle(), ProgressIndex(), nullptr);
    Release(*conn);
    connections.erase(conn);
  }

  asio::awaitable<void> ServeRequests(Stream& stream, Peer& peer,
                                      Connection& conn) {
    const HttpLimits& limits = service.limits();
    auto& tcp_stream = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer(limits.header_bytes + limits.body_bytes);
    bool first = true;
    while (!stopped && conn.counted) {
      beast::error_code ec;
      // Until a request starts, the connection is waiting: a new one must
      // start promptly, a kept-alive one may rest for the idle time. From
      // its first byte, every request has the request timer, so a slow
      // sender cannot hold the connection open with the idle allowance.
      if (buffer.size() == 0) {
        tcp_stream.expires_after(first ? options.request_timeout
                                       : options.idle_timeout);
        const size_t room =
            std::min<size_t>(kFirstRead, buffer.max_size() - buffer.size());
        size_t n = co_await stream.async_read_some(
            buffer.prepare(room),
            asio::redirect_error(asio::use_awaitable, ec));
        buffer.commit(n);
        if (ec || !conn.counted) co_return;
      }
      first = false;
      conn.progress.at = std::chrono::steady_clock::now();
      tcp_stream.expires_after(options.request_timeout);
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(limits.header_bytes));
      parser.body_limit(limits.body_bytes);
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (!conn.counted) co_return;
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
      } else if (request.count(http::field::host) != 1 ||
                 request[http::field::host].empty()) {
        // RFC 9112 section 3.2: none, or more than one, is a bad request.
        limit =
            LimitError(http::status::bad_request,
                       "a request needs exactly one Host header field", "host");
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
      if (!conn.counted) co_return;  // evicted or stopped meanwhile
      co_await WriteAndMaybeClose(stream, res, keep_alive, &closed);
      if (closed) co_return;
      conn.progress.at = std::chrono::steady_clock::now();
      // Pairing or a login session on this connection, a logout or a reset,
      // changes whose it is.
      SetOwner(conn, service.RecogniseOwner(peer));
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
  if (!ec) {
    // asio opens its sockets without SOCK_CLOEXEC.
    Status cloexec = platform::SetCloseOnExec(a.native_handle());
    if (!cloexec.ok()) {
      a.close(ec);
      return cloexec;
    }
    a.set_option(asio::socket_base::reuse_address(true), ec);
  }
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
  for (State::Connection& c : state_->connections) State::Close(c);
}

size_t Server::active_connections() const { return state_->active; }

}  // namespace warden::api
