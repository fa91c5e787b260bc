// Independent probes of one device run side by side: each port's service
// identification and each port's login attempts wait on the device (a
// silent service's banner wait, a server's delay after a failed login),
// not on the CPU, so an assessment takes about as long as its slowest port
// instead of the sum of them.
#ifndef WARDEN_ASSESS_PARALLEL_H_
#define WARDEN_ASSESS_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace warden::assess {

// At most this many probes of one device at once.
inline constexpr size_t kMaxParallelProbes = 16;

// Returns {fn(0), ..., fn(n - 1)}, in order, computed on up to
// kMaxParallelProbes threads. `fn` must be safe to call concurrently (each
// probe has its own io_context and shares nothing). If no thread can be
// started, the calls run on this one.
template <typename T, typename Fn>
std::vector<T> ParallelMap(size_t n, const Fn& fn) {
  std::vector<T> out(n);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) out[i] = fn(i);
  };
  std::vector<std::thread> threads;
  const size_t wanted = std::min(n, kMaxParallelProbes);
  for (size_t t = 0; t < wanted; ++t) {
    try {
      threads.emplace_back(work);
    } catch (const std::system_error&) {
      break;
    }
  }
  work();  // this thread takes its share, and all of it if none started
  for (std::thread& t : threads) t.join();
  return out;
}

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_PARALLEL_H_
