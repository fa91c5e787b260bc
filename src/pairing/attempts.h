// Pairing attempts, counted where the guess is tested.
//
// The setup code has about 27 bits: online guessing must be bounded, so
// every guess has to be counted. A guess is tested the moment the device
// answers an exchange, because that answer carries confirm_v, against
// which a client checks its guess on its own; a guesser need never send
// confirm. So here an exchange that releases confirm_v counts at once as a
// failed attempt, and the delays and the lock of auth::PairingGuard are
// applied before it runs. A confirm that proves the code gives that count
// back. Everything else leaves it counted: a wrong confirmation, an invalid
// point, and an attempt abandoned by closing the connection, by beginning
// again, or by letting it time out.
//
// PairingAttempts is the device-wide ledger (one per device, in memory: see
// auth/throttle.h for why a restart clears it). Attempt is one pairing
// exchange on one TLS connection; the connection owns it, and destroying it
// ends the attempt. Events: pairing_failed (with the failure count) when an
// attempt ends without proving the code, pairing_locked when a count sets
// the lock.
//
// Not thread-safe; the daemon calls both from its event loop.
#ifndef WARDEN_PAIRING_ATTEMPTS_H_
#define WARDEN_PAIRING_ATTEMPTS_H_

#include <chrono>
#include <memory>
#include <string>

#include "auth/throttle.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/rng.h"
#include "base/status.h"
#include "events/bus.h"
#include "pairing/pairing_session.h"
#include "schema/json.h"

namespace warden::pairing {

class Attempt;

class PairingAttempts {
 public:
  struct Policy {
    auth::PairingGuard::Policy guard;
    // An attempt not confirmed within this time from its begin has timed
    // out (it stays counted); at least 1 s.
    std::chrono::seconds lifetime{60};
  };

  // `clock` and `events` must outlive the ledger. Attempts may outlive it:
  // they then report nothing.
  PairingAttempts(Clock& clock, Policy policy, events::Bus& events);
  ~PairingAttempts();
  PairingAttempts(const PairingAttempts&) = delete;
  PairingAttempts& operator=(const PairingAttempts&) = delete;

  // May an attempt go ahead now? The delays and the lock (auth::
  // PairingGuard::Check); begin and exchange both ask, exchange decides.
  auth::Decision Check() const;

  // Starts an attempt for the connection whose TLS exporter value is
  // `exporter`; `peer` (an address, personal data) goes into its events.
  // Starting is free: nothing is counted until the exchange. Errors:
  // kResourceExhausted when Check() refuses; kInvalidArgument for a bad
  // exporter length.
  Result<Attempt> Begin(const VerifierParams& params, ByteView exporter,
                        Rng& rng, std::string peer);

  bool locked() const;
  // Failures counted towards the lock, including attempts still open.
  int failures() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

class Attempt {
 public:
  Attempt(Attempt&& other) noexcept;
  // The attempt being replaced ends as abandoned.
  Attempt& operator=(Attempt&& other) noexcept;
  // An attempt that exchanged and did not prove the code ends as abandoned.
  ~Attempt();

  // The reply to /v1/pair/begin.
  schema::Json BeginResponse() const;

  // Runs the verifier's answer to X and counts the attempt. Errors, after
  // which the attempt is over: kResourceExhausted when the delays or the
  // lock refuse (not counted; the ledger's Check() says how long);
  // kDeadlineExceeded when the attempt timed out; kInvalidArgument for an
  // invalid point (counted); kFailedPrecondition when this attempt has
  // exchanged already.
  Result<schema::Json> Exchange(ByteView share_p);

  // Checks confirmP and the key proof. On success gives back the count the
  // exchange took. Errors, after which the attempt is over:
  // kUnauthenticated when either proof fails (stays counted);
  // kDeadlineExceeded when the attempt timed out; kFailedPrecondition
  // without a pending exchange.
  Result<PairedOwner> Confirm(ConfirmRequest request);

  // True once exchanged, until the attempt is over.
  bool pending() const;
  // True when the exchange may no longer be confirmed: it has been
  // confirmed, refused or has timed out.
  bool over() const;

 private:
  friend class PairingAttempts;
  Attempt(std::weak_ptr<PairingAttempts::State> ledger, ServerSession session,
          std::string peer, MonoTime deadline);
  // Ends a counted attempt that did not prove the code.
  void Fail(std::string_view reason);
  bool TimedOut();

  std::weak_ptr<PairingAttempts::State> ledger_;
  std::unique_ptr<ServerSession> session_;
  std::string peer_;
  MonoTime deadline_;
  bool counted_ = false;  // counted towards the lock and not given back
  bool over_ = false;
};

}  // namespace warden::pairing

#endif  // WARDEN_PAIRING_ATTEMPTS_H_
