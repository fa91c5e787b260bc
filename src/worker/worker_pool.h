// A small pool of threads for CPU-heavy work (Argon2id password hashing
// now; hashing and signature checks of update images next), so the one
// event loop keeps serving while it runs.
//
//   auto job = [password] { return auth::HashPassword(password); };
//   Result<std::string> hash = co_await pool.Run(std::move(job));
//
// Run() hands the function to a worker thread and resumes the awaiting
// coroutine on its own executor (the event loop) with the function's
// result, so everything after the co_await runs on the loop again, as if
// the call had been made there. The pool holds a bounded number of jobs,
// queued or running; a job beyond that is refused at once with
// kResourceExhausted rather than queued without limit, so a flood of
// requests costs a bounded amount of memory and of waiting.
//
// Name the job and pass it with std::move rather than as a temporary: g++
// 12 destroys a prvalue argument of a coroutine twice (GCC PR 100611).
//
// Call Run() from the event loop only. The function runs on another
// thread: it must not touch state the loop owns (capture copies), must not
// publish events, and must not throw (an exception that escapes anyway
// becomes kInternal, std::bad_alloc kResourceExhausted).
#ifndef WARDEN_WORKER_WORKER_POOL_H_
#define WARDEN_WORKER_WORKER_POOL_H_

// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>

#include "base/status.h"

namespace warden::worker {

class WorkerPool {
 public:
  struct Options {
    // Worker threads; 0 is raised to 1.
    size_t threads = 1;
    // Jobs queued or running at once; 0 is raised to 1.
    size_t max_jobs = 16;
  };

  WorkerPool() : WorkerPool(Options()) {}
  explicit WorkerPool(Options options);
  // Waits for the jobs already handed to the workers. Their results are
  // posted to their loops, which may no longer run them.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `fn` (a callable returning Status or Result<T>) on a worker thread
  // and completes, on the awaiting coroutine's executor, with its result.
  // kResourceExhausted without running `fn` when max_jobs jobs are queued
  // or running. `fn` is moved into the pool; it owns what it captures.
  template <typename F>
  boost::asio::awaitable<std::invoke_result_t<F&>> Run(F fn);

  // Jobs queued or running now.
  size_t jobs() const { return jobs_->load(); }
  const Options& options() const { return options_; }

 private:
  template <typename R, typename F>
  static R Invoke(F& fn) {
    try {
      return fn();
    } catch (const std::bad_alloc&) {
      return R(ResourceExhaustedError("worker: out of memory"));
    } catch (...) {
      return R(InternalError("worker: the job threw an exception"));
    }
  }

  Options options_;
  // Shared with the jobs in flight, which may finish after the pool (a
  // coroutine frame that never resumes is destroyed with its loop).
  std::shared_ptr<std::atomic<size_t>> jobs_;
  boost::asio::thread_pool pool_;
};

template <typename F>
boost::asio::awaitable<std::invoke_result_t<F&>> WorkerPool::Run(F fn) {
  using R = std::invoke_result_t<F&>;
  static_assert(std::is_constructible_v<R, Status>,
                "a pool job returns Status or Result<T>");
  namespace asio = boost::asio;
  if (jobs_->load() >= options_.max_jobs) {
    co_return R(ResourceExhaustedError("the device is busy; retry shortly"));
  }
  jobs_->fetch_add(1);
  struct Release {
    std::shared_ptr<std::atomic<size_t>> jobs;
    ~Release() { jobs->fetch_sub(1); }
  } release{jobs_};
  auto& pool = pool_;
  auto initiation = [&pool, fn = std::move(fn)](auto handler) mutable {
    // The loop must not run out of work while the job runs.
    auto loop = asio::prefer(asio::get_associated_executor(handler),
                             asio::execution::outstanding_work.tracked);
    asio::post(pool, [fn = std::move(fn), handler = std::move(handler),
                      loop = std::move(loop)]() mutable {
      R result = Invoke<R>(fn);
      asio::post(loop, [handler = std::move(handler),
                        result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
    });
  };
  // Passed as an xvalue: async_initiate hands it to a coroutine, and g++ 12
  // destroys a prvalue argument of a coroutine twice.
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                          void(R)>(std::move(initiation),
                                                   asio::use_awaitable);
}

}  // namespace warden::worker

#endif  // WARDEN_WORKER_WORKER_POOL_H_
