// Time, reached through an interface so tests can move it.
#ifndef WARDEN_BASE_CLOCK_H_
#define WARDEN_BASE_CLOCK_H_

#include <algorithm>
#include <chrono>
#include <vector>

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

  // Told when a clock that tests move by hand has moved, so that a timer
  // waiting on it can look again (platform/timer.h).
  class Observer {
   public:
    virtual void ClockMoved() = 0;

   protected:
    ~Observer() = default;
  };
  // Registers `observer` until RemoveObserver. Returns false for a clock
  // that moves by itself (the real one), whose monotonic time is
  // std::chrono::steady_clock's: a timer then waits on the system.
  virtual bool AddObserver(Observer* /*observer*/) { return false; }
  virtual void RemoveObserver(Observer* /*observer*/) {}
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
  // Moves both clocks forward and tells the observers. Call it on the
  // thread that runs the timers waiting on this clock (or while none run).
  void Advance(std::chrono::nanoseconds d) {
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
    mono_ += d;
    // An observer may go away while being told.
    std::vector<Observer*> told = observers_;
    for (Observer* o : told) {
      if (std::find(observers_.begin(), observers_.end(), o) !=
          observers_.end()) {
        o->ClockMoved();
      }
    }
  }
  bool AddObserver(Observer* observer) override {
    observers_.push_back(observer);
    return true;
  }
  void RemoveObserver(Observer* observer) override {
    observers_.erase(
        std::remove(observers_.begin(), observers_.end(), observer),
        observers_.end());
  }
  // Moves the wall clock only, as an NTP step would.
  void SetWall(WallTime t) { wall_ = t; }

 private:
  WallTime wall_;
  MonoTime mono_{std::chrono::hours(1)};
  std::vector<Observer*> observers_;
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
