#include "api/device_service.h"

#include "api/app_data.h"
#include "api/data_routes.h"
#include "api/info_routes.h"
#include "api/owner_directory.h"
#include "api/owner_routes.h"
#include "api/pairing_routes.h"
#include "api/router.h"
#include "api/state_routes.h"
#include "api/update_routes.h"
#include "data/data_store.h"

namespace warden::api {

struct DeviceService::Groups {
  Groups(ServiceContext c, events::Bus& events)
      : context(std::move(c)),
        owners(context),
        router(context.options.limits, owners, events),
        info(context),
        pairing(context, owners),
        owner_routes(context, owners),
        state(context),
        update(nullptr),
        data(context) {}

  ServiceContext context;
  OwnerDirectory owners;
  Router router;
  InfoRoutes info;
  PairingRoutes pairing;
  OwnerRoutes owner_routes;
  StateRoutes state;
  UpdateRoutes update;
  DataRoutes data;
  AppDataBridge app_data{context};
};

DeviceService::DeviceService(DeviceFacts facts, store::StateStore& store,
                             app::AppHost* app, Clock& clock, Rng& rng,
                             ServiceOptions options, events::Bus& events,
                             worker::WorkerPool* pool)
    : options_(std::move(options)) {
  if (pool == nullptr) {
    own_pool_ = std::make_unique<worker::WorkerPool>(options_.workers);
    pool = own_pool_.get();
  }
  groups_ = std::make_unique<Groups>(
      ServiceContext{std::move(facts), store, app, clock, rng, events, options_,
                     *pool, std::nullopt},
      events);
}

DeviceService::~DeviceService() = default;

void DeviceService::SetUpdater(UpdateRunner* runner) {
  groups_->update.set_runner(runner);
  groups_->context.updater = runner ? &runner->service() : nullptr;
}

void DeviceService::SetDataStore(data::DataStore* data,
                                 const crypto::PrivateKey* key,
                                 const crypto::Certificate* certificate) {
  groups_->context.data = data;
  if (data != nullptr) {
    store::StateStore& owners = groups_->context.store;
    data->SetUnpair([&owners] { return owners.Reset(); });
  }
  groups_->context.identity_key = key;
  groups_->context.identity_certificate = certificate;
}

void DeviceService::SetEventLog(data::EventLog* log) {
  groups_->context.event_log = log;
}

app::AppData* DeviceService::AppData() { return &groups_->app_data; }

Status DeviceService::Init() {
  Groups& g = *groups_;
  WARDEN_TRY(g.info.Register(g.router));
  WARDEN_TRY(g.pairing.Register(g.router));
  WARDEN_TRY(g.owner_routes.Register(g.router));
  WARDEN_TRY(g.state.Register(g.router));
  WARDEN_TRY(g.update.Register(g.router));
  WARDEN_TRY(g.data.Register(g.router));
  return g.owners.Init();
}

bool DeviceService::RecogniseOwner(Peer& peer) {
  return groups_->owners.ConnectionIsAnOwners(peer);
}

boost::asio::awaitable<Response> DeviceService::Handle(Request request,
                                                       Peer& peer) {
  co_return co_await groups_->router.Dispatch(std::move(request), peer);
}

std::vector<std::string> DeviceService::Routes() const {
  return groups_->router.Describe();
}

void DeviceService::set_canonical_url(std::string url) {
  groups_->context.facts.canonical_url = std::move(url);
}

}  // namespace warden::api
