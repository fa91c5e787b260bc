// The owner API of the updater (docs/PROTOCOLS.md, "Updates"), and the
// runner that does the long update work off the event loop.
//
// UpdateRunner owns the order of the work: one operation at a time (check,
// install, resume of an interrupted download, reinstall), each run on the
// updater's own worker pool so that neither the loop nor the logins'
// password checks wait for a download. When an operation ends, the
// service's events are published on the loop, and a trial set up (or a
// rollback needing the old slot) calls the reboot hook.
//
// UpdateRoutes registers:
//   GET  /v1/update            owner   the update status
//   POST /v1/update/check      owner   check now (installs when automatic)
//   POST /v1/update/install    admin   install now, from the repository or
//                                      the uploaded copy
//   POST /v1/update/defer      admin   defer automatic installs
//   POST /v1/update/upload     admin   one piece of a repository copy
//   POST /v1/update/reinstall  admin   in safe mode: restore the last good
//                                      release
// Not thread-safe: the loop only.
#ifndef WARDEN_API_UPDATE_ROUTES_H_
#define WARDEN_API_UPDATE_ROUTES_H_

// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <string>

#include "api/router.h"
#include "api/service_context.h"
#include "events/bus.h"
#include "updater/update_service.h"
#include "worker/worker_pool.h"

namespace warden::api {

class UpdateRunner {
 public:
  enum class Op { kCheck, kInstall, kResumeDownload, kReinstall };

  // `service`, `pool` and `events` must outlive the runner. `reboot` is
  // called on the loop once a reboot is due; `installed` once the booted
  // slot was repaired (the daemon then launches the app).
  UpdateRunner(boost::asio::any_io_executor loop,
               updater::UpdateService& service, worker::WorkerPool& pool,
               events::Bus& events, std::function<void()> reboot,
               std::function<void()> repaired, bool automatic);

  // Starts `op` from `source` in the background. kFailedPrecondition
  // when another operation is under way.
  Status Start(Op op, updater::Source source);
  bool running() const { return running_; }
  bool automatic() const { return automatic_; }
  // Publishes what the service queued (also called after each operation).
  void PublishEvents();

  updater::UpdateService& service() { return service_; }

 private:
  boost::asio::awaitable<void> Run(Op op, updater::Source source);

  boost::asio::any_io_executor loop_;
  updater::UpdateService& service_;
  worker::WorkerPool& pool_;
  events::Bus& events_;
  std::function<void()> reboot_;
  std::function<void()> repaired_;
  bool automatic_;
  bool running_ = false;
};

class UpdateRoutes {
 public:
  // `runner` may be null: every route answers 503 (no updater configured).
  explicit UpdateRoutes(UpdateRunner* runner) : runner_(runner) {}
  Status Register(Router& router);
  void set_runner(UpdateRunner* runner) { runner_ = runner; }

  // The status document (also in /v1/info's "update").
  static schema::Json StatusJson(const updater::UpdateSnapshot& s);

 private:
  Response GetStatus(Call& call);
  Response Check(Call& call);
  Response Install(Call& call);
  Response Defer(Call& call);
  Response Upload(Call& call);
  Response Reinstall(Call& call);
  std::optional<Response> Unavailable(Call& call);

  UpdateRunner* runner_;
};

}  // namespace warden::api

#endif  // WARDEN_API_UPDATE_ROUTES_H_
