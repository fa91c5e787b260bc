// Runs one probe coroutine to completion on an io_context of its own, so
// that each probe is bounded by its own timers and shares no state with
// the others (ports are probed from several threads at once).
#ifndef WARDEN_ASSESS_RUN_COROUTINE_H_
#define WARDEN_ASSESS_RUN_COROUTINE_H_

#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace warden::assess {

// What `work` returns, or `failure` when it throws (asio and Beast report
// some errors as exceptions; they end here, not in the caller).
template <typename T>
T RunCoroutine(boost::asio::awaitable<T> work, T failure) {
  std::optional<T> out;
  try {
    boost::asio::io_context io;
    boost::asio::co_spawn(io, std::move(work),
                          [&](std::exception_ptr e, T value) {
                            if (!e) out = std::move(value);
                          });
    io.run();
  } catch (const std::exception&) {
    return failure;
  }
  return out.has_value() ? std::move(*out) : failure;
}

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_RUN_COROUTINE_H_
