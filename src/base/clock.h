// Time, reached through an interface so tests can move it.
#ifndef WARDEN_BASE_CLOCK_H_
#define WARDEN_BASE_CLOCK_H_

#include <chrono>

namespace warden {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Calendar time: for expiry dates, certificates, security.txt.
  virtual WallTime Now() const = 0;
  // Monotonic time: for throttles, timeouts and lockouts; never jumps.
  virtual MonoTime Monotonic() const = 0;
};

// The real clock. Lives for the whole program.
Clock& SystemClock();

// A clock that moves only when told; starts at the given wall time.
class FakeClock : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::hours(24 * 365 *
                                                                  56)))
      : wall_(start) {}
  WallTime Now() const override { return wall_; }
  MonoTime Monotonic() const override { return mono_; }
  void Advance(std::chrono::nanoseconds d) {
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
    mono_ += d;
  }
  // Moves the wall clock only, as an NTP step would.
  void SetWall(WallTime t) { wall_ = t; }

 private:
  WallTime wall_;
  MonoTime mono_{std::chrono::hours(1)};
};

// Seconds since the Unix epoch.
inline int64_t UnixSeconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
      .count();
}
inline WallTime FromUnixSeconds(int64_t s) {
  return WallTime(std::chrono::seconds(s));
}

}  // namespace warden

#endif  // WARDEN_BASE_CLOCK_H_
