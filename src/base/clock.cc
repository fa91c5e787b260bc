#include "base/clock.h"

namespace warden {
namespace {

class RealClock : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace

Clock& SystemClock() {
  static RealClock* clock = new RealClock();
  return *clock;
}

}  // namespace warden
