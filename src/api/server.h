// The device's one listening socket: TLS 1.3 only (nothing older is
// negotiated, there is no plaintext port), key exchange only with X25519 and
// P-256, HTTP/1.1 with keep-alive, hard limits on every size and time a peer
// controls. Parsed requests go to the
// DeviceService.
#ifndef WARDEN_API_SERVER_H_
#define WARDEN_API_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>

#include "api/device_service.h"
#include "crypto/keys.h"
#include "crypto/x509.h"

namespace warden::api {

struct ServerOptions {
  size_t max_connections = 64;
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds request_timeout{15};  // to read one whole request
  std::chrono::seconds idle_timeout{60};     // between keep-alive requests
};

// A TLS 1.3-only server context presenting `certificate` (with the maker's
// CA as the chain) and asking for, but not requiring, a client certificate.
// Key exchange is X25519 or P-256 only: a finite-field group costs the one
// event-loop thread hundreds of times more per ClientHello. The server signs
// with ecdsa_secp256r1_sha256 (the identity is ECDSA P-256) and accepts
// client signatures made with ecdsa_secp256r1_sha256 or ed25519, the owner
// key types. Errors: kInvalidArgument when `key` does not match
// `certificate`, kInternal when OpenSSL refuses a setting.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const crypto::PrivateKey& key, const crypto::Certificate& certificate,
    const crypto::Certificate& ca);

class Server {
 public:
  Server(boost::asio::io_context& io, boost::asio::ssl::context& tls,
         DeviceService& service, ServerOptions options, events::Bus& events);
  ~Server();

  // Binds and listens. "Address already in use" and the like are kIo.
  Status Listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Starts accepting on the io_context.
  void Start();
  // Stops accepting and closes every open connection.
  void Stop();

  size_t active_connections() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace warden::api

#endif  // WARDEN_API_SERVER_H_
