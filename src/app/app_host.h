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
// The app is also kept apart from everything else on the device:
//   - When wardend is root it runs under a system user of its own
//     (app_user.h), never root or nobody unless allow_shared_user.
//   - Its environment is built here, not inherited: PATH=/usr/bin:/bin,
//     HOME and WARDEN_APP_STATE_DIR set to its state directory,
//     LANG=C.UTF-8, WARDEN_APP_FD, and the extra entries of `env`.
//     wardend's own environment never reaches it.
//   - It must be non-dumpable by the time it says hello, or it is killed
//     (app_refused) and restarted. A dumpable process can be read and
//     ptrace-attached by any process of its user, which then takes its
//     socket with pidfd_getfd and speaks for it (proc(5), ptrace access
//     mode); execve makes every program dumpable again, so only the
//     program can clear it, and the SDK does so first thing. The kernel
//     shows it: a non-dumpable process's /proc/PID files (not the
//     directory) are root's. An app running as root (allowed only with
//     allow_shared_user) cannot be checked this way and is not.
//   - stdin is /dev/null; stdout and stderr are pipes read here, cut into
//     lines (output_lines.h) and published as app_output events, so the
//     app cannot write to wardend's log directly.
//   - The parent-death signal makes it exit if wardend dies (process.h).
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

// Where the app's personal data goes (docs/PROTOCOLS.md, "Personal data"):
// the daemon gives the host one over its data store. The host checks the
// shape of every request and that its kind was declared by the running
// app; what a declaration may say and what a record may hold is the
// implementation's to decide. Called on the io_context thread only.
class AppData {
 public:
  struct Record {
    int64_t id = 0;
    int64_t created_at = 0;  // unix seconds
    std::string value;       // empty in List answers
  };
  virtual ~AppData() = default;
  // Declares all of `kinds` or, when any is refused, none:
  // kInvalidArgument saying which and why; kResourceExhausted when there
  // would be too many kinds.
  virtual Status Declare(const std::vector<DataKind>& kinds) = 0;
  // A new record of a declared kind; its id.
  virtual Result<int64_t> Write(std::string_view kind,
                                std::string_view value) = 0;
  // kNotFound when there is no such record.
  virtual Result<Record> Read(std::string_view kind, int64_t id) = 0;
  // Up to `limit` records above `after`, oldest first, without values.
  virtual Result<std::vector<Record>> List(std::string_view kind, int64_t after,
                                           size_t limit) = 0;
  virtual Status Erase(std::string_view kind, int64_t id) = 0;
  // Deletes all personal data at the request of the device itself (its
  // button) and returns the signed receipt as JSON text.
  virtual Result<std::string> DeleteAll() = 0;
};

struct AppOptions {
  // The app's program and arguments; argv[0] is a path.
  std::vector<std::string> argv;
  // The app's own directory, an absolute path: WARDEN_APP_STATE_DIR and
  // HOME. Empty: no WARDEN_APP_STATE_DIR, and HOME=/.
  std::string state_dir;
  // Extra "NAME=value" environment entries, named by the configuration.
  // They may replace PATH and LANG; HOME and WARDEN_APP_* are wardend's.
  std::vector<std::string> env;
  // The user the app runs as when wardend runs as root; none named means
  // root, which is refused like any shared user (CheckAppUser).
  std::optional<std::string> run_as_user;
  // Lets the app run as root, nobody or a user that already runs
  // processes.
  bool allow_shared_user = false;
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
  // app_started, app_accepted, app_refused, app_message_refused,
  // app_output, app_disconnected, app_exited, app_restarting,
  // app_restart_failed). `bus` must outlive the host; null (the default)
  // reports nothing.
  void SetEventBus(events::Bus* bus);

  // Where the app's data requests go; `data` must outlive the host. None
  // (the default): they are refused, and the kinds a hello declares are
  // not kept. A hello whose declarations `data` refuses is refused.
  void SetData(AppData* data);

  // Starts the app. Fails when it cannot be started at all (no argv, a
  // missing program, an environment entry that is not allowed
  // (kInvalidArgument), an unknown user (kNotFound), a shared user
  // (kFailedPrecondition, see CheckAppUser)): nothing is left running and
  // no restart is scheduled. Once started, exits and protocol failures
  // lead to restarts until Stop(). kFailedPrecondition when already
  // started.
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

  // Tells the running app that all personal data was deleted
  // ({"type":"data_deleted"}), so that it drops what it holds of it and
  // publishes values that no longer come from it. Nothing when no app is
  // connected: an app reads its data afresh when it starts.
  void DataDeleted();

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
