#include "cli/release_cmd.h"

#include <cstdlib>
#include <iostream>

#include "base/clock.h"
#include "base/time_format.h"
#include "client/api_error.h"
#include "crypto/secret.h"
#include "platform/env.h"
#include "release/repository.h"
#include "tuf/metadata.h"

namespace warden::cli {
namespace {

using client::Printable;
using schema::Json;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr char kPinVariable[] = "WARDEN_PKCS11_PIN";

int Usage(const std::string& message) {
  std::cerr << "warden release: " << Printable(message, 2048) << "\n";
  return kExitUsage;
}

// A refused argument is a usage error; anything else a failed operation.
int Fail(const warden::Status& status) {
  if (status.code() == Code::kInvalidArgument) return Usage(status.message());
  std::cerr << "warden release: " << Printable(status.message(), 2048) << "\n";
  return kExitFailed;
}

// "ROLE=N" items into a map; false (with a usage message) on a bad one.
bool ParseRoleInts(const std::vector<std::string>& items, const char* option,
                   std::map<std::string, int>& out, std::string& error) {
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    const std::string role = item.substr(0, eq);
    bool known = false;
    for (const char* r : release::kRoles) known = known || role == r;
    char* end = nullptr;
    const std::string value =
        eq == std::string::npos ? "" : item.substr(eq + 1);
    const long n = std::strtol(value.c_str(), &end, 10);
    if (!known || value.empty() || *end != '\0' || n < 1 || n > 36500) {
      error = std::string(option) +
              " wants ROLE=N (ROLE root, targets, "
              "snapshot or timestamp; N a positive number), not " +
              item;
      return false;
    }
    out[role] = static_cast<int>(n);
  }
  return true;
}

// The PIN of the tokens, from the environment only: never an argument,
// which other local users could read.
release::KeyAccess Access(const std::string& root_keys) {
  release::KeyAccess access;
  access.root_keys_dir = root_keys;
  if (const char* pin = std::getenv(kPinVariable)) access.pkcs11_pin = pin;
  return access;
}

struct WipeAccess {
  release::KeyAccess& access;
  ~WipeAccess() { crypto::Wipe(access.pkcs11_pin); }
};

}  // namespace

ReleaseCommand::ReleaseCommand(CLI::App& app) {
  release_ = app.add_subcommand(
      "release",
      "the maker's TUF repository: keys, firmware targets, signing, "
      "publishing (keys behind PKCS#11 take their PIN from " +
          std::string(kPinVariable) + ")");
  release_->require_subcommand(1);

  init_ = release_->add_subcommand(
      "init", "create a repository: keys and version 1 of every role");
  init_->add_option("repo", a_.repo, "repository directory to create")
      ->required();
  init_
      ->add_option("--root-keys", a_.root_keys,
                   "directory for the root keys (keep it offline)")
      ->required();
  init_->add_option("--root-threshold", a_.root_threshold,
                    "root signatures needed (default 2)");
  init_->add_option("--root-key-count", a_.root_key_count,
                    "root keys (default 3)");
  init_->add_option("--threshold", a_.threshold,
                    "ROLE=N signatures a role needs (repeatable)");
  init_->add_option("--key-count", a_.key_count,
                    "ROLE=N keys a role has (repeatable)");
  init_->add_option("--key-type", a_.key_type, "ed25519 (default) or ecdsa")
      ->check(CLI::IsMember({"ed25519", "ecdsa"}));
  init_->add_option("--expires", a_.expires,
                    "ROLE=DAYS default expiry (root 365, targets 90, "
                    "snapshot 7, timestamp 1; repeatable)");
  init_->add_option("--pkcs11-module", a_.pkcs11_module,
                    "PKCS#11 module holding token keys");
  init_->add_option("--pkcs11-token", a_.pkcs11_token, "token label");
  init_->add_option("--pkcs11-key", a_.pkcs11_key,
                    "ROLE=LABEL: the role's one key is this token key "
                    "(ECDSA P-256; repeatable)");
  init_->add_flag("--json", a_.json, "print the key IDs as JSON");

  add_ = release_->add_subcommand(
      "add", "add a firmware image as the target <model>.img and sign");
  add_->add_option("repo", a_.repo, "repository directory")->required();
  add_->add_option("image", a_.image, "the image file")->required();
  add_->add_option("--hardware-model", a_.hardware_model,
                   "hardware model (a-z, 0-9, '-')")
      ->required();
  add_->add_option("--version", a_.version, "release version, e.g. 1.1.0")
      ->required();
  add_->add_option("--min-from", a_.min_from,
                   "lowest running version that may take it");
  add_->add_option("--support-until", a_.support_until,
                   "end of security support, YYYY-MM-DD");

  refresh_ = release_->add_subcommand(
      "refresh", "sign a new snapshot and timestamp (before they expire)");
  refresh_->add_option("repo", a_.repo, "repository directory")->required();
  refresh_->add_option("--expires", a_.expires,
                       "ROLE=DAYS for snapshot or timestamp, this run only");

  sign_ = release_->add_subcommand(
      "sign",
      "sign a new version of a role (targets or root before they "
      "expire), then snapshot and timestamp");
  sign_->add_option("repo", a_.repo, "repository directory")->required();
  sign_->add_option("--role", a_.role, "root, targets, snapshot, timestamp")
      ->required();
  sign_->add_option("--expires", a_.days, "days until it expires");
  sign_->add_option("--root-keys", a_.root_keys,
                    "directory of the root keys (for root)");

  rotate_ = release_->add_subcommand(
      "rotate",
      "replace a role's key with a new one (new root, signed by "
      "the old and new root keys)");
  rotate_->add_option("repo", a_.repo, "repository directory")->required();
  rotate_->add_option("--role", a_.role, "root, targets, snapshot, timestamp")
      ->required();
  rotate_->add_option("--revoke", a_.revoke,
                      "key ID to replace (may be left out when the role has "
                      "one key)");
  rotate_->add_option("--root-keys", a_.root_keys, "directory of the root keys")
      ->required();
  rotate_->add_option("--pkcs11-module", a_.pkcs11_module,
                      "the new key is in this PKCS#11 module's token");
  rotate_->add_option("--pkcs11-token", a_.pkcs11_token, "token label");
  rotate_->add_option("--pkcs11-key", a_.pkcs11_key,
                      "the new key's label (ECDSA P-256)");

  status_ = release_->add_subcommand(
      "status", "roles, versions, expiry, keys and targets");
  status_->add_option("repo", a_.repo, "repository directory")->required();
  status_->add_flag("--json", a_.json, "print JSON");

  publish_ = release_->add_subcommand(
      "publish", "write the static tree a web server or CDN serves");
  publish_->add_option("repo", a_.repo, "repository directory")->required();
  publish_->add_option("out", a_.out, "directory to publish into")->required();
}

bool ReleaseCommand::parsed() const { return release_->parsed(); }

int ReleaseCommand::Run() {
  if (init_->parsed()) return Init();
  if (add_->parsed()) return Add();
  if (refresh_->parsed()) return Refresh();
  if (sign_->parsed()) return Sign();
  if (rotate_->parsed()) return Rotate();
  if (status_->parsed()) return Status();
  if (publish_->parsed()) return Publish();
  return Usage("no release command given (see warden release --help)");
}

int ReleaseCommand::Init() {
  release::InitOptions options;
  std::string error;
  if (!ParseRoleInts(a_.threshold, "--threshold", options.threshold, error) ||
      !ParseRoleInts(a_.key_count, "--key-count", options.key_count, error) ||
      !ParseRoleInts(a_.expires, "--expires", options.expires_days, error)) {
    return Usage(error);
  }
  if (a_.root_threshold) options.threshold["root"] = *a_.root_threshold;
  if (a_.root_key_count) options.key_count["root"] = *a_.root_key_count;
  options.key_type = a_.key_type == "ecdsa" ? crypto::KeyType::kEcdsaP256
                                            : crypto::KeyType::kEd25519;
  if (!a_.pkcs11_key.empty() &&
      (a_.pkcs11_module.empty() || a_.pkcs11_token.empty())) {
    return Usage("--pkcs11-key needs --pkcs11-module and --pkcs11-token");
  }
  for (const std::string& item : a_.pkcs11_key) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return Usage("--pkcs11-key wants ROLE=LABEL, not " + item);
    }
    options.pkcs11[item.substr(0, eq)] = release::Pkcs11Key{
        a_.pkcs11_module, a_.pkcs11_token, item.substr(eq + 1)};
  }
  release::KeyAccess access = Access(a_.root_keys);
  WipeAccess wipe{access};
  warden::Status st = release::Init(platform::DefaultEnv(), SystemClock(),
                                    a_.repo, options, access);
  if (!st.ok()) return Fail(st);
  Result<release::RepositoryStatus> s =
      release::GetStatus(platform::DefaultEnv(), a_.repo);
  if (!s.ok()) return Fail(s.status());
  if (a_.json) {
    std::cout << release::ToJson(*s).dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "repository " << a_.repo << " created\n";
  for (const release::RoleStatus& r : s->roles) {
    std::cout << r.name << ": " << r.threshold << " of " << r.keyids.size()
              << " keys\n";
  }
  std::cout << "keep " << a_.root_keys
            << " offline: it holds the root keys, needed only to rotate keys "
               "and renew the root\n";
  return kExitOk;
}

int ReleaseCommand::Add() {
  release::TargetSpec spec;
  spec.hardware_model = a_.hardware_model;
  spec.version = a_.version;
  spec.min_from_version = a_.min_from;
  spec.support_until = a_.support_until;
  release::KeyAccess access = Access("");
  WipeAccess wipe{access};
  warden::Status st = release::AddTarget(platform::DefaultEnv(), SystemClock(),
                                         a_.repo, a_.image, spec, access);
  if (!st.ok()) return Fail(st);
  std::cout << a_.hardware_model << ".img " << a_.version
            << " added and signed; publish to release it\n";
  return kExitOk;
}

int ReleaseCommand::Refresh() {
  std::map<std::string, int> days;
  std::string error;
  if (!ParseRoleInts(a_.expires, "--expires", days, error)) {
    return Usage(error);
  }
  release::KeyAccess access = Access("");
  WipeAccess wipe{access};
  warden::Status st = release::Refresh(platform::DefaultEnv(), SystemClock(),
                                       a_.repo, days, access);
  if (!st.ok()) return Fail(st);
  std::cout << "snapshot and timestamp signed anew; publish to release them\n";
  return kExitOk;
}

int ReleaseCommand::Sign() {
  release::KeyAccess access = Access(a_.root_keys);
  WipeAccess wipe{access};
  warden::Status st = release::Resign(platform::DefaultEnv(), SystemClock(),
                                      a_.repo, a_.role, a_.days, access);
  if (!st.ok()) return Fail(st);
  std::cout << a_.role << " signed anew; publish to release it\n";
  return kExitOk;
}

int ReleaseCommand::Rotate() {
  release::RotateOptions options;
  options.role = a_.role;
  options.revoke = a_.revoke;
  if (!a_.pkcs11_key.empty() || !a_.pkcs11_module.empty() ||
      !a_.pkcs11_token.empty()) {
    if (a_.pkcs11_key.size() != 1 || a_.pkcs11_module.empty() ||
        a_.pkcs11_token.empty()) {
      return Usage(
          "a token key needs --pkcs11-module, --pkcs11-token and one "
          "--pkcs11-key");
    }
    options.pkcs11 =
        release::Pkcs11Key{a_.pkcs11_module, a_.pkcs11_token, a_.pkcs11_key[0]};
  }
  release::KeyAccess access = Access(a_.root_keys);
  WipeAccess wipe{access};
  warden::Status st = release::Rotate(platform::DefaultEnv(), SystemClock(),
                                      a_.repo, options, access);
  if (!st.ok()) return Fail(st);
  std::cout << a_.role
            << " key replaced; new root signed; publish to release it\n";
  return kExitOk;
}

int ReleaseCommand::Status() {
  Result<release::RepositoryStatus> s =
      release::GetStatus(platform::DefaultEnv(), a_.repo);
  if (!s.ok()) return Fail(s.status());
  if (a_.json) {
    std::cout << release::ToJson(*s).dump(2, ' ', false,
                                          Json::error_handler_t::replace)
              << "\n";
    return kExitOk;
  }
  for (const release::RoleStatus& r : s->roles) {
    std::cout << r.name << "  version " << r.version << ", expires "
              << tuf::FormatExpires(r.expires) << ", " << r.threshold << " of "
              << r.keyids.size() << " keys\n";
    for (const std::string& id : r.keyids) std::cout << "  key " << id << "\n";
  }
  for (const release::TargetStatus& t : s->targets) {
    std::cout << "target " << Printable(t.name, 256) << "  " << t.length
              << " bytes, sha256 " << t.hashes.at("sha256") << "\n";
    const Json w =
        t.custom.is_object() ? t.custom.value("warden", Json()) : Json();
    if (!w.is_object()) continue;
    for (const char* field :
         {"version", "hardware_model", "min_from_version", "support_until"}) {
      if (w.contains(field) && w[field].is_string()) {
        std::cout << "  " << field << " "
                  << Printable(w[field].get<std::string>(), 256) << "\n";
      }
    }
  }
  return kExitOk;
}

int ReleaseCommand::Publish() {
  warden::Status st = release::Publish(platform::DefaultEnv(), a_.repo, a_.out);
  if (!st.ok()) return Fail(st);
  std::cout << "published " << a_.repo << " into " << a_.out << "\n";
  return kExitOk;
}

}  // namespace warden::cli
