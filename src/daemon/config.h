// wardend's configuration file: JSON, checked against a schema before use.
//
//   {"listen": "127.0.0.1:8443",
//    "public_url": "https://thermostat.local:8443",
//    "pairing": {"max_delay_seconds": 60},
//    "app": {"command": ["/usr/lib/acme/thermostat", "--flag"],
//            "user": "acme-thermostat",
//            "allow_shared_user": false,
//            "env": {"TZ": "Europe/London"}},
//    "server": {"max_connections": 64, "max_connections_per_address": 8,
//               "handshake_timeout_seconds": 10,
//               "request_timeout_seconds": 15, "idle_timeout_seconds": 60}}
//
// Every member is optional; "server" members default to the values shown.
#ifndef WARDEN_DAEMON_CONFIG_H_
#define WARDEN_DAEMON_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden::daemon {

struct AppConfig {
  std::vector<std::string> command;  // argv; command[0] an absolute path
  // The app's own system user, used when wardend runs as root (the default
  // is app::kDefaultAppUser).
  std::string user = "warden-app";
  // Lets the app run as root, nobody or a user other processes already run
  // as (app/app_user.h says why that is refused by default).
  bool allow_shared_user = false;
  // "NAME=value" entries added to the environment wardend builds for the
  // app; names match ^[A-Za-z_][A-Za-z0-9_]*$ and are neither HOME nor
  // WARDEN_APP_*.
  std::vector<std::string> env;
};

// Connection limits of the owner API's socket (api::ServerOptions).
struct ServerConfig {
  size_t max_connections = 64;                 // 1..4096
  size_t max_connections_per_address = 8;      // 1..max_connections
  std::chrono::seconds handshake_timeout{10};  // each 1..3600
  std::chrono::seconds request_timeout{15};
  std::chrono::seconds idle_timeout{60};
};

struct Config {
  std::string listen = "127.0.0.1:8443";
  // Where owners reach the device, "https://HOST[:PORT][/PATH]"; names
  // security.txt's Canonical. Unset: the device's host name and port.
  std::optional<std::string> public_url;
  // Longest delay between failed pairing attempts before the lock (1..60
  // seconds). The lock itself, after 20 failures for an hour, is fixed.
  std::optional<int> pairing_max_delay_seconds;
  std::optional<AppConfig> app;
  ServerConfig server;
};

// Parses and checks a configuration document. Unknown members, wrong types
// and out-of-range values are kInvalidArgument naming the member.
Result<Config> ParseConfig(std::string_view text);

// Whether `name` may be added to the app's environment (see AppConfig::env);
// kInvalidArgument saying why not.
Status CheckAppEnvName(std::string_view name);

// Reads and parses FILE (at most 64 KiB).
Result<Config> LoadConfig(const std::string& path);

// "ADDR:PORT" with ADDR an IPv4 address or a bracketed IPv6 one.
struct ListenAddress {
  std::string address;
  uint16_t port = 0;
};
Result<ListenAddress> ParseListenAddress(std::string_view text);

// Ok when `url` is usable as public_url: at most 256 bytes that
// web::ParseUrlWithPath accepts (https, a host, an optional port and path,
// no user, query or fragment). kInvalidArgument otherwise.
Status CheckPublicUrl(std::string_view url);

// security.txt's Canonical URL: under `public_url` when it is set, else
// https://HOST:PORT/.well-known/security.txt with the device's host name
// (never the address it is bound to, which may be a wildcard such as
// 0.0.0.0); a host name that is not a valid DNS name becomes "localhost".
std::string SecurityTxtUrl(const std::optional<std::string>& public_url,
                           std::string_view host_name, uint16_t port);

}  // namespace warden::daemon

#endif  // WARDEN_DAEMON_CONFIG_H_
