// The owner API of one device (docs/PROTOCOLS.md): a route registry
// (api/router.h) and the handler groups that register their routes on it,
// one per subsystem:
//   InfoRoutes     security.txt, /v1/info                  (info_routes.h)
//   PairingRoutes  pairing and consent to one more owner   (pairing_routes.h)
//   OwnerRoutes    login, passwords, owners, reset         (owner_routes.h)
//   StateRoutes    the app's capabilities and state        (state_routes.h)
//   UpdateRoutes   update status, check, install, defer,   (update_routes.h)
//                  upload of a copy, reinstall
// Transport-free: the TLS server hands it parsed requests with facts about
// the connection (api/peer.h), so tests and the fuzzer drive it without
// sockets. CPU-heavy work (Argon2id) runs on a worker pool, off the loop.
#ifndef WARDEN_API_DEVICE_SERVICE_H_
#define WARDEN_API_DEVICE_SERVICE_H_

// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "api/http.h"
#include "api/peer.h"
#include "api/service_context.h"
#include "base/clock.h"
#include "base/rng.h"
#include "events/bus.h"
#include "store/state_store.h"
#include "worker/worker_pool.h"

namespace warden::app {
class AppHost;
class AppData;
}  // namespace warden::app
namespace warden::data {
class DataStore;
class EventLog;
}  // namespace warden::data

namespace warden::api {

class DeviceService {
 public:
  // `app` may be null (no app configured): state endpoints answer 503.
  // Events go to `events`. CPU-heavy work runs on `pool`; without one the
  // service makes its own with options.workers. Everything given by
  // reference or pointer must outlive the service.
  DeviceService(DeviceFacts facts, store::StateStore& store, app::AppHost* app,
                Clock& clock, Rng& rng, ServiceOptions options,
                events::Bus& events, worker::WorkerPool* pool = nullptr);
  ~DeviceService();
  DeviceService(const DeviceService&) = delete;
  DeviceService& operator=(const DeviceService&) = delete;

  // The updater's runner, before Init; none: the update routes answer 503.
  // `runner` must outlive the service.
  void SetUpdater(class UpdateRunner* runner);
  // The personal-data store and what signs its deletion receipts (the
  // device's identity key and certificate), before Init; none: the data
  // routes answer 503. All three must outlive the service.
  void SetDataStore(data::DataStore* data, const crypto::PrivateKey* key,
                    const crypto::Certificate* certificate);
  // wardend's event log, which the owner reads and exports, before Init;
  // none: GET /v1/data/events answers 503. It must outlive the service.
  void SetEventLog(data::EventLog* log);
  // The app's way to its personal data (api/app_data.h), for
  // AppHost::SetData: it uses the store SetDataStore gave, and lives as
  // long as the service.
  app::AppData* AppData();

  // Registers every route and restores login sessions saved by an earlier
  // run.
  Status Init();

  // Answers one request. Never throws; every failure is an error reply.
  boost::asio::awaitable<Response> Handle(Request request, Peer& peer);

  // True when the connection's TLS client certificate belongs to a
  // registered owner, or the last session that authenticated a request on
  // it is still live (a browser that logged in). The server asks after the
  // handshake and after each reply, and never evicts such a connection to
  // make room for another. Uses and refreshes the owner cached in `peer`; a
  // store error counts as not recognised.
  bool RecogniseOwner(Peer& peer);

  const HttpLimits& limits() const { return options_.limits; }

  // The routes, "METHOD PATH ACCESS" each.
  std::vector<std::string> Routes() const;

  // Where security.txt says it lives.
  void set_canonical_url(std::string url);

 private:
  struct Groups;
  // Declared in this order so that the groups go before the pool they use.
  ServiceOptions options_;
  std::unique_ptr<worker::WorkerPool> own_pool_;
  std::unique_ptr<Groups> groups_;
};

}  // namespace warden::api

#endif  // WARDEN_API_DEVICE_SERVICE_H_
