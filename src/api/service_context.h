// What the owner API's handler groups share: the unit's facts, its stores,
// the app, the injected clock and random source, the event bus, the
// worker pool and the few pieces of state more than one group acts on.
// DeviceService owns it; every handler group holds a reference.
#ifndef WARDEN_API_SERVICE_CONTEXT_H_
#define WARDEN_API_SERVICE_CONTEXT_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "api/http.h"
#include "auth/password.h"
#include "auth/throttle.h"
#include "base/clock.h"
#include "base/rng.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "events/bus.h"
#include "pairing/attempts.h"
#include "pairing/pairing_session.h"
#include "provision/device.h"
#include "store/state_store.h"
#include "worker/worker_pool.h"

namespace warden::app {
class AppHost;
}
namespace warden::data {
class DataStore;
class EventLog;
}  // namespace warden::data
namespace warden::updater {
class UpdateService;
}

namespace warden::api {

struct DeviceFacts {
  provision::DeviceInfo info;
  pairing::VerifierParams verifier;
  std::string certificate_fingerprint;  // hex SHA-256 of the device cert DER
  std::string canonical_url;            // where security.txt is served
};

// How password logins are throttled (docs/THREAT_MODEL.md, "Login").
struct LoginPolicy {
  // Logins without a valid device cookie: per source address, and for all
  // of them together at most 30 failures a minute.
  auth::Throttle::Policy stranger;
  // Logins with a valid device cookie: per cookie only.
  auth::Throttle::Policy cookie{.free_attempts = 5,
                                .base_delay = std::chrono::seconds(1),
                                .max_delay = std::chrono::seconds(60),
                                .global_failures_per_minute = 1 << 20,
                                .max_tracked_clients = 4096};
  // Failures with one device cookie after which it is revoked.
  int cookie_max_failures = 10;
  // Password checks of logins without a device cookie that may run at
  // once; more are refused (429) rather than queued, so strangers never
  // fill the worker pool the owner's login needs.
  size_t stranger_concurrent = 2;
};

struct ServiceOptions {
  HttpLimits limits;
  LoginPolicy login;
  pairing::PairingAttempts::Policy pairing;
  auth::HashParams password_hash;
  std::chrono::seconds session_lifetime{12 * 3600};
  // For the pool the service makes when it is given none.
  worker::WorkerPool::Options workers;
};

// An owner's consent to one more owner pairing.
struct Consent {
  MonoTime until;
  store::Role role = store::Role::kMember;
};

struct ServiceContext {
  DeviceFacts facts;
  store::StateStore& store;
  app::AppHost* app;  // null: no app configured
  Clock& clock;
  Rng& rng;
  events::Bus& events;
  const ServiceOptions& options;
  worker::WorkerPool& pool;
  // Set by POST /v1/pair/open; used up by the pairing it admits, closed by
  // a reset.
  std::optional<Consent> consent;
  // The updater, or null when none is configured (/v1/info's support and
  // integrity state).
  updater::UpdateService* updater = nullptr;
  // The personal-data store, or null when none is open (the data routes
  // answer 503).
  data::DataStore* data = nullptr;
  // wardend's event log, or null (GET /v1/data/events answers 503).
  data::EventLog* event_log = nullptr;
  // What signs deletion receipts: the device's identity key (used only to
  // sign, so it may live in a token) and its certificate.
  const crypto::PrivateKey* identity_key = nullptr;
  const crypto::Certificate* identity_certificate = nullptr;

  // True while an owner's consent lets one more owner pair.
  bool ConsentOpen() const {
    return consent && clock.Monotonic() < consent->until;
  }
  auth::PasswordContext PasswordContext() const {
    return {facts.info.serial, facts.info.model, facts.info.maker};
  }
};

}  // namespace warden::api

#endif  // WARDEN_API_SERVICE_CONTEXT_H_
