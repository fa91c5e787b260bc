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
//               "request_timeout_seconds": 15, "idle_timeout_seconds": 60},
//    "update": {"repository": "https://updates.acme.example/thermostat",
//               "ca_file": "/etc/acme/updates-ca.pem",
//               "root": "/usr/share/acme/root.json",
//               "factory_targets": "/usr/share/acme/factory.targets.json",
//               "hardware_model": "thermostat-v1",
//               "factory_version": "1.0.0",
//               "slots": {"dir": "/var/lib/acme/boot"},
//               "check_interval_seconds": 86400,
//               "check_jitter_seconds": 3600,
//               "health_timeout_seconds": 60,
//               "health_command": ["/usr/lib/acme/selftest"],
//               "automatic": true,
//               "max_defer_hours": 336},
//    "keystore": {"backend": "pkcs11",
//                 "dir": "/var/lib/acme/keystore",
//                 "module": "/usr/lib/x86_64-linux-gnu/libtpm2_pkcs11.so.1",
//                 "token": "thermostat", "pin_env": "WARDEN_KEYSTORE_PIN"}}
//
// Every member is optional; "server" members default to the values shown.
// In "update", "root", "hardware_model" and "slots" are required and the
// rest default to the values shown (no repository, CA file, factory
// targets or health command unless given). "slots" is either {"dir": D}
// (the file backend: D/bootenv, D/slot_a.img, D/slot_b.img; wardend runs
// the boot step itself at start, "simulate_boot", default true) or
// {"uboot": "/etc/fw_env.config"}. With an update section the app's
// program is the booted slot's image: app.command[0] is replaced by it.
// "keystore" says where wardend's secrets are sealed (KeystoreConfig);
// without it, the file backend under the state directory.
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

// Where the A/B slots are and how the booted one is known.
struct SlotsConfig {
  std::string dir;            // the file backend's directory, or empty
  std::string uboot_config;   // the fw_env.config path, or empty
  bool simulate_boot = true;  // file backend: run the boot step at start
  int bootlimit = 3;          // trial boots before the fall-back, 1..10
};

// The updater (updater/update_service.h, docs/OPERATIONS.md "Updates").
struct UpdateConfig {
  std::string repository;  // https base URL; empty: offline copies only
  std::string ca_file;     // empty: the system store
  std::string root_file;   // the first trusted root
  std::string factory_targets_file;  // empty: none
  std::string hardware_model;        // ^[a-z0-9][a-z0-9-]{0,62}$
  std::string factory_version = "1.0.0";
  SlotsConfig slots;
  std::chrono::seconds check_interval{86400};  // 60..30 days
  std::chrono::seconds check_jitter{3600};     // 0..check_interval
  std::chrono::seconds health_timeout{60};     // 1..3600
  std::vector<std::string> health_command;     // argv; [0] absolute
  bool automatic = true;
  int max_defer_hours = 336;  // 0..8760
};

// Where wardend seals its secrets (keystore/keystore.h): the backend and
// its settings. Paths are absolute; an empty one takes the default shown,
// under the unit's state directory.
struct KeystoreConfig {
  enum class Backend { kFile, kPkcs11, kTpm };
  Backend backend = Backend::kFile;
  std::string dir;  // the sealed items; default <state dir>/keystore
  // "file": the key-encryption key (made when absent; default
  // <state dir>/keystore.kek) and an optional file binding it to the
  // device (such as /etc/machine-id).
  std::string kek_file;
  std::string binding_file;
  // "pkcs11": the module, the token's label (both required) and the name
  // of the environment variable holding the user PIN (which must be set
  // when wardend starts).
  std::string module;
  std::string token;
  std::string pin_env = "WARDEN_KEYSTORE_PIN";
  // "tpm": how the TPM is reached and the file with the keystore's keys as
  // the TPM wrapped them (made when absent; default
  // <state dir>/keystore.tpm).
  std::string tcti = "device:/dev/tpmrm0";
  std::string tpm_keys_file;
  // The most item versions the TPM backend keeps, one NV index each
  // (keystore/tpm_backend.h); 1 to 65536.
  size_t max_nv_indices = 32;
};

// "file", "pkcs11" or "tpm".
std::string_view KeystoreBackendName(KeystoreConfig::Backend backend);

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
  std::optional<UpdateConfig> update;
  KeystoreConfig keystore;
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
