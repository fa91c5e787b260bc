// The owner API of one device: routing, authentication, pairing, login
// throttling and the checks every request body passes before anything acts
// on it (docs/PROTOCOLS.md). Transport-free: the TLS server hands it parsed
// requests with facts about the connection, so tests and the fuzzer drive
// it without sockets.
#ifndef WARDEN_API_DEVICE_SERVICE_H_
#define WARDEN_API_DEVICE_SERVICE_H_

// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>

#include "api/http.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/throttle.h"
#include "base/clock.h"
#include "base/rng.h"
#include "events/bus.h"
#include "pairing/pairing_session.h"
#include "provision/device.h"
#include "store/state_store.h"

namespace warden::app {
class AppHost;
}

namespace warden::api {

// What the service knows about the connection a request came on.
struct Peer {
  std::string address;  // remote IP, the key for per-client throttling
  // Hex SHA-256 of the SPKI of the TLS client certificate, if one was shown.
  std::optional<std::string> client_key_fingerprint;
  // The connection's TLS exporter value for pairing (kExporterLabel).
  std::function<Result<Bytes>()> exporter;
  // The pairing exchange in progress on this connection.
  std::optional<pairing::ServerSession> pairing;
  // The owner the client certificate was found to belong to, valid while
  // the service's owner generation is `owner_generation`.
  std::optional<store::Owner> owner;
  uint64_t owner_generation = 0;
};

struct DeviceFacts {
  provision::DeviceInfo info;
  pairing::VerifierParams verifier;
  std::string certificate_fingerprint;  // hex SHA-256 of the device cert DER
  std::string canonical_url;            // where security.txt is served
};

struct ServiceOptions {
  HttpLimits limits;
  auth::Throttle::Policy login_policy;
  auth::PairingGuard::Policy pairing_policy;
  auth::HashParams password_hash;
  std::chrono::seconds session_lifetime{12 * 3600};
};

class DeviceService {
 public:
  // `app` may be null (no app configured): state endpoints answer 503.
  // Security and operational events go to `events`, which must outlive the
  // service.
  DeviceService(DeviceFacts facts, store::StateStore& store, app::AppHost* app,
                Clock& clock, Rng& rng, ServiceOptions options,
                events::Bus& events);

  // Restores login sessions saved by an earlier run.
  Status Init();

  // Answers one request. Never throws; every failure is an error reply.
  boost::asio::awaitable<Response> Handle(Request request, Peer& peer);

  // True when the connection's TLS client certificate belongs to a
  // registered owner. The server asks after the handshake and after each
  // reply, and never evicts such a connection to make room for another.
  // Uses and refreshes the owner cached in `peer`; a store error counts as
  // not recognised.
  bool RecogniseOwner(Peer& peer);

  const HttpLimits& limits() const { return options_.limits; }

  // Where security.txt says it lives; known once the socket is bound.
  void set_canonical_url(std::string url) {
    facts_.canonical_url = std::move(url);
  }

 private:
  Response Fail(const ApiError& error, const Request& request);
  // The password of a {"password": string} body.
  Result<std::string> PasswordBody(const Request& request, ApiError* error);
  // A 503 reply when the app is not running, else nullopt.
  std::optional<Response> AppUnavailable(const Request& request);
  Result<store::Owner> Authenticate(const Request& request, Peer& peer);
  Result<schema::Json> ParseBody(const Request& request, ApiError* error,
                                 bool allow_empty);

  Response SecurityTxt(const Request& request);
  Response Info(const Request& request);
  Response PairBegin(const Request& request, Peer& peer);
  Response PairExchange(const Request& request, Peer& peer);
  Response PairConfirm(const Request& request, Peer& peer);
  Response Login(const Request& request, const Peer& peer);
  Response Logout(const Request& request);
  Response SetPassword(const Request& request);
  Response Capabilities(const Request& request);
  Response State(const Request& request);
  Response StateKey(const Request& request, std::string_view key);
  boost::asio::awaitable<Response> PutState(const Request& request,
                                            std::string key);
  Response Reset(const Request& request);
  Response OpenPairing(const Request& request);
  // True while an owner's consent lets one more owner pair.
  bool ConsentOpen() const;

  // Counts a failed pairing attempt and drops the connection's exchange.
  void PairingFailed(Peer& peer, std::string_view why);
  void SaveSessions();
  auth::PasswordContext PasswordContext() const;

  DeviceFacts facts_;
  store::StateStore& store_;
  app::AppHost* app_;
  Clock& clock_;
  Rng& rng_;
  ServiceOptions options_;
  events::Bus& events_;
  auth::Throttle login_throttle_;
  auth::PairingGuard pairing_guard_;
  auth::SessionTable sessions_;
  std::optional<MonoTime> consent_until_;
  // Moves whenever the set of owners changes, so connections re-check the
  // owner they cached.
  uint64_t owners_generation_ = 1;
};

}  // namespace warden::api

#endif  // WARDEN_API_DEVICE_SERVICE_H_
