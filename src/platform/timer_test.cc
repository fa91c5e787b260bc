#include "platform/timer.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

namespace warden::platform {
namespace {

namespace asio = boost::asio;

// Starts a wait of `d` and records how it ended.
void StartSleep(asio::io_context& io, Timer& timer, std::chrono::seconds d,
                std::optional<bool>& out) {
  asio::co_spawn(
      io,
      [&timer, &out, d]() -> asio::awaitable<void> {
        out = co_await timer.SleepFor(d);
      },
      asio::detached);
}

TEST(TimerTest, FiresWhenTheFakeClockPassesTheDeadline) {
  asio::io_context io;
  FakeClock clock;
  Timer timer(io.get_executor(), clock);
  std::optional<bool> fired;
  StartSleep(io, timer, std::chrono::seconds(10), fired);
  io.poll();
  EXPECT_FALSE(fired.has_value());
  clock.Advance(std::chrono::seconds(9));
  io.poll();
  EXPECT_FALSE(fired.has_value());
  clock.Advance(std::chrono::seconds(1));
  io.poll();
  ASSERT_TRUE(fired.has_value());
  EXPECT_TRUE(*fired);
}

TEST(TimerTest, ACancelledWaitEndsWithoutFiring) {
  asio::io_context io;
  FakeClock clock;
  Timer timer(io.get_executor(), clock);
  std::optional<bool> fired;
  StartSleep(io, timer, std::chrono::seconds(10), fired);
  io.poll();
  timer.Cancel();
  io.poll();
  ASSERT_TRUE(fired.has_value());
  EXPECT_FALSE(*fired);
  // Moving the clock afterwards changes nothing.
  clock.Advance(std::chrono::seconds(20));
  io.poll();
  EXPECT_FALSE(*fired);
}

TEST(TimerTest, APassedDeadlineFiresAtOnce) {
  asio::io_context io;
  FakeClock clock;
  Timer timer(io.get_executor(), clock);
  std::optional<bool> fired;
  StartSleep(io, timer, std::chrono::seconds(0), fired);
  io.poll();
  ASSERT_TRUE(fired.has_value());
  EXPECT_TRUE(*fired);
}

TEST(TimerTest, OnTheRealClockWaitsOnTheSystem) {
  asio::io_context io;
  Timer timer(io.get_executor(), SystemClock());
  std::optional<bool> fired;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        fired = co_await timer.SleepFor(std::chrono::milliseconds(5));
      },
      asio::detached);
  io.run();
  ASSERT_TRUE(fired.has_value());
  EXPECT_TRUE(*fired);
}

}  // namespace
}  // namespace warden::platform
