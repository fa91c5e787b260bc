// wardend: the device runtime. Wiring and the event loop only: it loads the
// unit's identity, opens its state, starts the app, and serves the owner API
// on one TLS 1.3 port until SIGTERM.
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/host_name.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <filesystem>

#include "api/device_service.h"
#include "api/server.h"
#include "api/update_routes.h"
#include "app/app_host.h"
#include "app/app_user.h"
#include "base/clock.h"
#include "base/rng.h"
#include "crypto/hash.h"
#include "crypto/secret.h"
#include "daemon/config.h"
#include "daemon/keystore_setup.h"
#include "daemon/updates.h"
#include "data/data_store.h"
#include "data/event_log.h"
#include "data/receipt.h"
#include "events/bus.h"
#include "events/catalog.h"
#include "events/log.h"
#include "keystore/keystore.h"
#include "platform/file.h"
#include "platform/process.h"
#include "provision/device.h"
#include "provision/sealed_device.h"
#include "store/state_store.h"
#include "worker/worker_pool.h"

namespace warden::daemon {
namespace {

namespace asio = boost::asio;

void WriteLine(std::string_view line) {
  std::fprintf(stderr, "wardend: %.*s\n", static_cast<int>(line.size()),
               line.data());
  std::fflush(stderr);
}

// Errors before the event loop runs: one line, then exit.
void Log(std::string_view event, std::string_view detail) {
  WriteLine(std::string(event) + ": " + std::string(detail));
}

// Personal fields reach stderr (the journal, which the device cannot
// erase) only as a keyed hash: the same value gives the same pseudonym
// until wardend restarts or personal data is deleted, so lines can still
// be correlated. The key lives in `key`, which RotatePseudonymKey replaces.
events::Pseudonymizer MakePseudonymizer(
    std::shared_ptr<crypto::SecretBytes> key) {
  return [key](std::string_view value) {
    Bytes mac = crypto::HmacSha256(key->view(), AsBytes(value));
    mac.resize(6);
    return "~" + HexEncode(mac);
  };
}

// A fresh pseudonym key: after a deletion of personal data, the pseudonyms
// in the journal before it cannot be linked to those after it.
void RotatePseudonymKey(crypto::SecretBytes& key) {
  key =
      crypto::SecretBytes(RandomBytes(SystemRng(), 32).value_or(Bytes(32, 0)));
}

// Reports suppressed log lines once a window, until the loop stops.
void ScheduleLogFlush(asio::steady_timer& timer, events::RateLimitedLog& log,
                      std::chrono::seconds every) {
  timer.expires_after(every);
  timer.async_wait([&timer, &log, every](const boost::system::error_code& ec) {
    if (ec) return;
    log.Flush();
    ScheduleLogFlush(timer, log, every);
  });
}

struct Options {
  std::string state_dir;
  std::string config_file;
  std::string listen;
  std::string app;
  std::string app_user;  // empty: the configuration's
  bool app_allow_shared_user = false;
  std::vector<std::string> app_env;
  std::string public_url;
  bool reset_owner = false;
  std::string update_from;        // a repository copy to update from at start
  std::string identity_request;   // write a signing request here, then exit
  std::string serial;             // the serial the request is for
  std::vector<std::string> argv;  // for the re-exec that "reboots"
};

// The exit status of a wardend that could not re-execute itself for a
// reboot: a supervisor that restarts it completes the reboot.
constexpr int kExitReboot = 75;

std::string StateDb(const std::string& state_dir) {
  return platform::JoinPath(state_dir, "state.db");
}

// How often records past their retention are looked for.
constexpr std::chrono::minutes kRetentionSweepEvery{10};

// Deletes what is past its retention in the data store and the event log.
void SweepRetention(data::DataStore& data, data::EventLog& event_log,
                    events::Bus& bus) {
  auto swept = data.Sweep(SystemClock().Now());
  if (!swept.ok()) {
    bus.Publish(events::Event(events::kStoreError)
                    .Text("operation", "retention sweep")
                    .Text("error", swept.status().ToString()));
  } else if (*swept > 0) {
    bus.Publish(events::Event(events::kDataExpired).Int("records", *swept));
  }
  auto entries = event_log.Sweep(SystemClock().Now());
  if (!entries.ok()) {
    bus.Publish(events::Event(events::kStoreError)
                    .Text("operation", "event log retention sweep")
                    .Text("error", entries.status().ToString()));
  } else if (*entries > 0) {
    bus.Publish(events::Event(events::kDataExpired)
                    .Text("store", std::string(data::kEventLogName))
                    .Int("records", *entries));
  }
}

void ScheduleRetentionSweep(asio::steady_timer& timer, data::DataStore& data,
                            data::EventLog& event_log, events::Bus& bus) {
  timer.expires_after(kRetentionSweepEvery);
  timer.async_wait(
      [&timer, &data, &event_log, &bus](const boost::system::error_code& ec) {
        if (ec) return;
        SweepRetention(data, event_log, bus);
        ScheduleRetentionSweep(timer, data, event_log, bus);
      });
}

int ResetOwner(const std::string& state_dir) {
  auto store = store::StateStore::Open(StateDb(state_dir));
  Status st = store.ok() ? (*store)->Reset() : store.status();
  if (!st.ok()) {
    Log("error", st.ToString());
    return 1;
  }
  std::printf("owner reset: the device is unpaired\n");
  return 0;
}

// Configuration from the file, then the command line on top.
Result<Config> EffectiveConfig(const Options& options) {
  Config config;
  if (!options.config_file.empty()) {
    WARDEN_ASSIGN_OR_RETURN(config, LoadConfig(options.config_file));
  }
  if (!options.listen.empty()) config.listen = options.listen;
  if (!options.public_url.empty()) {
    WARDEN_TRY(CheckPublicUrl(options.public_url).WithContext("--public-url"));
    config.public_url = options.public_url;
  }
  if (!options.app.empty()) {
    if (options.app[0] != '/') {
      return InvalidArgumentError("--app must be an absolute path");
    }
    if (!config.app) config.app = AppConfig{};
    config.app->command = {options.app};
  }
  if (config.app) {
    if (!options.app_user.empty()) config.app->user = options.app_user;
    if (options.app_allow_shared_user) config.app->allow_shared_user = true;
    for (const std::string& entry : options.app_env) {
      size_t eq = entry.find('=');
      if (eq == std::string::npos) {
        return InvalidArgumentError("--app-env must be NAME=VALUE: " + entry);
      }
      Status valid = CheckAppEnvName(entry.substr(0, eq));
      if (!valid.ok()) {
        return InvalidArgumentError("--app-env: " + valid.message());
      }
      config.app->env.push_back(entry);
    }
  }
  WARDEN_TRY(ParseListenAddress(config.listen));
  return config;
}

// The unit's keystore and, loaded through it, its identity: every secret
// wardend holds is taken from here.
struct UnitSecrets {
  std::unique_ptr<keystore::Keystore> keystore;
  provision::DeviceIdentity device;
};

Result<UnitSecrets> OpenUnitSecrets(const Config& config,
                                    const std::string& state_dir) {
  platform::Env& env = platform::DefaultEnv();
  WARDEN_ASSIGN_OR_RETURN(auto keystore,
                          OpenKeystore(config.keystore, state_dir, env));
  WARDEN_ASSIGN_OR_RETURN(
      provision::DeviceIdentity device,
      provision::LoadSealedDevice(state_dir, *keystore, env));
  return UnitSecrets{std::move(keystore), std::move(device)};
}

// For a unit whose key is made in its keystore and never leaves it: makes
// the key (or takes the one made before) and writes the signing request
// the maker's station certifies (warden mfg provision
// --identity-request).
int WriteIdentityRequest(const Options& options) {
  auto config = EffectiveConfig(options);
  if (!config.ok()) {
    Log("error", config.status().ToString());
    return 2;
  }
  auto keystore =
      OpenKeystore(config->keystore, options.state_dir, platform::DefaultEnv());
  Result<std::string> request =
      keystore.ok() ? provision::MakeIdentityRequest(**keystore, options.serial)
                    : Result<std::string>(keystore.status());
  Status written = request.ok() ? platform::WriteFileAtomic(
                                      options.identity_request, *request, 0644)
                                : request.status();
  if (!written.ok()) {
    Log("error", written.ToString());
    return 1;
  }
  std::printf("identity request for %s written to %s\n", options.serial.c_str(),
              options.identity_request.c_str());
  return 0;
}

// The app gets a directory of its own for its settings, owned by the user
// it runs as, and an environment wardend builds (AppHost).
Result<app::AppOptions> AppOptionsFor(const AppConfig& config,
                                      const std::string& state_dir) {
  app::AppOptions options;
  options.argv = config.command;
  options.env = config.env;
  options.allow_shared_user = config.allow_shared_user;
  std::string app_dir = platform::JoinPath(state_dir, "app");
  std::error_code ec;
  options.state_dir = std::filesystem::absolute(app_dir, ec).string();
  if (ec) return InvalidArgumentError(app_dir + ": " + ec.message());
  platform::UserIds ids;
  if (::geteuid() == 0) {
    // Refused before anything is changed on its behalf.
    WARDEN_ASSIGN_OR_RETURN(
        ids, app::CheckAppUser(config.user, config.allow_shared_user));
    options.run_as_user = config.user;
  }
  platform::Env& env = platform::DefaultEnv();
  WARDEN_TRY(platform::MakeDirs(env, app_dir, 0700));
  if (::geteuid() == 0) {
    // The app user may pass through the state directory to its own
    // folder, but cannot list or read anything else in it.
    WARDEN_TRY(env.SetMode(state_dir, 0711));
    WARDEN_TRY(env.SetOwner(app_dir, ids.uid, ids.gid));
    Status reach = platform::CheckUserCanReach(options.state_dir, ids);
    if (!reach.ok()) {
      return reach.WithContext("the app user " + config.user +
                               " cannot reach its folder");
    }
  }
  return options;
}

// The maker's extra health check: exit code 0 before `deadline`, with the
// loop running meanwhile.
Status RunHealthCommand(asio::io_context& io,
                        const std::vector<std::string>& argv,
                        std::chrono::steady_clock::time_point deadline) {
  platform::SpawnOptions spawn;
  spawn.argv = argv;
  spawn.env = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"};
  WARDEN_ASSIGN_OR_RETURN(platform::Child child,
                          platform::SpawnWithSocket(spawn));
  ::close(child.socket_fd);
  Status out = DeadlineExceededError("the health command did not finish");
  while (std::chrono::steady_clock::now() < deadline) {
    auto reaped = platform::TryReap(child.pid);
    if (!reaped.ok()) {
      out = reaped.status();
      break;
    }
    if (*reaped) {
      out = (*reaped)->exited && (*reaped)->code == 0
                ? Status::Ok()
                : UnavailableError("the health command failed: " +
                                   (*reaped)->ToString());
      if (child.pidfd >= 0) ::close(child.pidfd);
      return out;
    }
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(50));
  }
  (void)platform::TerminateAndReap(child.pid, child.pidfd,
                                   std::chrono::milliseconds(1000));
  if (child.pidfd >= 0) ::close(child.pidfd);
  return out;
}

// The automatic check: every interval, plus a random part of the jitter so
// that a fleet does not ask the repository at once. A deferred device, or
// one with automatic installs off, only checks (Op::kCheck).
void ScheduleUpdateCheck(asio::steady_timer& timer, api::UpdateRunner& runner,
                         const UpdateConfig& config) {
  uint64_t jitter = 0;
  if (config.check_jitter.count() > 0) {
    auto r = RandomBytes(SystemRng(), 8);
    if (r.ok()) {
      for (uint8_t b : *r) jitter = (jitter << 8) | b;
      jitter %= static_cast<uint64_t>(config.check_jitter.count()) + 1;
    }
  }
  timer.expires_after(config.check_interval + std::chrono::seconds(jitter));
  timer.async_wait(
      [&timer, &runner, &config](const boost::system::error_code& ec) {
        if (ec) return;
        runner.service().CheckSupport();
        runner.PublishEvents();
        if (!runner.running()) {
          (void)runner.Start(api::UpdateRunner::Op::kCheck, {});
        }
        ScheduleUpdateCheck(timer, runner, config);
      });
}

int Run(const Options& options) {
  auto config = EffectiveConfig(options);
  if (!config.ok()) {
    Log("error", config.status().ToString());
    return 2;
  }
  auto listen = ParseListenAddress(config->listen);
  auto secrets = OpenUnitSecrets(*config, options.state_dir);
  if (!secrets.ok()) {
    Log("error", secrets.status().ToString());
    return 1;
  }
  provision::DeviceIdentity* device = &secrets->device;
  auto store = store::StateStore::Open(StateDb(options.state_dir));
  if (!store.ok()) {
    Log("error", store.status().ToString());
    return 1;
  }
  // The data keys live in the unit's keystore, beside its identity.
  auto personal = data::DataStore::Open(
      platform::DefaultEnv(), platform::JoinPath(options.state_dir, "data.db"),
      *secrets->keystore, SystemClock());
  if (!personal.ok()) {
    Log("error", personal.status().ToString());
    return 1;
  }
  // The clear values behind the log's pseudonyms, sealed beside the data
  // and erased with it.
  auto event_log =
      data::EventLog::Open(platform::DefaultEnv(),
                           platform::JoinPath(options.state_dir, "events.db"),
                           *secrets->keystore, data::EventLog::Policy{});
  if (!event_log.ok()) {
    Log("error", event_log.status().ToString());
    return 1;
  }
  (*personal)->AlsoErase(event_log->get());
  auto tls =
      api::MakeServerTlsContext(device->key, device->certificate, device->ca);
  if (!tls.ok()) {
    Log("error", tls.status().ToString());
    return 1;
  }

  asio::io_context io(1);
  events::Bus bus(SystemClock());
  auto pseudonym_key = std::make_shared<crypto::SecretBytes>();
  RotatePseudonymKey(*pseudonym_key);
  events::RateLimitedLog log(SystemClock(), events::RateLimitedLog::Policy{},
                             WriteLine, MakePseudonymizer(pseudonym_key));
  // The event log keeps what the stderr log writes, no more: one limit
  // for both. A failure is told once, on stderr, until appends work again
  // (the bus cannot be published to from here).
  bool event_log_failing = false;
  log.SetRecorder(
      [&log, &event_log, &event_log_failing](const events::Event& e) {
        auto appended = (*event_log)->Append(e, log.pseudonymizer());
        if (!appended.ok() && !event_log_failing) {
          WriteLine("error operational store_error operation=\"event log\" " +
                    std::string("error=") +
                    events::QuoteValue(appended.status().ToString()));
        }
        event_log_failing = !appended.ok();
      });
  bus.Subscribe([&log, pseudonym_key](const events::Event& e) {
    log.Write(e);
    if (e.kind().name == events::kDataDeleted.name) {
      RotatePseudonymKey(*pseudonym_key);
    }
  });
  asio::steady_timer log_flush(io);
  ScheduleLogFlush(log_flush, log, events::RateLimitedLog::Policy{}.window);

  // A deletion a power cut interrupted is finished before anything is
  // served or the app runs; a device that cannot finish it does not start.
  // A transfer of ownership unpairs in the same intent.
  (*personal)->SetUnpair([&store] { return (*store)->Reset(); });
  auto resumed = (*personal)->ResumeDeletion();
  if (!resumed.ok()) {
    Log("error", "resuming the deletion of personal data: " +
                     resumed.status().ToString());
    return 1;
  }
  if (resumed->has_value()) {
    auto receipt = data::MakeReceipt(**resumed, device->info.serial,
                                     device->certificate, device->key);
    Status kept =
        receipt.ok() ? (*personal)->KeepReceipt(*receipt) : receipt.status();
    if (!kept.ok()) Log("error", "deletion receipt: " + kept.ToString());
    int64_t records = 0;
    for (const auto& k : (*resumed)->kinds) records += k.records;
    bus.Publish(events::Event(events::kDataDeletionResumed)
                    .Int("records", records)
                    .Int("keys_destroyed", (*resumed)->keys_destroyed));
  }
  SweepRetention(**personal, **event_log, bus);
  asio::steady_timer retention_timer(io);
  ScheduleRetentionSweep(retention_timer, **personal, **event_log, bus);

  // The boot step and the integrity of the booted slot come before the
  // app: a slot that does not verify is never run (safe mode).
  std::optional<DeviceBoot> device_boot;
  if (config->update) {
    auto started =
        StartUpdates(*config->update, options.state_dir, SystemClock());
    if (!started.ok()) {
      Log("error", started.status().ToString());
      return 1;
    }
    device_boot = std::move(*started);
    if (!config->app) config->app = AppConfig{};
    if (config->app->command.empty()) config->app->command.emplace_back();
    config->app->command[0] = device_boot->booted_image;
    Status mode =
        platform::DefaultEnv().SetMode(device_boot->booted_image, 0755);
    if (!mode.ok()) Log("error", mode.ToString());
  }
  const bool safe_mode = device_boot && !device_boot->service->integrity().ok;

  std::unique_ptr<app::AppHost> app;
  auto make_app = [&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(app::AppOptions app_options,
                            AppOptionsFor(*config->app, options.state_dir));
    app = std::make_unique<app::AppHost>(io, app_options, SystemClock());
    app->SetEventBus(&bus);
    return Status::Ok();
  };
  if (config->app && !safe_mode) {
    Status made = make_app();
    if (!made.ok()) {
      Log("error", made.ToString());
      return 1;
    }
  }

  api::DeviceFacts facts;
  facts.info = device->info;
  facts.verifier =
      pairing::VerifierParams{device->info.serial, device->w0.bytes(),
                              device->L, device->salt, device->iterations};
  facts.certificate_fingerprint = device->certificate.Fingerprint();
  api::ServiceOptions service_options;
  if (config->pairing_max_delay_seconds) {
    service_options.pairing.guard.max_delay =
        std::chrono::seconds(*config->pairing_max_delay_seconds);
  }
  // Argon2id and, later, image checks run here, off the event loop.
  worker::WorkerPool pool(service_options.workers);
  api::DeviceService service(std::move(facts), **store, app.get(),
                             SystemClock(), SystemRng(), service_options, bus,
                             &pool);
  // Update work runs on a pool of its own: a download never holds up the
  // password checks of logins.
  worker::WorkerPool update_pool(worker::WorkerPool::Options{1, 2});
  std::unique_ptr<api::UpdateRunner> runner;
  bool reboot_due = false;
  if (device_boot) {
    runner = std::make_unique<api::UpdateRunner>(
        io.get_executor(), *device_boot->service, update_pool, bus,
        [&] {
          reboot_due = true;
          io.stop();
        },
        [&] {
          if (app || !config->app) return;
          Status started = make_app();
          if (started.ok()) {
            app->SetData(service.AppData());
            started = app->Start();
          }
          if (!started.ok()) Log("error", started.ToString());
        },
        config->update->automatic);
    service.SetUpdater(runner.get());
  }
  service.SetDataStore(personal->get(), &device->key, &device->certificate);
  service.SetEventLog(event_log->get());
  if (app) app->SetData(service.AppData());
  Status st = service.Init();
  if (!st.ok()) {
    Log("error", st.ToString());
    return 1;
  }
  api::ServerOptions server_options;
  server_options.max_connections = config->server.max_connections;
  server_options.max_connections_per_address =
      config->server.max_connections_per_address;
  server_options.handshake_timeout = config->server.handshake_timeout;
  server_options.request_timeout = config->server.request_timeout;
  server_options.idle_timeout = config->server.idle_timeout;
  api::Server server(io, **tls, service, server_options, bus);
  st = server.Listen(asio::ip::tcp::endpoint(
      asio::ip::make_address(listen->address), listen->port));
  if (!st.ok()) {
    Log("error", st.ToString());
    return 1;
  }
  auto bound = server.local_endpoint();
  std::string host = bound.address().is_v6()
                         ? "[" + bound.address().to_string() + "]"
                         : bound.address().to_string();
  std::string base_url = "https://" + host + ":" + std::to_string(bound.port());
  boost::system::error_code host_error;
  std::string host_name = asio::ip::host_name(host_error);
  service.set_canonical_url(SecurityTxtUrl(
      config->public_url, host_error ? "" : host_name, bound.port()));

  if (app) {
    st = app->Start();
    if (!st.ok()) {
      Log("error", st.ToString());
      return 1;
    }
  }
  server.Start();

  asio::steady_timer update_timer(io);
  if (device_boot) {
    updater::UpdateService& updates = *device_boot->service;
    runner->PublishEvents();
    // A trial boot is healthy when wardend serves (it does by now), the
    // app runs and says its hello, and the extra command succeeds, all
    // within the timeout. The loop runs meanwhile.
    auto health = [&]() -> Status {
      if (!updates.integrity().ok)
        return IntegrityError(updates.integrity().reason);
      if (!app) return FailedPreconditionError("no app to run");
      const auto deadline =
          std::chrono::steady_clock::now() + config->update->health_timeout;
      while (!app->ready() && std::chrono::steady_clock::now() < deadline) {
        if (io.stopped()) io.restart();
        io.run_one_for(std::chrono::milliseconds(100));
      }
      if (!app->ready()) {
        return UnavailableError(
            "the app did not say hello within " +
            std::to_string(config->update->health_timeout.count()) + " s");
      }
      if (!config->update->health_command.empty()) {
        return RunHealthCommand(io, config->update->health_command, deadline);
      }
      return Status::Ok();
    };
    auto next = updates.Resume(health);
    runner->PublishEvents();
    if (!next.ok()) {
      Log("error", next.status().ToString());
    } else if (*next == update::Next::kReboot) {
      reboot_due = true;
    } else if (*next == update::Next::kDownload) {
      Status resumed =
          runner->Start(api::UpdateRunner::Op::kResumeDownload, {});
      if (!resumed.ok()) Log("error", resumed.ToString());
    }
    if (!reboot_due && !options.update_from.empty() && !safe_mode &&
        !runner->running()) {
      Status from = runner->Start(
          api::UpdateRunner::Op::kInstall,
          {updater::Source::Kind::kDirectory, options.update_from});
      if (!from.ok()) Log("error", from.ToString());
    }
    if (!config->update->repository.empty()) {
      ScheduleUpdateCheck(update_timer, *runner, *config->update);
    }
    updates.CheckSupport();
    runner->PublishEvents();
  }

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    bus.Publish(events::Event(events::kStopping)
                    .Text("signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"));
    sd_notify(0, "STOPPING=1");
    server.Stop();
    if (app) app->Stop();
    log_flush.cancel();
    update_timer.cancel();
    retention_timer.cancel();
    io.stop();
  });
  ::signal(SIGPIPE, SIG_IGN);

  bus.Publish(events::Event(events::kListening)
                  .Text("url", base_url)
                  .Text("serial", device->info.serial));
  sd_notify(0, "READY=1");
  if (!reboot_due) io.run();
  log.Flush(/*all=*/true);
  if (reboot_due) {
    bus.Publish(events::Event(events::kRebooting));
    server.Stop();
    if (app) app->Stop();
    update_timer.cancel();
    log.Flush(/*all=*/true);
    Status exec = platform::ReExecSelf(options.argv);
    Log("error", exec.ToString());
    return kExitReboot;
  }
  bus.Publish(events::Event(events::kStopped));
  return 0;
}

}  // namespace
}  // namespace warden::daemon

int main(int argc, char** argv) {
  // Before anything is allocated that matters: freed memory is then
  // overwritten, so personal data deleted from the store does not linger
  // in the heap (docs/THREAT_MODEL.md).
  warden::Status scrubbed = warden::platform::ScrubFreedMemory(argv);
  if (!scrubbed.ok()) {
    std::fprintf(stderr, "wardend: %s\n", scrubbed.ToString().c_str());
    return 1;
  }
  warden::daemon::Options options;
  CLI::App cli("wardend: the Warden device runtime");
  cli.add_option("--state-dir", options.state_dir,
                 "the unit's directory, as made by 'warden mfg provision'")
      ->required();
  cli.add_option("--config", options.config_file, "JSON configuration file");
  cli.add_option("--listen", options.listen,
                 "ADDR:PORT to serve on (default 127.0.0.1:8443)");
  cli.add_option("--public-url", options.public_url,
                 "https://HOST[:PORT] where owners reach the device (names "
                 "security.txt's Canonical; default: the host name)");
  cli.add_option("--app", options.app,
                 "absolute path of the device application to run");
  cli.add_option("--app-user", options.app_user,
                 "the application's own system user, used when wardend is "
                 "root (default warden-app)");
  cli.add_flag("--app-allow-shared-user", options.app_allow_shared_user,
               "let the application run as root, nobody or a user that "
               "already runs processes");
  cli.add_option("--app-env", options.app_env,
                 "NAME=VALUE added to the application's environment "
                 "(repeatable)");
  cli.add_option("--update-from", options.update_from,
                 "a copy of the update repository (the published layout) to "
                 "install from at start, with the same checks as online");
  cli.add_option("--identity-request", options.identity_request,
                 "make the unit's identity key in its keystore, write a "
                 "certificate signing request for it to FILE, then exit");
  cli.add_option("--serial", options.serial,
                 "the unit's serial, for --identity-request");
  cli.add_flag("--reset-owner", options.reset_owner,
               "remove the owner's keys, password and sessions, then exit");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "wardend: %s\n", e.what());
    return 2;
  }
  if (options.reset_owner) return warden::daemon::ResetOwner(options.state_dir);
  if (!options.identity_request.empty()) {
    if (options.serial.empty()) {
      std::fprintf(stderr, "wardend: --identity-request needs --serial\n");
      return 2;
    }
    return warden::daemon::WriteIdentityRequest(options);
  }
  // The re-exec that reboots starts wardend as the supervisor did: a copy
  // handed in once is not installed again.
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--update-from") {
      ++i;
      continue;
    }
    if (a.rfind("--update-from=", 0) == 0) continue;
    options.argv.push_back(a);
  }
  return warden::daemon::Run(options);
}
