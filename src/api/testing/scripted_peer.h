// Test-only (target warden_api_testing): a TLS 1.3 server on 127.0.0.1 that
// behaves as no device should, for testing what the owner's client does
// when a device is silent, floods it or hangs up. Requests are read with
// Beast and the server's limits; what comes back follows a script. It runs
// on its own thread and serves connections until destroyed.
#ifndef WARDEN_API_TESTING_SCRIPTED_PEER_H_
#define WARDEN_API_TESTING_SCRIPTED_PEER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace warden::api::testing {

struct PeerScript {
  enum class Behaviour {
    // Listens, but never accepts: the TCP connection opens, no TLS answer.
    kNoTls,
    // Completes the handshake, reads requests, never answers.
    kSilent,
    // Reads one request, sends `reply` as it is, then closes.
    kReply,
    // Reads one request, sends `reply` (a header announcing a chunked body),
    // then chunks of body until the client goes away.
    kEndless,
  };
  Behaviour behaviour = Behaviour::kSilent;
  std::string reply;
  // Speaks TLS 1.2 only, as no Warden device does.
  bool tls12_only = false;
};

class ScriptedPeer {
 public:
  // Listens on an ephemeral port with a fresh self-signed P-256 certificate.
  static Result<std::unique_ptr<ScriptedPeer>> Start(PeerScript script);
  ~ScriptedPeer();  // stops serving and joins the thread
  ScriptedPeer(const ScriptedPeer&) = delete;
  ScriptedPeer& operator=(const ScriptedPeer&) = delete;

  uint16_t port() const;
  std::string url() const;  // "https://127.0.0.1:PORT"
  // Hex SHA-256 of the certificate's DER: pin this to get past the
  // handshake and reach the script.
  const std::string& fingerprint() const;
  // Body bytes sent by kEndless so far, over every connection.
  uint64_t body_bytes_sent() const;
  // Requests read so far, over every connection.
  int requests() const;

  struct Impl;

 private:
  explicit ScriptedPeer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::api::testing

#endif  // WARDEN_API_TESTING_SCRIPTED_PEER_H_
