// The assessor's network side: a TCP connect scan, service identification
// by banner and handshake, TLS probing and HTTP fetches, against one target
// address the user named.
//
// Every probe is bounded in time (a deadline on each connect, handshake and
// read) and in bytes (what is kept of a reply is limited before it is
// stored), so a hostile or broken device cannot hang or exhaust the
// assessor. Nothing here trusts the target's certificate: the assessor
// reports it and never relies on it. Each call runs its own private
// io_context on the calling thread.
#ifndef WARDEN_ASSESS_PROBE_H_
#define WARDEN_ASSESS_PROBE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "assess/service_id.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/status.h"

namespace warden::assess {

using Millis = std::chrono::milliseconds;

struct ScanOptions {
  uint16_t first_port = 1;
  uint16_t last_port = 65535;
  size_t concurrency = 512;      // connects in flight at once
  Millis connect_timeout{1500};  // a port that does not answer is filtered
  Millis budget{60000};          // the whole scan
};

struct ScanResult {
  std::vector<uint16_t> open;  // ascending
  size_t probed = 0;           // ports tried before the budget ran out
  size_t filtered = 0;         // connects that timed out
  size_t errors = 0;           // connects that failed locally (no fd, ...)
  std::string first_error;
  bool complete = false;  // every port was tried and none failed locally
};

// Connects to every port in [first_port, last_port] of `address`, at most
// `concurrency` at a time, and closes each connection at once. kInvalidArgument
// for an empty range or zero concurrency; a scan that runs out of budget
// returns what it found with complete == false.
Result<ScanResult> ScanPorts(const boost::asio::ip::address& address,
                             const ScanOptions& options);

struct ProbeOptions {
  Millis banner_wait{800};  // how long a service may stay silent on connect
  Millis io_timeout{3000};  // each connect, handshake, write and read
  size_t max_reply_bytes = 96 * 1024;
  std::string host;  // the Host header and TLS server name, when a name
};

// One thing sent and what came back, for the evidence.
struct Exchange {
  std::string probe;  // "banner", "TLS ClientHello", "HTTP GET /", ...
  std::string sent;   // printable
  Bytes received;     // at most max_reply_bytes
  std::string outcome;
};

struct PortFacts {
  uint16_t port = 0;
  Service service = Service::kUnknown;
  std::vector<Exchange> exchanges;
};

// Names the service on an open port: the greeting it sends unasked, else a
// TLS handshake (then HTTP inside it), else a plain HTTP request, else an
// MQTT CONNECT. Each step on a fresh connection, each bounded by `options`.
PortFacts IdentifyPort(const boost::asio::ip::address& address, uint16_t port,
                       const ProbeOptions& options);

struct Fetch {
  std::string request;  // as sent
  Bytes raw;            // as received, at most max_reply_bytes
  std::string error;    // empty when the exchange completed
};

// GET `path` over plain TCP or TLS (any version, the certificate not
// checked), "Connection: close", reading until the server closes, the
// deadline passes or max_reply_bytes arrive. `extra_headers` (header lines,
// each ending in CRLF) go before the blank line.
Fetch HttpGet(const boost::asio::ip::address& address, uint16_t port, bool tls,
              const std::string& path, const ProbeOptions& options,
              const std::string& extra_headers = "");

// As HttpGet, with any `method` and a `body` (sent with its
// Content-Length). `Fetch::request` holds the body too: a caller sending a
// secret in it must not put the request in evidence.
Fetch HttpRequest(const boost::asio::ip::address& address, uint16_t port,
                  bool tls, const std::string& method, const std::string& path,
                  const ProbeOptions& options, const std::string& extra_headers,
                  const std::string& body);

// Sends `data` on a fresh plain TCP connection and reads the reply, at most
// `max` bytes, until the peer closes or the deadline passes.
Exchange SendRaw(const boost::asio::ip::address& address, uint16_t port,
                 std::string name, const Bytes& data, size_t max,
                 const ProbeOptions& options);

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };
std::string_view TlsVersionName(TlsVersion v);  // "TLS 1.0" ...

struct HandshakeOutcome {
  bool completed = false;
  // The server answered the ClientHello (completed, alerted or closed). A
  // connect failure or a timeout is no answer: it says nothing about what
  // the server accepts.
  bool answered = false;
  std::string detail;  // the negotiated cipher, or why it failed
};

struct CertificateFacts {
  bool present = false;
  Bytes der;
  std::string subject;
  std::string issuer;
  std::string key_type;  // "RSA", "EC", "ED25519", ...
  int key_bits = 0;
  std::optional<WallTime> not_before;
  std::optional<WallTime> not_after;
  bool self_signed = false;  // issued by itself and signed by its own key
  int chain_length = 0;      // certificates the server sent
  bool issuer_sent = false;  // the server sent the certificate that issued it
};

struct TlsFacts {
  std::vector<std::pair<TlsVersion, HandshakeOutcome>> versions;
  // Only finite-field Diffie-Hellman offered: TLS 1.3 with the ffdhe groups
  // alone, and TLS 1.2 with DHE key exchange alone.
  HandshakeOutcome ffdhe_tls13;
  HandshakeOutcome dhe_tls12;
  CertificateFacts certificate;
  bool compression_offerable = false;  // this OpenSSL can offer compression
  bool compression_negotiated = false;
  std::vector<std::string> sent;  // one line per handshake tried
};

// Tries each protocol version alone (the old ones at security level 0, so
// that a device accepting them is seen to), then the finite-field-only key
// exchanges, and reads the certificate from the first handshake that
// completes.
TlsFacts ProbeTls(const boost::asio::ip::address& address, uint16_t port,
                  const ProbeOptions& options);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_PROBE_H_
