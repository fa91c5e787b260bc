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
#include "app/app_host.h"
#include "app/app_user.h"
#include "base/clock.h"
#include "base/rng.h"
#include "crypto/hash.h"
#include "daemon/config.h"
#include "events/bus.h"
#include "events/catalog.h"
#include "events/log.h"
#include "platform/file.h"
#include "platform/process.h"
#include "provision/device.h"
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
// until wardend restarts, so lines can still be correlated.
events::Pseudonymizer MakePseudonymizer() {
  auto key = std::make_shared<Bytes>(
      RandomBytes(SystemRng(), 32).value_or(Bytes(32, 0)));
  return [key](std::string_view value) {
    Bytes mac = crypto::HmacSha256(*key, AsBytes(value));
    mac.resize(6);
    return "~" + HexEncode(mac);
  };
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
};

std::string StateDb(const std::string& state_dir) {
  return platform::JoinPath(state_dir, "state.db");
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

int Run(const Options& options) {
  auto config = EffectiveConfig(options);
  if (!config.ok()) {
    Log("error", config.status().ToString());
    return 2;
  }
  auto listen = ParseListenAddress(config->listen);
  auto device = provision::LoadDevice(options.state_dir);
  if (!device.ok()) {
    Log("error", device.status().ToString());
    return 1;
  }
  auto store = store::StateStore::Open(StateDb(options.state_dir));
  if (!store.ok()) {
    Log("error", store.status().ToString());
    return 1;
  }
  auto tls =
      api::MakeServerTlsContext(device->key, device->certificate, device->ca);
  if (!tls.ok()) {
    Log("error", tls.status().ToString());
    return 1;
  }

  asio::io_context io(1);
  events::Bus bus(SystemClock());
  events::RateLimitedLog log(SystemClock(), events::RateLimitedLog::Policy{},
                             WriteLine, MakePseudonymizer());
  bus.Subscribe([&log](const events::Event& e) { log.Write(e); });
  asio::steady_timer log_flush(io);
  ScheduleLogFlush(log_flush, log, events::RateLimitedLog::Policy{}.window);

  std::unique_ptr<app::AppHost> app;
  if (config->app) {
    auto app_options = AppOptionsFor(*config->app, options.state_dir);
    if (!app_options.ok()) {
      Log("error", app_options.status().ToString());
      return 1;
    }
    app = std::make_unique<app::AppHost>(io, *app_options, SystemClock());
    app->SetEventBus(&bus);
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

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    bus.Publish(events::Event(events::kStopping)
                    .Text("signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"));
    sd_notify(0, "STOPPING=1");
    server.Stop();
    if (app) app->Stop();
    log_flush.cancel();
    io.stop();
  });
  ::signal(SIGPIPE, SIG_IGN);

  bus.Publish(events::Event(events::kListening)
                  .Text("url", base_url)
                  .Text("serial", device->info.serial));
  sd_notify(0, "READY=1");
  io.run();
  log.Flush(/*all=*/true);
  bus.Publish(events::Event(events::kStopped));
  return 0;
}

}  // namespace
}  // namespace warden::daemon

int main(int argc, char** argv) {
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
  return warden::daemon::Run(options);
}
