// The device's one listening socket: TLS 1.3 only (nothing older is
// negotiated, there is no plaintext port), key exchange only with X25519 and
// P-256, HTTP/1.1 with keep-alive, hard limits on every size and time a peer
// controls. Parsed requests go to the DeviceService.
//
// Connection slots are shared so that strangers cannot lock the owner out:
// each source (an IPv4 address, or an IPv6 /64) holds at most
// max_connections_per_address at once, all sources together at most
// max_connections. When a limit is reached, one connection that has not
// shown it belongs to an owner is closed to admit the new one: one from a
// source no owner's connection came from in the last 24 hours before one
// from such a source (so strangers elsewhere cannot close an owner's next
// connection while it is still in its handshake); then a silent one
// (nothing received, not even waiting unread in the socket) first, then one
// that has sent only part of a ClientHello, the oldest of either first;
// otherwise the one whose last progress (ClientHello, handshake done, a
// request begun or answered) is oldest. A connection is an owner's once its
// client certificate belongs to a registered owner or a request on it was
// authenticated by a live login session; an owner's connection is never the
// one closed. Only when every candidate belongs to an owner is the new
// connection refused. So a flood of silent sockets from any number of
// addresses only ever evicts itself, and a stranger must spend handshakes to
// compete with an owner's connection still in its own.
#ifndef WARDEN_API_SERVER_H_
#define WARDEN_API_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "api/device_service.h"
#include "crypto/keys.h"
#include "crypto/x509.h"

namespace warden::api {

struct ServerOptions {
  size_t max_connections = 64;
  size_t max_connections_per_address = 8;
  // From accept to the end of the TLS handshake.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  // From the first byte of a request to its last, for every request on a
  // connection; also bounds writing a reply and the wait for the first
  // request on a new connection.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(15)};
  // Between keep-alive requests: from a reply to the next request's first
  // byte.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
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

// The key a connection's source address is counted under: the address itself
// for IPv4 (and IPv4-mapped IPv6), the /64 prefix for IPv6, because one
// IPv6 host commonly holds a whole /64.
std::string SourceKey(const boost::asio::ip::address& address);

class Server {
 public:
  // `io`, `tls`, `service` and `events` must outlive the server. Refused and
  // evicted connections are published as connection_refused and
  // connection_evicted.
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

  // Connections holding a slot (accepted, not yet closed or evicted).
  size_t active_connections() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace warden::api

#endif  // WARDEN_API_SERVER_H_
