// The daemon side of the device application: starts the app as a child
// process with a socket pair, speaks the app socket protocol with it
// (docs/PROTOCOLS.md), keeps its capabilities and last published values, and
// restarts it with exponential backoff whenever it exits or breaks the
// protocol.
//
// The app is less trusted than wardend. Every message it sends is validated
// (see app_protocol.h, plus session checks: hello first and once, known
// keys, values satisfying their schema, results matching an outstanding
// command). An invalid message is answered with {"type":"error"} and changes
// nothing; a broken stream (bad length, not JSON) or an app that does not
// send a valid hello within hello_timeout is killed and restarted.
//
// Runs on one io_context thread; no method may be called from another.
#ifndef WARDEN_APP_APP_HOST_H_
#define WARDEN_APP_APP_HOST_H_

#include <sys/types.h>

// clang-format off
// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange unincluded.
#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
// clang-format on
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/app_protocol.h"
#include "base/clock.h"
#include "base/status.h"
#include "events/bus.h"
#include "schema/json.h"

namespace warden::app {

struct AppOptions {
  // The app's program and arguments; argv[0] is a path.
  std::vector<std::string> argv;
  // Extra "NAME=value" environment entries, e.g. WARDEN_APP_STATE_DIR.
  std::vector<std::string> env;
  // The user the app runs as when wardend runs as root.
  std::optional<std::string> run_as_user;
  std::chrono::milliseconds command_timeout{5000};
  std::chrono::milliseconds hello_timeout{5000};
  std::chrono::milliseconds restart_backoff_min{200};
  std::chrono::milliseconds restart_backoff_max{30000};
  // Between SIGTERM and SIGKILL in Stop().
  std::chrono::milliseconds stop_grace{2000};
  // An app that ran at least this long restarts after restart_backoff_min
  // again rather than after the grown delay.
  std::chrono::milliseconds stable_run{60000};
};

class AppHost {
 public:
  // `io` and `clock` must outlive the AppHost.
  AppHost(boost::asio::io_context& io, AppOptions options, Clock& clock);
  ~AppHost();  // Stop()
  AppHost(const AppHost&) = delete;
  AppHost& operator=(const AppHost&) = delete;

  // Where the host reports what is worth a log line (events/catalog.h:
  // app_started, app_accepted, app_message_refused, app_disconnected,
  // app_exited, app_restarting, app_restart_failed). `bus` must outlive the
  // host; null (the default) reports nothing.
  void SetEventBus(events::Bus* bus);

  // Starts the app. Fails when it cannot be started at all (no argv, a
  // missing program, unknown user): nothing is left running and no restart
  // is scheduled. Once started, exits and protocol failures lead to
  // restarts until Stop(). kFailedPrecondition when already started.
  Status Start();

  // Sends SIGTERM, waits up to stop_grace, then SIGKILL; returns once the
  // child is reaped. No restart afterwards. Outstanding commands resolve
  // with kUnavailable. Blocks the calling thread for at most stop_grace.
  void Stop();

  // A valid hello was accepted and that app process is still connected.
  bool ready() const;

  // The capabilities of the last accepted hello (kept while the app
  // restarts, so the owner still sees what the device offers).
  const std::vector<Capability>& capabilities() const;
  const Capability* Find(std::string_view key) const;

  // {key: last published value}; only values that satisfied their schema.
  schema::Json Values() const;
  std::optional<schema::Json> Value(std::string_view key) const;

  // Sends a command for a writable capability and waits for the answer.
  //   kNotFound: unknown key; kFailedPrecondition: read-only key, or the
  //   app refused (with its reason); kInvalidArgument: the value fails the
  //   schema (message "POINTER: MESSAGE (RULE)"), checked before anything
  //   reaches the app; kUnavailable: the app is not running or went away;
  //   kDeadlineExceeded: no answer within command_timeout;
  //   kResourceExhausted: too many commands outstanding.
  // The AppHost may be destroyed while a command waits: it then resolves
  // with kUnavailable.
  boost::asio::awaitable<Status> Command(std::string key, schema::Json value);

  // How many times the app was restarted since Start().
  int restarts() const;
  // The running app's process id.
  std::optional<pid_t> pid() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace warden::app

#endif  // WARDEN_APP_APP_HOST_H_
