// Brute-force throttling for owner logins and for pairing.
//
// Throttle slows password guessing per client (e.g. per peer address) with
// delays that double after a few free attempts, and for everyone at once
// when failures from all clients exceed a rate, so an attacker with many
// addresses gains little. Delays are capped: the rightful owner who waits
// out retry_after can always log in, so there is no permanent lockout to
// abuse for denial of service.
//
// PairingGuard protects the setup code printed on the label, which has far
// less entropy than a password: three attempts go at once, the fourth
// waits, and after 20 failures pairing is locked for an hour. What counts
// as a failure is decided by pairing/attempts.h: every exchange counts the
// moment it is made, and a proven code gives its count back (Refund). Its state
// lives in memory on purpose: power-cycling the unit (or restarting wardend)
// clears it, which is how an owner who lost the race with an attacker recovers,
// and it costs an attacker a reboot he cannot trigger remotely. An attacker
// therefore gets at most 20 guesses per hour.
//
// Time comes from Clock::Monotonic(), so wall-clock steps change nothing.
// Neither class is thread-safe; the daemon calls them from its event loop.
#ifndef WARDEN_AUTH_THROTTLE_H_
#define WARDEN_AUTH_THROTTLE_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"

namespace warden::auth {

// Whether an attempt may go ahead now; if not, how long to wait (at least
// one second, rounded up; the value for a Retry-After header).
struct Decision {
  bool allowed;
  std::chrono::seconds retry_after;
};

class Throttle {
 public:
  using Decision = ::warden::auth::Decision;

  struct Policy {
    // Failures a client may make before any delay.
    int free_attempts = 5;
    // Delay after failure free_attempts + 1; doubles with each further one.
    std::chrono::seconds base_delay{1};
    // No client delay is ever longer than this.
    std::chrono::seconds max_delay{900};
    // More failures than this, from all clients together, within the
    // trailing 60 seconds make every client wait.
    int global_failures_per_minute = 30;
    // Clients remembered at once; the one whose last failure is oldest is
    // forgotten first.
    size_t max_tracked_clients = 4096;
  };

  // `clock` must outlive the throttle. Out-of-range policy values are
  // raised to their minimum (free_attempts 0, delays 1 s, max_delay >=
  // base_delay, rate and capacity 1).
  explicit Throttle(Clock& clock);
  Throttle(Clock& clock, Policy policy);

  // May `client` try a password now? A client identifies the source of
  // attempts, typically the peer address; keep it short.
  Decision Check(std::string_view client) const;

  // A wrong password from `client`. Call only after Check allowed it.
  void RecordFailure(std::string_view client);

  // A correct password from `client`: forgets its failures. The global
  // window keeps counting the failures already made.
  void RecordSuccess(std::string_view client);

  // Failures `client` has made since its last success (0 for a client not
  // tracked, or forgotten).
  int failures(std::string_view client) const;

  // Number of clients with a failure history (at most max_tracked_clients).
  size_t tracked_clients() const { return clients_.size(); }

  const Policy& policy() const { return policy_; }

 private:
  struct Entry {
    std::string client;
    int failures = 0;
    MonoTime last_failure;
  };
  using List = std::list<Entry>;  // oldest last_failure first

  Clock& clock_;
  Policy policy_;
  List order_;
  std::unordered_map<std::string_view, List::iterator> clients_;
  // Times of the most recent failures, oldest first; at most
  // global_failures_per_minute + 1 are needed to decide.
  std::deque<MonoTime> recent_;
};

class PairingGuard {
 public:
  using Decision = ::warden::auth::Decision;

  struct Policy {
    // Failures that lock pairing.
    int max_failures = 20;
    // How long the lock lasts, from the failure that set it. Never less
    // than kMinLockout: a shorter value is raised to it.
    std::chrono::seconds lockout{3600};
    // Growing delays before the lock, as in Throttle: the attempt after
    // the third failure waits base_delay, each later one twice as long, up
    // to max_delay.
    std::chrono::seconds base_delay{1};
    std::chrono::seconds max_delay{60};
    int free_attempts = 2;
  };

  static constexpr std::chrono::seconds kMinLockout{3600};

  // `clock` must outlive the guard. Out-of-range values are raised to
  // their minimum (lockout kMinLockout, max_failures 1, free_attempts 0,
  // delays 1 s, max_delay >= base_delay).
  explicit PairingGuard(Clock& clock);
  PairingGuard(Clock& clock, Policy policy);

  // May a pairing attempt start now?
  Decision Check() const;

  // A failed attempt, or one whose outcome is not known yet (an exchange
  // before its confirm). The max_failures-th one locks pairing for
  // `lockout`. Failures reported while locked are ignored: they cannot
  // extend the lock.
  void RecordFailure();

  // Takes back one failure recorded earlier, for an attempt that turned
  // out to prove the code. Nothing to take back (count 0, or the lock that
  // count belonged to has run out) does nothing; an active lock stays.
  void Refund();

  // True while the lockout runs.
  bool locked() const;

  // Failures counted towards the lock; 0 again once a lockout has passed.
  int failures() const;

  const Policy& policy() const { return policy_; }

 private:
  // True when a lock was set and has run out: the count starts over.
  bool LockExpired() const;
  void ResetIfLockExpired();

  Clock& clock_;
  Policy policy_;
  int failures_ = 0;
  MonoTime last_failure_{};
  std::optional<MonoTime> locked_until_;
};

}  // namespace warden::auth

#endif  // WARDEN_AUTH_THROTTLE_H_
