// What the owner API knows about the connection a request came on. The TLS
// server fills it in once per connection and passes it with every request;
// the service keeps per-connection state in it (the pairing attempt, the
// owner the client certificate belongs to).
#ifndef WARDEN_API_PEER_H_
#define WARDEN_API_PEER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "pairing/attempts.h"
#include "store/state_store.h"

namespace warden::api {

struct Peer {
  std::string address;  // remote IP, the key for per-client throttling
  // Hex SHA-256 of the SPKI of the TLS client certificate, if one was shown.
  std::optional<std::string> client_key_fingerprint;
  // The connection's TLS exporter value for pairing (kExporterLabel).
  std::function<Result<Bytes>()> exporter;
  // The pairing attempt in progress on this connection; closing the
  // connection ends it.
  std::optional<pairing::Attempt> pairing;
  // The owner the client certificate was found to belong to, valid while
  // the service's owner generation is `owner_generation`.
  std::optional<store::Owner> owner;
  uint64_t owner_generation = 0;
  // The login session that last authenticated a request on this connection
  // (a bearer token), so the server can tell an owner's browser from a
  // stranger's; cleared once the session has ended.
  std::string session_token;
};

}  // namespace warden::api

#endif  // WARDEN_API_PEER_H_
