#include "auth/throttle.h"

#include <algorithm>

namespace warden::auth {
namespace {

using std::chrono::seconds;

constexpr seconds kWindow{60};

// base * 2^(failures - free - 1), capped at `cap`; zero while failures are
// within the free allowance.
seconds BackoffDelay(int failures, int free_attempts, seconds base,
                     seconds cap) {
  if (failures <= free_attempts) return seconds(0);
  const int doublings = failures - free_attempts - 1;
  seconds delay = base;
  for (int i = 0; i < doublings && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

// Time from `now` until `until`, rounded up to whole seconds (>= 1), for a
// Retry-After value: rounding down would invite a retry that is refused.
seconds CeilSeconds(MonoTime now, MonoTime until) {
  const auto left = until - now;
  auto s = std::chrono::ceil<seconds>(left);
  return std::max(s, seconds(1));
}

seconds AtLeastOneSecond(seconds s) { return std::max(s, seconds(1)); }

}  // namespace

Throttle::Throttle(Clock& clock) : Throttle(clock, Policy()) {}

Throttle::Throttle(Clock& clock, Policy policy)
    : clock_(clock), policy_(policy) {
  policy_.free_attempts = std::max(policy_.free_attempts, 0);
  policy_.base_delay = AtLeastOneSecond(policy_.base_delay);
  policy_.max_delay = std::max(policy_.max_delay, policy_.base_delay);
  policy_.global_failures_per_minute =
      std::max(policy_.global_failures_per_minute, 1);
  policy_.max_tracked_clients =
      std::max<size_t>(policy_.max_tracked_clients, 1);
}

Decision Throttle::Check(std::string_view client) const {
  const MonoTime now = clock_.Monotonic();
  MonoTime until = now;

  if (auto it = clients_.find(client); it != clients_.end()) {
    const Entry& e = *it->second;
    const seconds delay = BackoffDelay(e.failures, policy_.free_attempts,
                                       policy_.base_delay, policy_.max_delay);
    until = std::max(until, e.last_failure + delay);
  }

  // `recent_` holds the newest failures. More than the allowance in the
  // window means the oldest of the newest (allowance + 1) is still in it;
  // the window has room again once that one leaves.
  const size_t allowance =
      static_cast<size_t>(policy_.global_failures_per_minute);
  if (recent_.size() > allowance) {
    const MonoTime oldest = recent_[recent_.size() - allowance - 1];
    if (now - oldest < kWindow) until = std::max(until, oldest + kWindow);
  }

  if (until <= now) return Decision{true, seconds(0)};
  return Decision{false, CeilSeconds(now, until)};
}

void Throttle::RecordFailure(std::string_view client) {
  const MonoTime now = clock_.Monotonic();

  recent_.push_back(now);
  const size_t keep =
      static_cast<size_t>(policy_.global_failures_per_minute) + 1;
  while (recent_.size() > keep) recent_.pop_front();

  if (auto it = clients_.find(client); it != clients_.end()) {
    List::iterator entry = it->second;
    // Saturate well past the point where the delay reaches its cap.
    entry->failures = std::min(entry->failures + 1, 1 << 20);
    entry->last_failure = now;
    // Monotonic time never goes back, so the newest failure goes last.
    order_.splice(order_.end(), order_, entry);
    return;
  }

  if (clients_.size() >= policy_.max_tracked_clients) {
    clients_.erase(order_.front().client);
    order_.pop_front();
  }
  order_.push_back(Entry{std::string(client), 1, now});
  auto last = std::prev(order_.end());
  clients_.emplace(last->client, last);
}

int Throttle::failures(std::string_view client) const {
  auto it = clients_.find(client);
  return it == clients_.end() ? 0 : it->second->failures;
}

void Throttle::RecordSuccess(std::string_view client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  List::iterator entry = it->second;
  clients_.erase(it);
  order_.erase(entry);
}

PairingGuard::PairingGuard(Clock& clock) : PairingGuard(clock, Policy()) {}

PairingGuard::PairingGuard(Clock& clock, Policy policy)
    : clock_(clock), policy_(policy) {
  policy_.max_failures = std::max(policy_.max_failures, 1);
  policy_.lockout = std::max(policy_.lockout, kMinLockout);
  policy_.free_attempts = std::max(policy_.free_attempts, 0);
  policy_.base_delay = AtLeastOneSecond(policy_.base_delay);
  policy_.max_delay = std::max(policy_.max_delay, policy_.base_delay);
}

bool PairingGuard::LockExpired() const {
  return locked_until_.has_value() && clock_.Monotonic() >= *locked_until_;
}

void PairingGuard::ResetIfLockExpired() {
  if (LockExpired()) {
    locked_until_.reset();
    failures_ = 0;
  }
}

bool PairingGuard::locked() const {
  return locked_until_.has_value() && !LockExpired();
}

int PairingGuard::failures() const { return LockExpired() ? 0 : failures_; }

Decision PairingGuard::Check() const {
  const MonoTime now = clock_.Monotonic();
  if (locked_until_.has_value()) {
    if (now < *locked_until_) {
      return Decision{false, CeilSeconds(now, *locked_until_)};
    }
    return Decision{true, seconds(0)};  // the lock ran out: a fresh start
  }
  const seconds delay = BackoffDelay(failures_, policy_.free_attempts,
                                     policy_.base_delay, policy_.max_delay);
  const MonoTime until = last_failure_ + delay;
  if (failures_ == 0 || until <= now) return Decision{true, seconds(0)};
  return Decision{false, CeilSeconds(now, until)};
}

void PairingGuard::RecordFailure() {
  ResetIfLockExpired();
  if (locked_until_.has_value()) return;
  const MonoTime now = clock_.Monotonic();
  ++failures_;
  last_failure_ = now;
  if (failures_ >= policy_.max_failures) locked_until_ = now + policy_.lockout;
}

void PairingGuard::Refund() {
  ResetIfLockExpired();
  if (locked_until_.has_value() || failures_ == 0) return;
  --failures_;
}

}  // namespace warden::auth
