// One TLS 1.3 connection to a device's owner API, carrying HTTP/1.1
// requests with keep-alive.
//
// Devices present a certificate issued by their maker's CA, which an owner
// does not have, so no CA check is made. Trust comes instead from:
//  - pairing: the certificate presented is accepted, and the SPAKE2+
//    exchange is bound to this very TLS session through its exporter value
//    (ExportKeyingMaterial), so a relay cannot pass the pairing on; the
//    certificate's fingerprint is then pinned;
//  - every later connection: the certificate must be exactly the pinned
//    one. A different certificate aborts the handshake before the owner's
//    own certificate or any request is sent.
// The owner's key and self-signed certificate are presented as the TLS
// client certificate (mutual TLS), which is how the device knows its owner.
//
// Blocking I/O with timeouts: meant for a command-line tool.
#ifndef WARDEN_CLIENT_CONNECTION_H_
#define WARDEN_CLIENT_CONNECTION_H_

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "client/url.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "schema/json.h"

namespace warden::client {

// Limits on what a device may send back.
inline constexpr size_t kMaxResponseBody = 1024 * 1024;
inline constexpr size_t kMaxResponseHeader = 16 * 1024;

struct ConnectOptions {
  // Hex SHA-256 of the DER certificate the device must present. Unset only
  // while pairing.
  std::optional<std::string> pinned_fingerprint;
  // Client certificate and its key, both or neither.
  const crypto::PrivateKey* client_key = nullptr;
  const crypto::Certificate* client_certificate = nullptr;
  std::chrono::milliseconds connect_timeout{10000};
  // Applies to each read and each write on the socket.
  std::chrono::milliseconds io_timeout{10000};
};

struct HttpResponse {
  int status = 0;
  // Header names lowercased; a repeated header keeps its last value.
  std::map<std::string, std::string> headers;
  std::string body;

  // The header's value, or "" when absent. `name` in lowercase.
  std::string header(const std::string& name) const;
  // The body parsed as JSON within kMaxResponseBody and the usual depth
  // limits; kUnavailable "device sent malformed JSON" otherwise.
  Result<schema::Json> Json() const;
};

class Connection {
 public:
  // Resolves the host, connects within the connect timeout and completes a
  // TLS 1.3 handshake (no other version is offered or accepted).
  // Errors: kUnavailable when the device cannot be reached or the handshake
  // fails (including a server that does not speak TLS 1.3),
  // kDeadlineExceeded on a timeout, kUnauthenticated "device certificate
  // changed" when a pin is set and the device presents another
  // certificate, kInvalidArgument for a key without its certificate.
  static Result<Connection> Open(const Url& url, const ConnectOptions& options);

  // Sends one request and reads its response. `body`, when present, is sent
  // as application/json. `headers` must not contain CR, LF or NUL, nor
  // Host, Content-Length or Content-Type. A response is returned whatever
  // its status; only transport failures are errors: kUnavailable (closed,
  // malformed HTTP), kDeadlineExceeded (timeout), kResourceExhausted
  // (response over the size limits). After any error the connection is
  // closed and every later call fails.
  Result<HttpResponse> Request(
      std::string_view method, std::string_view target,
      const std::optional<schema::Json>& body = std::nullopt,
      const std::vector<std::pair<std::string, std::string>>& headers = {});

  // RFC 8446 section 7.5 exporter with no context value.
  Result<Bytes> ExportKeyingMaterial(std::string_view label, size_t length);

  // Hex SHA-256 of the device certificate's DER.
  const std::string& peer_fingerprint() const { return peer_fingerprint_; }
  // The device certificate.
  const crypto::Certificate& peer_certificate() const { return *peer_cert_; }

  // Sends close_notify and closes the socket (also done on destruction).
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
