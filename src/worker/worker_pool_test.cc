#include "worker/worker_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace warden::worker {
namespace {

namespace asio = boost::asio;

template <typename T>
asio::awaitable<void> Store(asio::awaitable<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}

// Runs `task` as a coroutine on `io` and stores its result in `out`.
template <typename T>
void Spawn(asio::io_context& io, asio::awaitable<T> task,
           std::optional<T>& out) {
  asio::co_spawn(io, Store(std::move(task), &out),
                 [](std::exception_ptr e) { ASSERT_FALSE(e); });
}

TEST(WorkerPoolTest, RunsTheJobOnAWorkerAndResumesOnTheLoop) {
  WorkerPool pool;
  asio::io_context io;
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id job_thread;
  std::thread::id resumed_on;
  std::optional<Result<int>> out;
  auto task = [&]() -> asio::awaitable<Result<int>> {
    auto job = [&job_thread]() -> Result<int> {
      job_thread = std::this_thread::get_id();
      return 42;
    };
    Result<int> r = co_await pool.Run(std::move(job));
    resumed_on = std::this_thread::get_id();
    co_return r;
  };
  Spawn(io, task(), out);
  io.run();
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->ok());
  EXPECT_EQ(**out, 42);
  EXPECT_NE(job_thread, loop_thread);
  EXPECT_EQ(resumed_on, loop_thread);
  EXPECT_EQ(pool.jobs(), 0u);
}

TEST(WorkerPoolTest, ErrorsComeBackAsTheyWereReturned) {
  WorkerPool pool;
  asio::io_context io;
  std::optional<Status> status;
  std::optional<Result<std::string>> thrown;
  auto fails = [] { return IntegrityError("bad image"); };
  auto throws = []() -> Result<std::string> {
    throw std::runtime_error("third-party library failed");
  };
  Spawn(io, pool.Run(fails), status);
  Spawn(io, pool.Run(throws), thrown);
  io.run();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), Code::kIntegrity);
  EXPECT_EQ(status->message(), "bad image");
  ASSERT_TRUE(thrown.has_value());
  EXPECT_EQ(thrown->status().code(), Code::kInternal);
}

TEST(WorkerPoolTest, AFullPoolRefusesAtOnceInsteadOfQueueing) {
  WorkerPool pool(WorkerPool::Options{.threads = 1, .max_jobs = 2});
  asio::io_context io;
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  auto blocked = [open]() -> Status {
    open.wait();
    return Status::Ok();
  };
  std::optional<Status> first, second, third;
  bool third_ran = false;
  Spawn(io, pool.Run(blocked), first);
  Spawn(io, pool.Run(blocked), second);
  auto third_job = [&third_ran] {
    third_ran = true;
    return Status::Ok();
  };
  Spawn(io, pool.Run(third_job), third);
  // The third job is answered while the first two are still held.
  while (!third.has_value()) io.run_one();
  EXPECT_EQ(third->code(), Code::kResourceExhausted);
  EXPECT_FALSE(third_ran);
  EXPECT_FALSE(first.has_value());
  EXPECT_EQ(pool.jobs(), 2u);

  gate.set_value();
  io.run();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_TRUE(first->ok());
  EXPECT_TRUE(second->ok());
  EXPECT_EQ(pool.jobs(), 0u);

  // Room again once the jobs have finished.
  std::optional<Status> later;
  io.restart();
  auto ok = [] { return Status::Ok(); };
  Spawn(io, pool.Run(ok), later);
  io.run();
  ASSERT_TRUE(later.has_value());
  EXPECT_TRUE(later->ok());
}

// A job that owns memory and returns memory, awaited from a coroutine
// that keeps locals alive across the wait.
TEST(WorkerPoolTest, OwnedValuesSurviveTheTripThroughTheWorker) {
  WorkerPool pool;
  asio::io_context io;
  std::optional<Result<std::string>> out;
  auto task = [&pool]() -> asio::awaitable<Result<std::string>> {
    std::string before(100, 'b');
    auto job = [text = std::string(200, 'x')]() -> Result<std::string> {
      return text + std::string(300, 'y');
    };
    Result<std::string> r = co_await pool.Run(std::move(job));
    if (!r.ok()) co_return r;
    co_return before + *r;
  };
  Spawn(io, task(), out);
  io.run();
  ASSERT_TRUE(out.has_value() && out->ok());
  EXPECT_EQ(**out, std::string(100, 'b') + std::string(200, 'x') +
                       std::string(300, 'y'));
}

TEST(WorkerPoolTest, ManyJobsOnSeveralThreadsAllComplete) {
  WorkerPool pool(WorkerPool::Options{.threads = 2, .max_jobs = 64});
  asio::io_context io;
  std::vector<std::optional<Result<int>>> out(64);
  for (int i = 0; i < 64; ++i) {
    auto square = [i]() -> Result<int> { return i * i; };
    Spawn(io, pool.Run(square), out[i]);
  }
  io.run();
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE(out[i].has_value() && out[i]->ok()) << i;
    EXPECT_EQ(**out[i], i * i);
  }
}

}  // namespace
}  // namespace warden::worker
