#include "auth/throttle.h"

#include <gtest/gtest.h>

#include <string>

namespace warden::auth {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Fails `n` times from `client`, waiting out each delay first as a patient
// guesser would.
void FailPatiently(FakeClock& clock, Throttle& t, const std::string& client,
                   int n) {
  for (int i = 0; i < n; ++i) {
    Decision d = t.Check(client);
    if (!d.allowed) clock.Advance(d.retry_after);
    ASSERT_TRUE(t.Check(client).allowed);
    t.RecordFailure(client);
  }
}

TEST(Throttle, FreeAttemptsThenDoublingDelays) {
  FakeClock clock;
  Throttle t(clock);  // 5 free, 1 s base, 900 s cap
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(t.Check("10.0.0.7").allowed) << i;
    t.RecordFailure("10.0.0.7");
  }
  // Failure 6 onwards: 1, 2, 4, 8 ... seconds after the last failure.
  seconds expected{1};
  for (int failure = 6; failure <= 12; ++failure) {
    t.RecordFailure("10.0.0.7");
    Decision d = t.Check("10.0.0.7");
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after, expected) << "after failure " << failure;
    clock.Advance(expected - seconds(1));
    EXPECT_FALSE(t.Check("10.0.0.7").allowed);
    clock.Advance(seconds(1));
    EXPECT_TRUE(t.Check("10.0.0.7").allowed);
    expected *= 2;
  }
}

TEST(Throttle, CountsFailuresPerClientUntilASuccess) {
  FakeClock clock;
  Throttle t(clock);
  EXPECT_EQ(t.failures("a"), 0);
  t.RecordFailure("a");
  t.RecordFailure("a");
  t.RecordFailure("b");
  EXPECT_EQ(t.failures("a"), 2);
  EXPECT_EQ(t.failures("b"), 1);
  t.RecordSuccess("a");
  EXPECT_EQ(t.failures("a"), 0);
  EXPECT_EQ(t.failures("b"), 1);
}

TEST(Throttle, OtherClientsAreNotDelayed) {
  FakeClock clock;
  Throttle t(clock);
  for (int i = 0; i < 8; ++i) t.RecordFailure("attacker");
  EXPECT_FALSE(t.Check("attacker").allowed);
  EXPECT_TRUE(t.Check("owner").allowed);
}

TEST(Throttle, DelayIsCappedSoTheOwnerIsNeverLockedOut) {
  FakeClock clock;
  Throttle::Policy p;
  p.global_failures_per_minute = 1000000;  // look at the client rule only
  Throttle t(clock, p);
  FailPatiently(clock, t, "owner-laptop", 40);
  Decision d = t.Check("owner-laptop");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, seconds(900));
  // Even after hundreds more failures the wait does not grow past the cap.
  for (int i = 0; i < 500; ++i) t.RecordFailure("owner-laptop");
  EXPECT_EQ(t.Check("owner-laptop").retry_after, seconds(900));
  // The owner waits it out, types the right password, and is back to normal.
  clock.Advance(seconds(900));
  ASSERT_TRUE(t.Check("owner-laptop").allowed);
  t.RecordSuccess("owner-laptop");
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(t.Check("owner-laptop").allowed);
    t.RecordFailure("owner-laptop");
  }
}

TEST(Throttle, SuccessClearsTheRecord) {
  FakeClock clock;
  Throttle t(clock);
  FailPatiently(clock, t, "c", 8);
  EXPECT_FALSE(t.Check("c").allowed);
  clock.Advance(t.Check("c").retry_after);
  t.RecordSuccess("c");
  EXPECT_EQ(t.tracked_clients(), 0u);
  // Five free attempts again.
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(t.Check("c").allowed);
    t.RecordFailure("c");
  }
  EXPECT_TRUE(t.Check("c").allowed);
  t.RecordFailure("c");
  EXPECT_FALSE(t.Check("c").allowed);
}

TEST(Throttle, GlobalWindowStopsEveryone) {
  FakeClock clock;
  Throttle t(clock);  // more than 30 failures a minute stops everyone
  // 31 failures from 31 addresses, one every second.
  for (int i = 0; i < 31; ++i) {
    const std::string client = "10.1.0." + std::to_string(i);
    ASSERT_TRUE(t.Check(client).allowed) << i;
    t.RecordFailure(client);
    if (i < 30) clock.Advance(seconds(1));
  }
  // The first of those failures (30 s ago) leaves the window in 30 s.
  Decision d = t.Check("fresh-client");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, seconds(30));
  clock.Advance(seconds(29));
  EXPECT_FALSE(t.Check("fresh-client").allowed);
  EXPECT_EQ(t.Check("fresh-client").retry_after, seconds(1));
  clock.Advance(seconds(1));
  EXPECT_TRUE(t.Check("fresh-client").allowed);
}

TEST(Throttle, ThirtyFailuresAMinuteStillAllowed) {
  FakeClock clock;
  Throttle t(clock);
  for (int i = 0; i < 30; ++i) t.RecordFailure("c" + std::to_string(i));
  EXPECT_TRUE(t.Check("other").allowed);
  t.RecordFailure("c30");
  EXPECT_FALSE(t.Check("other").allowed);
  EXPECT_EQ(t.Check("other").retry_after, seconds(60));
}

TEST(Throttle, MemoryIsBoundedAndOldestIsEvicted) {
  FakeClock clock;
  Throttle::Policy p;
  p.max_tracked_clients = 3;
  p.free_attempts = 0;
  p.base_delay = seconds(100);
  p.global_failures_per_minute = 1000;
  Throttle t(clock, p);
  t.RecordFailure("a");
  clock.Advance(seconds(1));
  t.RecordFailure("b");
  clock.Advance(seconds(1));
  t.RecordFailure("c");
  clock.Advance(seconds(1));
  t.RecordFailure("a");  // "a" is now the newest; "b" the oldest
  EXPECT_EQ(t.tracked_clients(), 3u);
  t.RecordFailure("d");
  EXPECT_EQ(t.tracked_clients(), 3u);
  EXPECT_TRUE(t.Check("b").allowed);   // forgotten
  EXPECT_FALSE(t.Check("a").allowed);  // remembered
  EXPECT_FALSE(t.Check("c").allowed);
  EXPECT_FALSE(t.Check("d").allowed);
  for (int i = 0; i < 10000; ++i) t.RecordFailure("x" + std::to_string(i));
  EXPECT_EQ(t.tracked_clients(), 3u);
}

TEST(Throttle, EvictedClientStillFacesTheGlobalWindow) {
  FakeClock clock;
  Throttle::Policy p;
  p.max_tracked_clients = 2;
  p.global_failures_per_minute = 5;
  Throttle t(clock, p);
  t.RecordFailure("victim");
  for (int i = 0; i < 5; ++i) t.RecordFailure("spray" + std::to_string(i));
  EXPECT_FALSE(t.Check("victim").allowed);
  clock.Advance(seconds(60));
  EXPECT_TRUE(t.Check("victim").allowed);
}

TEST(Throttle, PolicyIsSanitised) {
  FakeClock clock;
  Throttle::Policy p;
  p.free_attempts = -3;
  p.base_delay = seconds(0);
  p.max_delay = seconds(0);
  p.max_tracked_clients = 0;
  p.global_failures_per_minute = 0;
  Throttle t(clock, p);
  EXPECT_EQ(t.policy().base_delay, seconds(1));
  EXPECT_EQ(t.policy().max_delay, seconds(1));
  t.RecordFailure("a");
  EXPECT_EQ(t.tracked_clients(), 1u);
  EXPECT_FALSE(t.Check("a").allowed);
}

TEST(PairingGuard, LocksAfterExactlyTwentyFailures) {
  FakeClock clock;
  PairingGuard g(clock);
  for (int i = 0; i < 19; ++i) {
    Decision d = g.Check();
    if (!d.allowed) clock.Advance(d.retry_after);
    ASSERT_TRUE(g.Check().allowed) << i;
    g.RecordFailure();
  }
  EXPECT_FALSE(g.locked());
  EXPECT_EQ(g.failures(), 19);
  clock.Advance(g.Check().retry_after);
  ASSERT_TRUE(g.Check().allowed);
  g.RecordFailure();
  EXPECT_TRUE(g.locked());
  EXPECT_EQ(g.failures(), 20);

  Decision d = g.Check();
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, seconds(3600));
  clock.Advance(minutes(59));
  EXPECT_TRUE(g.locked());
  EXPECT_FALSE(g.Check().allowed);
  EXPECT_EQ(g.Check().retry_after, seconds(60));
  // Failures reported during the lock do not extend it.
  g.RecordFailure();
  clock.Advance(minutes(1));
  EXPECT_FALSE(g.locked());
  EXPECT_TRUE(g.Check().allowed);
  EXPECT_EQ(g.failures(), 0);
  // The count starts over: three attempts at once again.
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(g.Check().allowed);
    g.RecordFailure();
  }
  EXPECT_EQ(g.failures(), 3);
  EXPECT_FALSE(g.locked());
  EXPECT_FALSE(g.Check().allowed);
}

TEST(PairingGuard, GrowingDelaysBeforeTheLock) {
  FakeClock clock;
  PairingGuard g(clock);  // 3 at once, then 1, 2, 4 ... capped at 60 s
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(g.Check().allowed);
    g.RecordFailure();
  }
  EXPECT_TRUE(g.Check().allowed);
  const int expected[] = {1, 2, 4, 8, 16, 32, 60, 60};
  for (int want : expected) {
    g.RecordFailure();
    // From the fourth attempt on, each one waits.
    Decision d = g.Check();
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after, seconds(want));
    clock.Advance(d.retry_after);
    EXPECT_TRUE(g.Check().allowed);
  }
}

TEST(PairingGuard, ARefundTakesBackOneFailureOnly) {
  FakeClock clock;
  PairingGuard g(clock);
  for (int i = 0; i < 5; ++i) g.RecordFailure();
  EXPECT_FALSE(g.Check().allowed);
  g.Refund();
  EXPECT_EQ(g.failures(), 4);
  // The other failures still delay the next attempt.
  EXPECT_FALSE(g.Check().allowed);
  for (int i = 0; i < 10; ++i) g.Refund();
  EXPECT_EQ(g.failures(), 0);
  EXPECT_TRUE(g.Check().allowed);
}

TEST(PairingGuard, ARefundDoesNotLiftTheLock) {
  FakeClock clock;
  PairingGuard g(clock);
  for (int i = 0; i < 20; ++i) g.RecordFailure();
  ASSERT_TRUE(g.locked());
  g.Refund();
  EXPECT_TRUE(g.locked());
  EXPECT_EQ(g.failures(), 20);
  clock.Advance(hours(1));
  g.Refund();  // the count it belonged to ran out with the lock
  EXPECT_EQ(g.failures(), 0);
}

TEST(PairingGuard, LockoutShorterThanAnHourIsClamped) {
  FakeClock clock;
  PairingGuard::Policy p;
  p.lockout = seconds(5);
  p.max_failures = 2;
  PairingGuard g(clock, p);
  EXPECT_EQ(g.policy().lockout, hours(1));
  g.RecordFailure();
  g.RecordFailure();
  EXPECT_TRUE(g.locked());
  clock.Advance(minutes(59));
  EXPECT_TRUE(g.locked());
  clock.Advance(minutes(1));
  EXPECT_FALSE(g.locked());
}

TEST(PairingGuard, LongerLockoutIsKept) {
  FakeClock clock;
  PairingGuard::Policy p;
  p.lockout = hours(3);
  PairingGuard g(clock, p);
  for (int i = 0; i < 20; ++i) g.RecordFailure();
  clock.Advance(hours(2));
  EXPECT_TRUE(g.locked());
  clock.Advance(hours(1));
  EXPECT_FALSE(g.locked());
}

TEST(PairingGuard, WallClockStepsDoNotShortenTheLock) {
  FakeClock clock;
  PairingGuard g(clock);
  for (int i = 0; i < 20; ++i) g.RecordFailure();
  clock.SetWall(clock.Now() + hours(48));
  EXPECT_TRUE(g.locked());
  EXPECT_FALSE(g.Check().allowed);
}

}  // namespace
}  // namespace warden::auth
