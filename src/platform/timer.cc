#include "platform/timer.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace warden::platform {

Timer::Timer(const boost::asio::any_io_executor& executor, Clock& clock)
    : clock_(clock), timer_(executor), observed_(clock.AddObserver(this)) {}

Timer::~Timer() {
  if (observed_) clock_.RemoveObserver(this);
}

boost::asio::awaitable<bool> Timer::WaitUntil(MonoTime deadline) {
  cancelled_ = false;
  waiting_ = true;
  for (;;) {
    if (cancelled_) break;
    if (clock_.Monotonic() >= deadline) {
      waiting_ = false;
      co_return true;
    }
    if (observed_) {
      timer_.expires_at(std::chrono::steady_clock::time_point::max());
    } else {
      timer_.expires_at(deadline);
    }
    boost::system::error_code ec;
    co_await timer_.async_wait(
        boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  waiting_ = false;
  co_return false;
}

boost::asio::awaitable<bool> Timer::SleepFor(
    std::chrono::nanoseconds duration) {
  return WaitUntil(clock_.Monotonic() + duration);
}

void Timer::Cancel() {
  if (!waiting_) return;
  cancelled_ = true;
  timer_.cancel();
}

void Timer::ClockMoved() {
  // Wakes the waiter, which compares the clock with its deadline.
  if (waiting_) timer_.cancel();
}

}  // namespace warden::platform
