// Timers for Asio coroutines that wait on a Clock's monotonic time, so that
// a test moving a FakeClock fires them, and the real clock fires them on
// the system's steady clock.
//
//   platform::Timer timer(executor, clock);
//   bool expired = co_await timer.SleepFor(std::chrono::seconds(15));
//
// One wait at a time per Timer. Not thread-safe: use a Timer on its
// executor's thread, and move a FakeClock on that thread too.
#ifndef WARDEN_PLATFORM_TIMER_H_
#define WARDEN_PLATFORM_TIMER_H_

#include <chrono>
#include <utility>  // Boost 1.74's awaitable.hpp needs it first

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/clock.h"

namespace warden::platform {

class Timer : private Clock::Observer {
 public:
  // `clock` must outlive the timer.
  Timer(const boost::asio::any_io_executor& executor, Clock& clock);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Completes with true once clock.Monotonic() reaches `deadline` (at
  // once when it has), or with false when Cancel() is called meanwhile.
  boost::asio::awaitable<bool> WaitUntil(MonoTime deadline);
  boost::asio::awaitable<bool> SleepFor(std::chrono::nanoseconds duration);

  // Ends a pending wait, which completes with false. Does nothing when no
  // wait is pending.
  void Cancel();

 private:
  void ClockMoved() override;

  Clock& clock_;
  boost::asio::steady_timer timer_;
  // True when the clock tells of its moves; then timer_ only wakes the
  // waiter and the deadline is checked against the clock.
  const bool observed_;
  bool waiting_ = false;
  bool cancelled_ = false;
};

}  // namespace warden::platform

#endif  // WARDEN_PLATFORM_TIMER_H_
