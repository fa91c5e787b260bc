#include "daemon/config.h"

#include <arpa/inet.h>

#include <algorithm>

#include "platform/file.h"
#include "schema/json.h"
#include "schema/schema.h"
#include "web/url.h"

namespace warden::daemon {
namespace {

constexpr size_t kMaxConfigBytes = 64 * 1024;

const schema::Schema& ConfigSchema() {
  static const schema::Schema* schema = [] {
    auto json = schema::Json::parse(R"({
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "listen": {"type": "string", "minLength": 3, "maxLength": 64},
        "public_url": {"type": "string", "minLength": 9, "maxLength": 256},
        "pairing": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "max_delay_seconds": {"type": "integer", "minimum": 1,
                                  "maximum": 60}
          }
        },
        "app": {
          "type": "object",
          "additionalProperties": false,
          "required": ["command"],
          "properties": {
            "command": {
              "type": "array", "minItems": 1, "maxItems": 32,
              "items": {"type": "string", "minLength": 1, "maxLength": 4096}
            },
            "user": {"type": "string", "pattern": "^[a-z_][a-z0-9_-]{0,31}$"},
            "allow_shared_user": {"type": "boolean"},
            "env": {
              "type": "object", "maxProperties": 64,
              "additionalProperties": {"type": "string", "maxLength": 4096}
            }
          }
        },
        "update": {
          "type": "object",
          "additionalProperties": false,
          "required": ["root", "hardware_model", "slots"],
          "properties": {
            "repository": {"type": "string", "minLength": 9, "maxLength": 1024},
            "ca_file": {"type": "string", "minLength": 1, "maxLength": 4096},
            "root": {"type": "string", "minLength": 1, "maxLength": 4096},
            "factory_targets":
                {"type": "string", "minLength": 1, "maxLength": 4096},
            "hardware_model":
                {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
            "factory_version": {"type": "string",
                                "pattern": "^[0-9]{1,9}(\\.[0-9]{1,9}){0,7}$"},
            "slots": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "dir": {"type": "string", "minLength": 1, "maxLength": 4096},
                "uboot": {"type": "string", "minLength": 1, "maxLength": 4096},
                "simulate_boot": {"type": "boolean"},
                "bootlimit": {"type": "integer", "minimum": 1, "maximum": 10}
              }
            },
            "check_interval_seconds":
                {"type": "integer", "minimum": 60, "maximum": 2592000},
            "check_jitter_seconds":
                {"type": "integer", "minimum": 0, "maximum": 2592000},
            "health_timeout_seconds":
                {"type": "integer", "minimum": 1, "maximum": 3600},
            "health_command": {
              "type": "array", "minItems": 1, "maxItems": 32,
              "items": {"type": "string", "minLength": 1, "maxLength": 4096}
            },
            "automatic": {"type": "boolean"},
            "max_defer_hours": {"type": "integer", "minimum": 0, "maximum": 8760}
          }
        },
        "keystore": {
          "type": "object",
          "additionalProperties": false,
          "required": ["backend"],
          "properties": {
            "backend": {"enum": ["file", "pkcs11", "tpm"]},
            "dir": {"type": "string", "minLength": 1, "maxLength": 4096},
            "kek_file": {"type": "string", "minLength": 1, "maxLength": 4096},
            "binding_file":
                {"type": "string", "minLength": 1, "maxLength": 4096},
            "module": {"type": "string", "minLength": 1, "maxLength": 4096},
            "token": {"type": "string", "minLength": 1, "maxLength": 32},
            "pin_env": {"type": "string", "pattern": "^[A-Z_][A-Z0-9_]{0,63}$"},
            "tcti": {"type": "string", "minLength": 1, "maxLength": 256},
            "tpm_keys_file":
                {"type": "string", "minLength": 1, "maxLength": 4096},
            "max_nv_indices": {"type": "integer", "minimum": 1, "maximum": 65536}
          }
        },
        "server": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "max_connections": {"type": "integer", "minimum": 1, "maximum": 4096},
            "max_connections_per_address":
                {"type": "integer", "minimum": 1, "maximum": 4096},
            "handshake_timeout_seconds":
                {"type": "integer", "minimum": 1, "maximum": 3600},
            "request_timeout_seconds":
                {"type": "integer", "minimum": 1, "maximum": 3600},
            "idle_timeout_seconds":
                {"type": "integer", "minimum": 1, "maximum": 3600}
          }
        }
      }
    })");
    auto compiled = schema::Schema::Compile(json);
    return new schema::Schema(std::move(*compiled));
  }();
  return *schema;
}

constexpr std::string_view kSecurityTxtPath = "/.well-known/security.txt";

Result<UpdateConfig> ParseUpdate(const schema::Json& u);
Result<KeystoreConfig> ParseKeystore(const schema::Json& k);

}  // namespace

std::string_view KeystoreBackendName(KeystoreConfig::Backend backend) {
  switch (backend) {
    case KeystoreConfig::Backend::kFile:
      return "file";
    case KeystoreConfig::Backend::kPkcs11:
      return "pkcs11";
    case KeystoreConfig::Backend::kTpm:
      return "tpm";
  }
  return "file";
}

Status CheckAppEnvName(std::string_view name) {
  bool ok = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) {
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) {
    return InvalidArgumentError("\"" + std::string(name) +
                                "\" is not a variable name");
  }
  if (name == "HOME" || name.rfind("WARDEN_APP_", 0) == 0) {
    return InvalidArgumentError(std::string(name) + " is set by wardend");
  }
  return Status::Ok();
}

Status CheckPublicUrl(std::string_view url) {
  if (url.size() > 256) {
    return InvalidArgumentError("public_url is longer than 256 bytes");
  }
  return web::ParseUrlWithPath(url).status().WithContext("public_url");
}

std::string SecurityTxtUrl(const std::optional<std::string>& public_url,
                           std::string_view host_name, uint16_t port) {
  if (public_url) {
    // As the operator wrote it (checked by CheckPublicUrl when loaded).
    std::string base = *public_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + std::string(kSecurityTxtPath);
  }
  std::string host = web::ValidateHostName(host_name).ok()
                         ? std::string(host_name)
                         : std::string("localhost");
  return "https://" + host + ":" + std::to_string(port) +
         std::string(kSecurityTxtPath);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    return InvalidArgumentError("listen address must be ADDR:PORT");
  }
  std::string host(text.substr(0, colon));
  std::string port_text(text.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    in6_addr a6;
    if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) {
      return InvalidArgumentError("listen address: bad IPv6 address " + host);
    }
  } else {
    in_addr a4;
    if (inet_pton(AF_INET, host.c_str(), &a4) != 1) {
      return InvalidArgumentError("listen address: bad IPv4 address " + host);
    }
  }
  if (port_text.empty() || port_text.size() > 5) {
    return InvalidArgumentError("listen address: bad port " + port_text);
  }
  unsigned port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') {
      return InvalidArgumentError("listen address: bad port " + port_text);
    }
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port > 65535) {
    return InvalidArgumentError("listen address: port out of range");
  }
  return ListenAddress{host, static_cast<uint16_t>(port)};
}

Result<Config> ParseConfig(std::string_view text) {
  schema::JsonError error;
  auto json = schema::ParseJson(text, schema::JsonLimits{}, &error);
  if (!json.ok()) return InvalidArgumentError("config: " + error.message);
  if (auto v = ConfigSchema().Check(*json)) {
    return InvalidArgumentError(
        "config: " + (v->pointer.empty() ? "" : v->pointer + ": ") +
        v->message);
  }
  Config config;
  if (json->contains("listen")) {
    config.listen = (*json)["listen"].get<std::string>();
    WARDEN_TRY(ParseListenAddress(config.listen));
  }
  if (json->contains("public_url")) {
    config.public_url = (*json)["public_url"].get<std::string>();
    WARDEN_TRY(CheckPublicUrl(*config.public_url).WithContext("config"));
  }
  if (json->contains("pairing") &&
      (*json)["pairing"].contains("max_delay_seconds")) {
    config.pairing_max_delay_seconds =
        (*json)["pairing"]["max_delay_seconds"].get<int>();
  }
  if (json->contains("app")) {
    AppConfig app;
    app.command = (*json)["app"]["command"].get<std::vector<std::string>>();
    if (app.command[0].empty() || app.command[0][0] != '/') {
      return InvalidArgumentError(
          "config: /app/command/0 must be an absolute path");
    }
    if ((*json)["app"].contains("user")) {
      app.user = (*json)["app"]["user"].get<std::string>();
    }
    if ((*json)["app"].contains("allow_shared_user")) {
      app.allow_shared_user = (*json)["app"]["allow_shared_user"].get<bool>();
    }
    if ((*json)["app"].contains("env")) {
      for (const auto& [name, value] : (*json)["app"]["env"].items()) {
        Status valid = CheckAppEnvName(name);
        if (!valid.ok()) {
          return InvalidArgumentError("config: /app/env/" + name + ": " +
                                      valid.message());
        }
        app.env.push_back(name + "=" + value.get<std::string>());
      }
    }
    config.app = std::move(app);
  }
  if (json->contains("server")) {
    const schema::Json& server = (*json)["server"];
    ServerConfig& out = config.server;
    out.max_connections = server.value("max_connections", out.max_connections);
    out.max_connections_per_address = server.value(
        "max_connections_per_address", out.max_connections_per_address);
    if (out.max_connections_per_address > out.max_connections) {
      return InvalidArgumentError(
          "config: /server/max_connections_per_address must not exceed "
          "max_connections");
    }
    auto seconds = [&](const char* name, std::chrono::seconds fallback) {
      return std::chrono::seconds(server.value(name, fallback.count()));
    };
    out.handshake_timeout =
        seconds("handshake_timeout_seconds", out.handshake_timeout);
    out.request_timeout =
        seconds("request_timeout_seconds", out.request_timeout);
    out.idle_timeout = seconds("idle_timeout_seconds", out.idle_timeout);
  }
  if (json->contains("update")) {
    WARDEN_ASSIGN_OR_RETURN(config.update, ParseUpdate((*json)["update"]));
  }
  if (json->contains("keystore")) {
    WARDEN_ASSIGN_OR_RETURN(config.keystore,
                            ParseKeystore((*json)["keystore"]));
  }
  return config;
}

namespace {

Result<UpdateConfig> ParseUpdate(const schema::Json& u) {
  UpdateConfig out;
  if (u.contains("repository")) {
    out.repository = u["repository"].get<std::string>();
    if (out.repository.rfind("https://", 0) != 0) {
      return InvalidArgumentError("config: /update/repository must be https");
    }
    WARDEN_TRY(web::ParseUrlWithPath(out.repository)
                   .status()
                   .WithContext("config: /update/repository"));
  }
  out.ca_file = u.value("ca_file", "");
  out.root_file = u["root"].get<std::string>();
  out.factory_targets_file = u.value("factory_targets", "");
  out.hardware_model = u["hardware_model"].get<std::string>();
  out.factory_version = u.value("factory_version", out.factory_version);
  const schema::Json& slots = u["slots"];
  out.slots.dir = slots.value("dir", "");
  out.slots.uboot_config = slots.value("uboot", "");
  if (out.slots.dir.empty() == out.slots.uboot_config.empty()) {
    return InvalidArgumentError(
        "config: /update/slots must have exactly one of dir and uboot");
  }
  out.slots.simulate_boot =
      slots.value("simulate_boot", out.slots.dir.empty() ? false : true);
  out.slots.bootlimit = slots.value("bootlimit", out.slots.bootlimit);
  out.check_interval = std::chrono::seconds(
      u.value("check_interval_seconds", out.check_interval.count()));
  out.check_jitter = std::chrono::seconds(
      u.value("check_jitter_seconds", out.check_jitter.count()));
  if (out.check_jitter > out.check_interval) {
    return InvalidArgumentError(
        "config: /update/check_jitter_seconds must not exceed "
        "check_interval_seconds");
  }
  out.health_timeout = std::chrono::seconds(
      u.value("health_timeout_seconds", out.health_timeout.count()));
  if (u.contains("health_command")) {
    out.health_command = u["health_command"].get<std::vector<std::string>>();
    if (out.health_command[0][0] != '/') {
      return InvalidArgumentError(
          "config: /update/health_command/0 must be an absolute path");
    }
  }
  out.automatic = u.value("automatic", out.automatic);
  out.max_defer_hours = u.value("max_defer_hours", out.max_defer_hours);
  return out;
}

// Each backend takes only its own settings: a setting of another backend
// is a mistake that would otherwise be silently ignored (a "module" under
// "file" leaves the keys in a file the operator thought was a token).
Result<KeystoreConfig> ParseKeystore(const schema::Json& k) {
  KeystoreConfig out;
  const std::string backend = k["backend"].get<std::string>();
  std::vector<std::string> own;
  if (backend == "file") {
    out.backend = KeystoreConfig::Backend::kFile;
    own = {"kek_file", "binding_file"};
  } else if (backend == "pkcs11") {
    out.backend = KeystoreConfig::Backend::kPkcs11;
    own = {"module", "token", "pin_env"};
    for (const char* required : {"module", "token"}) {
      if (!k.contains(required)) {
        return InvalidArgumentError(std::string("config: /keystore/") +
                                    required +
                                    " is required for the pkcs11 backend");
      }
    }
  } else {
    out.backend = KeystoreConfig::Backend::kTpm;
    own = {"tcti", "tpm_keys_file", "max_nv_indices"};
  }
  for (const char* member :
       {"kek_file", "binding_file", "module", "token", "pin_env", "tcti",
        "tpm_keys_file", "max_nv_indices"}) {
    if (k.contains(member) &&
        std::find(own.begin(), own.end(), member) == own.end()) {
      return InvalidArgumentError(std::string("config: /keystore/") + member +
                                  " is not a setting of the " + backend +
                                  " backend");
    }
  }
  for (const char* path :
       {"dir", "kek_file", "binding_file", "module", "tpm_keys_file"}) {
    if (k.contains(path) && k[path].get<std::string>()[0] != '/') {
      return InvalidArgumentError(std::string("config: /keystore/") + path +
                                  " must be an absolute path");
    }
  }
  out.dir = k.value("dir", "");
  out.kek_file = k.value("kek_file", "");
  out.binding_file = k.value("binding_file", "");
  out.module = k.value("module", "");
  out.token = k.value("token", "");
  out.pin_env = k.value("pin_env", out.pin_env);
  out.tcti = k.value("tcti", out.tcti);
  out.tpm_keys_file = k.value("tpm_keys_file", "");
  out.max_nv_indices = k.value("max_nv_indices", out.max_nv_indices);
  return out;
}

}  // namespace

Result<Config> LoadConfig(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text,
                          platform::ReadFile(path, kMaxConfigBytes));
  auto config = ParseConfig(text);
  if (!config.ok()) return config.status().WithContext(path);
  return config;
}

}  // namespace warden::daemon
