// One TLS 1.3 connection to a device's owner API, carrying HTTP/1.1
// requests with keep-alive (Boost.Asio and Boost.Beast, with the message
// types and limits the device's server uses, web/http.h).
//
// Devices present a certificate issued by their maker's CA, which an owner
// does not have, so no CA check is made. Trust comes instead from:
//  - pairing: the certificate presented is accepted, and the SPAKE2+
//    exchange is bound to this very TLS session through its exporter value
//    (ExportKeyingMaterial), so a relay cannot pass the pairing on; the
//    certificate's fingerprint is then pinned;
//  - every later connection: the certificate must be exactly the pinned
//    one. The check runs in the handshake's certificate verification, so a
//    different certificate aborts the handshake before the owner's own
//    certificate or any request is sent.
// The owner's key and self-signed certificate are presented as the TLS
// client certificate (mutual TLS), which is how the device knows its owner.
//
// Blocking calls, meant for a command-line tool: each runs the connection's
// private io_context until its operation completes, and every operation has
// a deadline (Beast's stream timeouts), so no call waits longer than its
// timeout whatever the device does. Not thread-safe.
#ifndef WARDEN_CLIENT_CONNECTION_H_
#define WARDEN_CLIENT_CONNECTION_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "schema/json.h"
#include "web/http.h"
#include "web/url.h"

namespace warden::client {

namespace http = web::http;

struct ConnectOptions {
  // Hex SHA-256 of the DER certificate the device must present. Unset only
  // while pairing.
  std::optional<std::string> pinned_fingerprint;
  // Client certificate and its key, both or neither. Borrowed: they must
  // outlive Open (the TLS context takes its own references).
  const crypto::PrivateKey* client_key = nullptr;
  const crypto::Certificate* client_certificate = nullptr;
  // Bounds the TCP connection and the TLS handshake together.
  std::chrono::milliseconds connect_timeout{10000};
  // Bounds one request: sending it and reading the whole reply.
  std::chrono::milliseconds io_timeout{10000};
  // What a reply may be: header bytes and fields, body bytes, and the JSON
  // limits ReplyJson (api_error.h) applies.
  web::HttpLimits limits = web::DeviceReplyLimits();
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class Connection {
 public:
  // Resolves the host, connects and completes a TLS 1.3 handshake (no other
  // version is offered or accepted) within the connect timeout.
  // Errors: kUnavailable when the device cannot be reached or the handshake
  // fails (including a server that does not speak TLS 1.3),
  // kDeadlineExceeded on a timeout, kUnauthenticated "device certificate
  // changed" when a pin is set and the device presents another
  // certificate, kInvalidArgument for a key without its certificate.
  static Result<Connection> Open(const web::Url& url,
                                 const ConnectOptions& options);

  // Sends one request and reads its reply. `body`, when present, is sent as
  // application/json; its serialised copy is wiped once sent (it may carry a
  // password). `target` is an absolute path; `headers` must not contain CR,
  // LF or NUL, nor Host, Content-Length, Content-Type or Transfer-Encoding
  // (kInvalidArgument). A reply is returned whatever its status; only
  // transport failures are errors: kUnavailable (closed, malformed HTTP),
  // kDeadlineExceeded (no whole reply within the io timeout),
  // kResourceExhausted (reply over the limits; the read stops as soon as a
  // limit is passed). After any transport error the connection is closed
  // and every later call fails.
  Result<web::Response> Request(http::verb method, std::string_view target,
                                const std::optional<schema::Json>& body = {},
                                const Headers& headers = {});

  // RFC 8446 section 7.5 exporter with no context value.
  Result<Bytes> ExportKeyingMaterial(std::string_view label, size_t length);

  // Hex SHA-256 of the device certificate's DER.
  const std::string& peer_fingerprint() const { return peer_fingerprint_; }
  // The device certificate.
  const crypto::Certificate& peer_certificate() const { return *peer_cert_; }
  // The reply limits the connection applies.
  const web::HttpLimits& limits() const;

  // Sends close_notify (waiting briefly for the device's) and closes the
  // socket; also done on destruction.
  void Close();

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();
  struct Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl, std::string fingerprint,
                      std::optional<crypto::Certificate> cert);
  std::unique_ptr<Impl> impl_;
  std::string peer_fingerprint_;
  std::optional<crypto::Certificate> peer_cert_;
};

}  // namespace warden::client

#endif  // WARDEN_CLIENT_CONNECTION_H_
