#include "pairing/attempts.h"

#include <algorithm>

#include "events/catalog.h"

namespace warden::pairing {

struct PairingAttempts::State {
  State(Clock& clock, Policy policy, events::Bus& events)
      : clock(clock),
        guard(clock, policy.guard),
        lifetime(std::max(policy.lifetime, std::chrono::seconds(1))),
        events(events) {}

  // Counts one attempt; reports the lock if this count set it.
  void Count() {
    const bool was_locked = guard.locked();
    guard.RecordFailure();
    if (!was_locked && guard.locked()) {
      events.Publish(events::Event(events::kPairingLocked)
                         .Int("failures", guard.failures()));
    }
  }

  Clock& clock;
  auth::PairingGuard guard;
  std::chrono::seconds lifetime;
  events::Bus& events;
};

PairingAttempts::PairingAttempts(Clock& clock, Policy policy,
                                 events::Bus& events)
    : state_(std::make_shared<State>(clock, policy, events)) {}

PairingAttempts::~PairingAttempts() = default;

auth::Decision PairingAttempts::Check() const { return state_->guard.Check(); }

bool PairingAttempts::locked() const { return state_->guard.locked(); }

int PairingAttempts::failures() const { return state_->guard.failures(); }

Result<Attempt> PairingAttempts::Begin(const VerifierParams& params,
                                       ByteView exporter, Rng& rng,
                                       std::string peer) {
  if (!Check().allowed) {
    return ResourceExhaustedError(
        locked() ? "pairing is locked after too many failed attempts"
                 : "too many pairing attempts; retry later");
  }
  WARDEN_ASSIGN_OR_RETURN(ServerSession session,
                          ServerSession::Create(params, exporter, rng));
  return Attempt(state_, std::move(session), std::move(peer),
                 state_->clock.Monotonic() + state_->lifetime);
}

Attempt::Attempt(std::weak_ptr<PairingAttempts::State> ledger,
                 ServerSession session, std::string peer, MonoTime deadline)
    : ledger_(std::move(ledger)),
      session_(std::make_unique<ServerSession>(std::move(session))),
      peer_(std::move(peer)),
      deadline_(deadline) {}

Attempt::Attempt(Attempt&& other) noexcept
    : ledger_(std::move(other.ledger_)),
      session_(std::move(other.session_)),
      peer_(std::move(other.peer_)),
      deadline_(other.deadline_),
      counted_(other.counted_),
      over_(other.over_) {
  other.counted_ = false;
  other.over_ = true;
}

Attempt& Attempt::operator=(Attempt&& other) noexcept {
  if (this != &other) {
    if (counted_) Fail("abandoned");
    ledger_ = std::move(other.ledger_);
    session_ = std::move(other.session_);
    peer_ = std::move(other.peer_);
    deadline_ = other.deadline_;
    counted_ = other.counted_;
    over_ = other.over_;
    other.counted_ = false;
    other.over_ = true;
  }
  return *this;
}

Attempt::~Attempt() {
  if (counted_) Fail("abandoned");
}

void Attempt::Fail(std::string_view reason) {
  over_ = true;
  if (!counted_) return;
  counted_ = false;
  auto ledger = ledger_.lock();
  if (!ledger) return;
  ledger->events.Publish(events::Event(events::kPairingFailed)
                             .Personal("peer", peer_)
                             .Text("reason", std::string(reason))
                             .Int("failures", ledger->guard.failures()));
}

bool Attempt::TimedOut() {
  auto ledger = ledger_.lock();
  if (ledger && ledger->clock.Monotonic() < deadline_) return false;
  Fail("timed out");
  return true;
}

schema::Json Attempt::BeginResponse() const {
  return session_ ? session_->BeginResponse() : schema::Json::object();
}

bool Attempt::pending() const { return counted_ && !over_; }

bool Attempt::over() const { return over_; }

Result<schema::Json> Attempt::Exchange(ByteView share_p) {
  if (over_ || !session_ || session_->exchanged()) {
    return FailedPreconditionError("pairing: exchange already done");
  }
  if (TimedOut()) {
    return DeadlineExceededError("pairing: the attempt timed out");
  }
  auto ledger = ledger_.lock();
  if (!ledger->guard.Check().allowed) {
    over_ = true;
    return ResourceExhaustedError(
        ledger->guard.locked() ? "pairing is locked after too many failed "
                                 "attempts"
                               : "too many pairing attempts; retry later");
  }
  // Counted before the answer exists: from here the guess can be tested.
  ledger->Count();
  counted_ = true;
  auto reply = session_->Exchange(share_p);
  if (!reply.ok()) {
    Fail("invalid share");
    return reply.status();
  }
  return reply;
}

Result<PairedOwner> Attempt::Confirm(ConfirmRequest request) {
  if (!pending() || !session_) {
    return FailedPreconditionError("pairing: no exchange to confirm");
  }
  if (TimedOut()) {
    return DeadlineExceededError("pairing: the attempt timed out");
  }
  auto owner = session_->Confirm(std::move(request));
  if (!owner.ok()) {
    Fail(owner.status().message());
    return owner.status();
  }
  over_ = true;
  counted_ = false;
  if (auto ledger = ledger_.lock()) ledger->guard.Refund();
  return owner;
}

}  // namespace warden::pairing
