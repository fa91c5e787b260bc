#include "api/testing/scripted_peer.h"

// clang-format off
// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange unincluded.
#include <utility>
#include <boost/asio/awaitable.hpp>
// clang-format on
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <thread>

#include <openssl/ssl.h>

#include "api/server.h"
#include "crypto/keys.h"
#include "crypto/x509.h"

namespace warden::api::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;

struct ScriptedPeer::Impl {
  PeerScript script;
  std::optional<crypto::PrivateKey> key;
  std::optional<crypto::Certificate> cert;
  std::unique_ptr<asio::ssl::context> tls;
  // Destroyed before `tls` and after `acceptor`: destroying the io_context
  // destroys the coroutines of open connections, whose streams use `tls`.
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  uint16_t port = 0;
  std::string fingerprint;
  std::atomic<uint64_t> body_bytes{0};
  std::atomic<int> requests{0};

  ~Impl() {
    if (thread.joinable()) {
      asio::post(io, [this] {
        beast::error_code ec;
        acceptor.close(ec);
        io.stop();
      });
      thread.join();
    }
  }

  asio::awaitable<void> Accept() {
    while (true) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(
          asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(io, Serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    beast::error_code ec;
    Stream stream(beast::tcp_stream(std::move(socket)), *tls);
    co_await stream.async_handshake(
        asio::ssl::stream_base::server,
        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    beast::flat_buffer buffer;
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024);
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++requests;
      if (script.behaviour == PeerScript::Behaviour::kSilent) continue;
      co_await asio::async_write(stream, asio::buffer(script.reply),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (script.behaviour == PeerScript::Behaviour::kEndless) {
        const std::string chunk =
            "4000\r\n" + std::string(0x4000, 'a') + "\r\n";
        while (!ec) {
          co_await asio::async_write(
              stream, asio::buffer(chunk),
              asio::redirect_error(asio::use_awaitable, ec));
          if (!ec) body_bytes += 0x4000;
        }
      }
      // Hangs up without close_notify, as a crashing device would.
      beast::get_lowest_layer(stream).close();
      co_return;
    }
  }
};

Result<std::unique_ptr<ScriptedPeer>> ScriptedPeer::Start(PeerScript script) {
  auto impl = std::make_unique<Impl>();
  impl->script = std::move(script);
  WARDEN_ASSIGN_OR_RETURN(
      impl->key, crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256));
  auto now = std::chrono::system_clock::now();
  crypto::CertificateRequest req{
      .common_name = "SN-SCRIPTED",
      .organization = "Not A Maker",
      .serial_number = "SN-SCRIPTED",
      .subject_key = impl->key->public_key(),
      .not_before = now - std::chrono::hours(1),
      .not_after = now + std::chrono::hours(24),
      .is_ca = false,
      .dns_names = {},
      .ip_addresses = {"127.0.0.1"},
      .server_auth = true,
      .client_auth = false,
  };
  WARDEN_ASSIGN_OR_RETURN(impl->cert,
                          crypto::IssueCertificate(req, *impl->key, nullptr));
  impl->fingerprint = impl->cert->Fingerprint();
  WARDEN_ASSIGN_OR_RETURN(
      impl->tls, MakeServerTlsContext(*impl->key, *impl->cert, *impl->cert));
  if (impl->script.tls12_only) {
    SSL_CTX* ctx = impl->tls->native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  }
  beast::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(16, ec);
  if (ec) return IoError("scripted peer: " + ec.message());
  impl->port = impl->acceptor.local_endpoint().port();
  Impl* raw = impl.get();
  if (raw->script.behaviour != PeerScript::Behaviour::kNoTls) {
    asio::co_spawn(raw->io, raw->Accept(), asio::detached);
  }
  raw->thread = std::thread([raw] {
    auto guard = asio::make_work_guard(raw->io);
    raw->io.run();
  });
  return std::unique_ptr<ScriptedPeer>(new ScriptedPeer(std::move(impl)));
}

ScriptedPeer::ScriptedPeer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
ScriptedPeer::~ScriptedPeer() = default;

uint16_t ScriptedPeer::port() const { return impl_->port; }
std::string ScriptedPeer::url() const {
  return "https://127.0.0.1:" + std::to_string(impl_->port);
}
const std::string& ScriptedPeer::fingerprint() const {
  return impl_->fingerprint;
}
uint64_t ScriptedPeer::body_bytes_sent() const {
  return impl_->body_bytes.load();
}
int ScriptedPeer::requests() const { return impl_->requests.load(); }

}  // namespace warden::api::testing
