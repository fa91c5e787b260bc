// warden: the owner's and the maker's command-line tool.
//
// Argument parsing and printing only: every operation lives in
// src/client (owner verbs), src/provision (maker verbs), src/assess
// (`warden assess`) and src/tuf (the TUF client, `warden tuf`). Exit status:
// 0 success, 1 a failed operation or check, 2 a usage error (for `assess`:
// 0 conforming, 1 not conforming, 2 could not assess). Errors are one line
// on stderr, "warden: ...".
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "assess/assessor.h"
#include "base/clock.h"
#include "base/rng.h"
#include "base/time_format.h"
#include "cli/assess_outputs.h"
#include "cli/release_cmd.h"
#include "cli/update_verbs.h"
#include "client/api_error.h"
#include "client/home.h"
#include "client/owner.h"
#include "client/registry.h"
#include "crypto/secret.h"
#include "data/receipt.h"
#include "pairing/onboarding.h"
#include "platform/file.h"
#include "provision/maker.h"
#include "provision/provision.h"
#include "provision/validate.h"
#include "schema/json.h"
#include "tuf/updater.h"
#include "updater/fetchers.h"
#include "web/url.h"

namespace warden::cli {
namespace {

using client::Printable;
using schema::Json;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Fail(const Status& status) {
  std::cerr << "warden: " << Printable(status.message(), 2048) << "\n";
  return kExitFailed;
}

int Usage(const std::string& message) {
  std::cerr << "warden: " << message << "\n";
  return kExitUsage;
}

int UsageStatus(const Status& status) { return Usage(status.message()); }

// JSON for a machine: UTF-8 kept, invalid bytes replaced rather than
// thrown on.
std::string MachineJson(const Json& j) {
  return j.dump(2, ' ', false, Json::error_handler_t::replace);
}

// A value for a person: a string as its text, anything else as JSON with
// non-ASCII escaped, never a raw control character.
std::string HumanValue(const Json& v) {
  if (v.is_string()) return Printable(v.get<std::string>(), 4096);
  return v.dump(-1, ' ', true, Json::error_handler_t::replace);
}

std::string TextField(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  return HumanValue(*it);
}

// ---- mfg -------------------------------------------------------------------

// The PIN of a token holding the CA key, from the environment only (as for
// `warden release`): never an argument, which other local users could read.
constexpr char kPinVariable[] = "WARDEN_PKCS11_PIN";

// Where the CA key goes: --kek for the file keystore (the default), or a
// token.
struct CaKeyStoreArgs {
  std::string kek;
  std::string pkcs11_module;
  std::string pkcs11_token;
};

void AddCaKeyStoreOptions(CLI::App* cmd, CaKeyStoreArgs& a) {
  CLI::Option* kek = cmd->add_option(
      "--kek", a.kek,
      "file keystore (the default): the key-encryption key file, made 0600 "
      "when absent (default: <maker dir>.kek beside the maker directory)");
  CLI::Option* module = cmd->add_option(
      "--pkcs11-module", a.pkcs11_module,
      "keep the CA key in a PKCS#11 token: the module (PIN from " +
          std::string(kPinVariable) + ")");
  CLI::Option* token =
      cmd->add_option("--pkcs11-token", a.pkcs11_token, "the token's label");
  module->needs(token);
  token->needs(module);
  kek->excludes(module);
  kek->excludes(token);
}

provision::CaKeyLocation CaKeyLocationOf(const CaKeyStoreArgs& a) {
  provision::CaKeyLocation l;
  if (!a.pkcs11_module.empty()) {
    l.backend = provision::CaKeyBackend::kPkcs11;
    l.pkcs11_module = a.pkcs11_module;
    l.pkcs11_token = a.pkcs11_token;
  } else {
    l.backend = provision::CaKeyBackend::kFile;
    // ca-key.json takes a relative path from the maker directory; one
    // given here is from the working directory.
    std::error_code ec;
    l.kek_path = a.kek.empty() ? std::string()
                               : std::filesystem::absolute(a.kek, ec).string();
    if (ec) l.kek_path = a.kek;
  }
  return l;
}

// Holds the PIN while a command runs and wipes it after.
struct CaKeyAccessFromEnv {
  provision::CaKeyAccess access;
  CaKeyAccessFromEnv() {
    if (const char* pin = std::getenv(kPinVariable)) access.pkcs11_pin = pin;
  }
  ~CaKeyAccessFromEnv() { crypto::Wipe(access.pkcs11_pin); }
};

// A token without a PIN is a usage error, told before anything is done.
std::optional<std::string> MissingPin(const provision::CaKeyLocation& l,
                                      const provision::CaKeyAccess& access) {
  if (l.backend != provision::CaKeyBackend::kPkcs11 ||
      !access.pkcs11_pin.empty()) {
    return std::nullopt;
  }
  return "the CA key is in PKCS#11 token \"" + l.pkcs11_token + "\": set " +
         kPinVariable + " to its PIN";
}

std::string WhereTheKeyIs(const std::string& dir,
                          const provision::CaKeyLocation& l) {
  switch (l.backend) {
    case provision::CaKeyBackend::kFile:
      return "a file keystore in " + dir + "/" + provision::kCaKeystoreDir +
             ", sealed under " + provision::ResolveKekPath(dir, l);
    case provision::CaKeyBackend::kPkcs11:
      return "PKCS#11 token \"" + l.pkcs11_token + "\"";
    case provision::CaKeyBackend::kClearFile:
      break;
  }
  return std::string("the clear file ") + provision::kCaKeyFile;
}

struct MfgInitArgs {
  std::string dir;
  std::string name;
  std::string contact;
  std::string policy;
  std::optional<int> support_years;
  std::optional<std::string> support_end;
  std::vector<std::string> languages;
  std::optional<int> vendor_id;
  std::optional<int> product_id;
  CaKeyStoreArgs key;
};

int RunMfgInit(const MfgInitArgs& a) {
  provision::MakerSettings s;
  s.name = a.name;
  s.contact = a.contact;
  s.policy_url = a.policy;
  if (!a.languages.empty()) s.languages = a.languages;
  if (a.support_years) s.support_years = *a.support_years;
  s.support_end = a.support_end;
  if (a.vendor_id.has_value() != a.product_id.has_value()) {
    return Usage("--vendor-id and --product-id go together");
  }
  if (a.vendor_id) {
    if (*a.vendor_id < 1 || *a.vendor_id > 0xFFFE || *a.product_id < 1 ||
        *a.product_id > 0xFFFE) {
      return Usage("--vendor-id and --product-id must be 1 to 65534");
    }
    s.vendor_id = static_cast<uint16_t>(*a.vendor_id);
    s.product_id = static_cast<uint16_t>(*a.product_id);
  }
  Clock& clock = SystemClock();
  Status valid = provision::ValidateMakerSettings(s, clock.Now());
  if (!valid.ok()) return UsageStatus(valid);
  const provision::CaKeyLocation location = CaKeyLocationOf(a.key);
  CaKeyAccessFromEnv pin;
  if (auto missing = MissingPin(location, pin.access)) return Usage(*missing);
  Status st = provision::InitMaker(a.dir, s, clock, platform::DefaultEnv(),
                                   location, pin.access);
  if (!st.ok()) return Fail(st);
  Result<provision::Maker> maker = provision::LoadMaker(a.dir);
  if (!maker.ok()) return Fail(maker.status());
  std::cout << "maker directory " << a.dir << " created for " << s.name << "\n"
            << "device CA   " << maker->ca_cert.Fingerprint() << "\n"
            << "CA key in   " << WhereTheKeyIs(a.dir, maker->ca_key_location)
            << "\n"
            << "support end " << maker->settings.support_end.value_or("")
            << "\n";
  if (location.backend == provision::CaKeyBackend::kFile) {
    std::cout << "keep " << a.dir << " and "
              << provision::ResolveKekPath(a.dir, maker->ca_key_location)
              << " offline, and back them up apart: together they hold the "
                 "key that vouches for every unit\n";
  } else {
    std::cout << "keep " << a.dir
              << " and the token offline: the token holds the key that "
                 "vouches for every unit\n";
  }
  return kExitOk;
}

struct MfgProvisionArgs {
  std::string maker;
  std::string serial;
  std::string model;
  std::string out;
  std::string firmware_version = "0.1.0";
  std::optional<std::string> label;
  std::optional<std::string> identity_request;
  bool json = false;
};

std::string PasscodeText(uint32_t passcode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08u", passcode);
  return buf;
}

int RunMfgProvision(const MfgProvisionArgs& a) {
  for (const Status& st :
       {provision::ValidateSerial(a.serial), provision::ValidateModel(a.model),
        provision::ValidateFirmwareVersion(a.firmware_version)}) {
    if (!st.ok()) return UsageStatus(st);
  }
  provision::ProvisionRequest request{a.serial, a.model, a.firmware_version};
  struct WipeRequest {
    provision::ProvisionRequest& r;
    ~WipeRequest() { crypto::Wipe(r.ca_key_access.pkcs11_pin); }
  } wipe{request};
  if (const char* pin = std::getenv(kPinVariable)) {
    request.ca_key_access.pkcs11_pin = pin;
  }
  {
    // The maker directory says where its key is; a token needs a PIN.
    auto location =
        provision::ReadCaKeyLocation(a.maker, platform::DefaultEnv());
    if (location.ok()) {
      if (auto missing = MissingPin(*location, request.ca_key_access)) {
        return Usage(*missing);
      }
      if (location->backend == provision::CaKeyBackend::kClearFile) {
        std::cerr << "warden: warning: the CA key of " << a.maker
                  << " is in the clear file " << provision::kCaKeyFile
                  << "; move it into a keystore with 'warden mfg "
                     "import-ca-key --maker "
                  << a.maker << "'\n";
      }
    }
  }
  if (a.identity_request) {
    // A request is a few hundred bytes; the limit keeps a wrong file out.
    auto csr = platform::ReadFile(*a.identity_request, 16 * 1024);
    if (!csr.ok()) return Fail(csr.status());
    request.identity_request = std::move(*csr);
  }
  Result<provision::ProvisionResult> r = provision::ProvisionUnit(
      a.maker, request, a.out, SystemClock(), SystemRng());
  if (!r.ok()) return Fail(r.status());
  if (a.label) {
    Status st = provision::WriteLabel(*a.label, *r, r->info);
    if (!st.ok()) {
      return Fail(st.WithContext("unit " + a.serial + " was provisioned into " +
                                 r->device_dir +
                                 " but its label was not written"));
    }
  }
  std::string passcode = PasscodeText(r->passcode);
  if (a.json) {
    Json out = {{"serial", a.serial},
                {"passcode", passcode},
                {"manual_code", r->manual_code},
                {"qr_payload", r->qr_payload},
                {"device_dir", r->device_dir},
                {"certificate_fingerprint", r->certificate_fingerprint}};
    if (a.label) out["label_dir"] = *a.label;
    std::cout << MachineJson(out) << "\n";
    return kExitOk;
  }
  std::cout << "provisioned " << a.serial << " (" << a.model << ") into "
            << r->device_dir << "\n"
            << "certificate  " << r->certificate_fingerprint << "\n"
            << "setup code   " << passcode << "\n"
            << "manual code  " << pairing::FormatManualCode(r->manual_code)
            << "\n"
            << "QR payload   " << r->qr_payload << "\n";
  Result<std::string> qr = pairing::RenderQrText(r->qr_payload);
  if (qr.ok()) std::cout << *qr;
  if (a.label) std::cout << "label files written to " << *a.label << "\n";
  std::cout << "the setup code is shown only now and on the label; it is "
               "not stored in the unit's directory\n";
  return kExitOk;
}

struct MfgImportArgs {
  std::string maker;
  CaKeyStoreArgs key;
};

int RunMfgImportCaKey(const MfgImportArgs& a) {
  const provision::CaKeyLocation location = CaKeyLocationOf(a.key);
  CaKeyAccessFromEnv pin;
  auto current = provision::ReadCaKeyLocation(a.maker, platform::DefaultEnv());
  if (!current.ok()) return Fail(current.status());
  // Finishing an import that was cut short opens the key where it went.
  const provision::CaKeyLocation& needs =
      current->backend == provision::CaKeyBackend::kClearFile ? location
                                                              : *current;
  if (auto missing = MissingPin(needs, pin.access)) return Usage(*missing);
  Status st = provision::ImportCaKey(a.maker, location, pin.access);
  if (!st.ok()) return Fail(st);
  auto now = provision::ReadCaKeyLocation(a.maker, platform::DefaultEnv());
  if (!now.ok()) return Fail(now.status());
  std::cout << "the CA key of " << a.maker << " is now in "
            << WhereTheKeyIs(a.maker, *now) << "; " << provision::kCaKeyFile
            << " was overwritten and removed\n";
  return kExitOk;
}

// ---- owner verbs
// -------------------------------------------------------------

struct PasswordSource {
  std::optional<std::string> file;
  bool from_stdin = false;
  bool given() const { return file.has_value() || from_stdin; }
};

Result<std::string> ReadPassword(const PasswordSource& src) {
  if (src.file) return client::ReadSecretFile(*src.file);
  return client::ReadSecretStream(stdin);
}

Result<std::string> Home(const std::string& option) {
  std::string home = option;
  if (home.empty()) {
    WARDEN_ASSIGN_OR_RETURN(home, client::DefaultHomeDir());
  }
  WARDEN_TRY(client::EnsureHomeDir(home));
  return home;
}

struct PairArgs {
  std::string url;
  std::optional<std::string> code;  // "-" for standard input
  std::optional<std::string> code_file;
  std::string name;
  std::string owner;
  PasswordSource password;
  bool json = false;
};

// The setup code from where the owner put it: a file, standard input, the
// command line (with a warning: /proc/PID/cmdline is readable by every
// local user) or, when none is given, a prompt without echo.
// kInvalidArgument is the caller's mistake (a usage error).
Result<std::string> ReadSetupCode(PairArgs& a) {
  if (a.code_file) return client::ReadSecretFile(*a.code_file, "setup code");
  if (a.code && *a.code == "-") {
    return client::ReadSecretStream(stdin, "setup code");
  }
  if (a.code) return *a.code;
  if (!isatty(STDIN_FILENO)) {
    return InvalidArgumentError(
        "pair: give the setup code with --code-file FILE or --code - "
        "(standard input), or run on a terminal to be asked for it");
  }
  return client::PromptSecret(stdin,
                              "Setup code (from the label): ", "setup code");
}

int RunPair(const std::string& home_opt, PairArgs& a) {
  Result<web::Url> url = web::ParseUrl(a.url);
  if (!url.ok()) return UsageStatus(url.status());
  if (a.code && a.code_file) {
    return Usage("--code and --code-file go alone: give one of them");
  }
  if (a.code && *a.code == "-" && a.password.from_stdin) {
    return Usage(
        "--code - and --password-stdin cannot both read standard input; "
        "put one of them in a file (--code-file, --password-file)");
  }
  if (!a.name.empty()) {
    Status st = client::ValidateDeviceName(a.name);
    if (!st.ok()) return Usage("--name: " + st.message());
  }
  if (a.owner.size() > 64 ||
      std::any_of(a.owner.begin(), a.owner.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      })) {
    return Usage("--owner: 1 to 64 printable characters");
  }
  Result<std::string> code_text = ReadSetupCode(a);
  if (!code_text.ok()) {
    return code_text.status().code() == Code::kInvalidArgument
               ? UsageStatus(code_text.status())
               : Fail(code_text.status());
  }
  Result<pairing::ParsedCode> code = pairing::ParseSetupCode(*code_text);
  crypto::Wipe(*code_text);
  const bool on_command_line = a.code && *a.code != "-";
  if (a.code) crypto::Wipe(*a.code);
  if (!code.ok()) {
    return Usage("setup code: " + code.status().message());
  }
  if (on_command_line) {
    std::cerr << "warden: warning: a setup code given with --code can be read "
                 "by other local users from the process list; use "
                 "--code-file FILE, --code - (standard input) or the prompt\n";
  }
  std::optional<std::string> password;
  if (a.password.given()) {
    Result<std::string> pw = ReadPassword(a.password);
    if (!pw.ok()) return Fail(pw.status());
    password = std::move(pw).value();
  }
  Result<std::string> home = Home(home_opt);
  if (!home.ok()) return Fail(home.status());
  Result<client::PairResult> r =
      client::PairDevice(*home, a.url, code->passcode, a.name, a.owner,
                         std::move(password), SystemClock(), SystemRng());
  if (!r.ok()) return Fail(r.status());
  if (a.json) {
    std::cout << MachineJson({{"name", r->name},
                              {"owner", r->owner},
                              {"serial", r->serial},
                              {"model", r->model},
                              {"url", url->ToString()},
                              {"fingerprint", r->fingerprint}})
              << "\n";
    return kExitOk;
  }
  std::cout << "paired with " << Printable(r->serial);
  if (!r->model.empty()) std::cout << " (" << Printable(r->model) << ")";
  std::cout << " as " << r->name << "; the device knows you as "
            << Printable(r->owner, 64) << "\n";
  return kExitOk;
}

Json RecordJson(const client::DeviceRecord& d) {
  return {{"name", d.name},
          {"url", d.url.ToString()},
          {"fingerprint", d.fingerprint},
          {"serial", d.serial},
          {"model", d.model},
          {"paired_at", d.paired_at}};
}

int RunStatusList(const std::string& home, bool json) {
  Result<client::Registry> reg = client::Registry::Load(home);
  if (!reg.ok()) return Fail(reg.status());
  if (json) {
    Json list = Json::array();
    for (const auto& [name, d] : reg->devices()) list.push_back(RecordJson(d));
    std::cout << MachineJson({{"devices", list}}) << "\n";
    return kExitOk;
  }
  if (reg->devices().empty()) {
    std::cout << "no paired devices (pair one with: warden pair URL)\n";
    return kExitOk;
  }
  size_t w_name = 4, w_serial = 6, w_model = 5, w_url = 3;
  for (const auto& [name, d] : reg->devices()) {
    w_name = std::max(w_name, name.size());
    w_serial = std::max(w_serial, d.serial.size());
    w_model = std::max(w_model, d.model.size());
    w_url = std::max(w_url, d.url.ToString().size());
  }
  auto row = [&](const std::string& a, const std::string& b,
                 const std::string& c, const std::string& d,
                 const std::string& e) {
    auto pad = [](const std::string& s, size_t w) {
      return s + std::string(w > s.size() ? w - s.size() : 0, ' ');
    };
    std::cout << pad(a, w_name) << "  " << pad(b, w_serial) << "  "
              << pad(c, w_model) << "  " << pad(d, w_url) << "  " << e << "\n";
  };
  row("NAME", "SERIAL", "MODEL", "URL", "PAIRED");
  for (const auto& [name, d] : reg->devices()) {
    row(name, d.serial, d.model, d.url.ToString(), d.paired_at);
  }
  return kExitOk;
}

int RunStatusDevice(const std::string& home, const std::string& name,
                    bool json) {
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, name);
  if (!s.ok()) return Fail(s.status());
  Result<Json> info = s->Info();
  if (!info.ok()) return Fail(info.status());
  Result<Json> state = s->State();
  if (!state.ok() && !json) {
    // The device answered; show what it said before the failure.
    std::cout << name << ": " << TextField(*info, "serial") << " ("
              << TextField(*info, "model") << ") at "
              << s->record().url.ToString() << "\n";
    PrintUpdateInfo(*info);
  }
  if (!state.ok()) return Fail(state.status());
  if (json) {
    std::cout << MachineJson({{"name", name},
                              {"url", s->record().url.ToString()},
                              {"info", *info},
                              {"state", *state}})
              << "\n";
    return kExitOk;
  }
  std::cout << name << ": " << TextField(*info, "serial") << " ("
            << TextField(*info, "model") << ") at "
            << s->record().url.ToString() << "\n"
            << "  maker        " << TextField(*info, "maker") << "\n"
            << "  firmware     " << TextField(*info, "firmware_version") << "\n"
            << "  support end  " << TextField(*info, "support_end") << "\n"
            << "  certificate  " << s->record().fingerprint << "\n";
  PrintUpdateInfo(*info);
  if (state->empty()) {
    std::cout << "state: (none reported)\n";
  } else {
    std::cout << "state:\n";
    for (const auto& [key, value] : state->items()) {
      std::cout << "  " << Printable(key, 64) << " = " << HumanValue(value)
                << "\n";
    }
  }
  return kExitOk;
}

int RunGet(const std::string& home, const std::string& name,
           const std::string& key, bool json) {
  Status valid = client::ValidateKey(key);
  if (!valid.ok()) return UsageStatus(valid);
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, name);
  if (!s.ok()) return Fail(s.status());
  Result<Json> r = s->Get(key);
  if (!r.ok()) return Fail(r.status());
  if (json) {
    std::cout << MachineJson(*r) << "\n";
  } else {
    std::cout << HumanValue((*r)["value"]) << "\n";
  }
  return kExitOk;
}

int RunSet(const std::string& home, const std::string& name,
           const std::string& key, const std::string& value, bool json) {
  Status valid = client::ValidateKey(key);
  if (!valid.ok()) return UsageStatus(valid);
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, name);
  if (!s.ok()) return Fail(s.status());
  Result<Json> r = s->Set(key, client::ParseValueArgument(value));
  if (!r.ok()) return Fail(r.status());
  if (json) {
    std::cout << MachineJson(*r) << "\n";
  } else {
    std::cout << key << " = " << HumanValue((*r)["value"]) << "\n";
  }
  return kExitOk;
}

int RunCaps(const std::string& home, const std::string& name, bool json) {
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, name);
  if (!s.ok()) return Fail(s.status());
  Result<Json> caps = s->Capabilities();
  if (!caps.ok()) return Fail(caps.status());
  if (json) {
    std::cout << MachineJson({{"capabilities", *caps}}) << "\n";
    return kExitOk;
  }
  if (caps->empty()) std::cout << "no capabilities reported\n";
  for (const Json& c : *caps) {
    if (!c.is_object()) continue;
    bool writable = c.contains("writable") && c["writable"].is_boolean() &&
                    c["writable"].get<bool>();
    std::cout << TextField(c, "key")
              << (writable ? "  (read-write)  " : "  (read-only)  ")
              << TextField(c, "description") << "\n";
    if (c.contains("schema")) {
      std::cout << "    schema " << HumanValue(c["schema"]) << "\n";
    }
  }
  return kExitOk;
}

int RunPassword(const std::string& home, const std::string& name,
                const PasswordSource& src) {
  Result<std::string> pw = ReadPassword(src);
  if (!pw.ok()) return Fail(pw.status());
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, name);
  if (!s.ok()) {
    crypto::Wipe(*pw);
    return Fail(s.status());
  }
  Status st = s->SetPassword(std::move(pw).value());
  if (!st.ok()) return Fail(st);
  std::cout << "password changed on " << name << "\n";
  return kExitOk;
}

int RunReset(const std::string& home, const std::string& name, bool yes,
             bool json, bool transfer, const std::string& receipt_out) {
  if (!receipt_out.empty() && !transfer) {
    return Usage("--receipt needs --transfer: only a transfer deletes data");
  }
  if (!yes) {
    if (!isatty(STDIN_FILENO)) {
      return Usage("reset removes every owner from " + name +
                   "; confirm with --yes");
    }
    std::cerr << "Reset " << name << "? It will forget every owner and password"
              << (transfer ? " and delete all its personal data" : "")
              << "; pairing again needs the code on its label. [y/N] "
              << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      std::cerr << "warden: reset cancelled\n";
      return kExitFailed;
    }
  }
  Json deletion;
  Status st = client::ResetDevice(home, name, transfer, &deletion);
  if (!st.ok()) return Fail(st);
  if (!receipt_out.empty()) {
    const Json receipt = deletion.value("receipt", Json());
    if (!receipt.is_object()) {
      return Fail(
          UnavailableError("the device was reset, but it gave no receipt"));
    }
    Status kept =
        platform::WriteFileAtomic(receipt_out, receipt.dump(2) + "\n", 0644);
    if (!kept.ok()) return Fail(kept);
  }
  if (json) {
    Json out = {{"name", name}, {"paired", false}};
    if (transfer) out["deletion"] = deletion;
    std::cout << MachineJson(out) << "\n";
    return kExitOk;
  }
  if (transfer) {
    std::cout << "deleted all personal data on " << name << " (destroyed "
              << deletion.value("keys_destroyed", int64_t{0})
              << " data keys); ";
  }
  std::cout << "reset " << name
            << ": it has no owner now and was removed from the registry\n";
  return kExitOk;
}

int RunShare(const std::string& home, const std::string& name, int minutes,
             bool admin, bool json) {
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, name);
  if (!s.ok()) return Fail(s.status());
  Result<int64_t> until = s->OpenPairing(minutes, admin);
  if (!until.ok()) return Fail(until.status());
  const char* role = admin ? "admin" : "member";
  if (json) {
    std::cout << MachineJson(
                     {{"name", name}, {"open_until", *until}, {"role", role}})
              << "\n";
    return kExitOk;
  }
  std::cout << name << " accepts one more owner, as " << (admin ? "an " : "a ")
            << (admin ? "administrator" : "member") << ", until "
            << FormatTimestamp(FromUnixSeconds(*until))
            << "; they pair with the code on its label\n";
  return kExitOk;
}

// Overwrites a setup code given on the command line in our own argv, which
// is what /proc/PID/cmdline shows: CLI11 holds its own copy by now. This
// only shortens the time others can read it; the warning stays.
void ScrubCodeArgument(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    char* value = nullptr;
    if (arg == "--code" && i + 1 < argc) {
      value = argv[i + 1];
    } else if (arg.rfind("--code=", 0) == 0) {
      value = argv[i] + 7;
    }
    if (value != nullptr && std::string_view(value) != "-") {
      std::memset(value, 'x', std::strlen(value));
    }
  }
}

int RunOwners(const std::string& home, const std::string& name,
              const std::optional<std::string>& remove, bool json) {
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, name);
  if (!s.ok()) return Fail(s.status());
  if (remove) {
    Status st = s->RemoveOwner(*remove);
    if (!st.ok()) return Fail(st);
    if (json) {
      std::cout << MachineJson({{"name", name}, {"removed", *remove}}) << "\n";
    } else {
      std::cout << "removed " << Printable(*remove, 64) << " from " << name
                << "\n";
    }
    return kExitOk;
  }
  Result<Json> owners = s->Owners();
  if (!owners.ok()) return Fail(owners.status());
  if (json) {
    std::cout << MachineJson({{"name", name},
                              {"owners", (*owners)["owners"]},
                              {"you", (*owners).value("you", "")}})
              << "\n";
    return kExitOk;
  }
  const std::string you = TextField(*owners, "you");
  for (const Json& o : (*owners)["owners"]) {
    if (!o.is_object()) continue;
    const std::string owner = TextField(o, "name");
    std::cout << owner << "  " << TextField(o, "role")
              << (owner == you ? "  (you)" : "") << "\n";
  }
  return kExitOk;
}

struct DataArgs {
  std::string name;
  bool yes = false;
  bool json = false;
  std::string receipt_out;  // delete: where to write the receipt
  std::string receipt;      // verify-receipt: the file
  std::string device_cert;  // verify-receipt: the device's certificate
};

int RunDataInventory(const std::string& home, const DataArgs& a) {
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, a.name);
  if (!s.ok()) return Fail(s.status());
  Result<Json> inv = s->DataInventory();
  if (!inv.ok()) return Fail(inv.status());
  if (a.json) {
    std::cout << MachineJson({{"name", a.name},
                              {"kinds", (*inv)["kinds"]},
                              {"kept_by_wardend",
                               inv->value("kept_by_wardend", Json::array())}})
              << "\n";
    return kExitOk;
  }
  Json kinds = (*inv)["kinds"];
  if (!kinds.is_array()) kinds = Json::array();
  const Json own = inv->value("kept_by_wardend", Json::array());
  if (own.is_array()) {
    for (const Json& k : own) kinds.push_back(k);
  }
  for (const Json& k : kinds) {
    if (!k.is_object()) continue;
    const int64_t retention = k.value("retention_seconds", int64_t{0});
    std::cout << Printable(TextField(k, "name"), 64) << "  "
              << Printable(TextField(k, "category"), 32) << "  kept "
              << (retention >= 86400 ? std::to_string(retention / 86400) + " d"
                                     : std::to_string(retention) + " s")
              << (k.value("may_leave_device", false) ? "  may leave the device"
                                                     : "  stays on the device")
              << "\n    " << Printable(TextField(k, "purpose"), 256) << "\n";
  }
  return kExitOk;
}

// Most event log entries read from one device: its log holds far fewer.
constexpr size_t kMaxEventEntries = 200'000;

// `page` ({"entries", "next"}) followed by every page after it, as one
// {"entries": [...]}. A device whose "next" does not move forward, or that
// gives more than kMaxEventEntries, is refused rather than followed.
Result<Json> AllEvents(client::DeviceSession& s, Json page) {
  Json entries = Json::array();
  int64_t cursor = 0;
  while (true) {
    if (!page.is_object() || !page.contains("entries") ||
        !page["entries"].is_array()) {
      return UnavailableError("the device's event log reply is malformed");
    }
    for (Json& e : page["entries"]) entries.push_back(std::move(e));
    if (entries.size() > kMaxEventEntries) {
      return ResourceExhaustedError("the device's event log is too long");
    }
    const Json next = page.value("next", Json());
    if (next.is_null()) break;
    if (!next.is_number_integer() || next.get<int64_t>() <= cursor) {
      return UnavailableError("the device's event log pages do not advance");
    }
    cursor = next.get<int64_t>();
    WARDEN_ASSIGN_OR_RETURN(page, s.DataEvents(cursor));
  }
  return Json{{"entries", std::move(entries)}};
}

int RunDataExport(const std::string& home, const DataArgs& a) {
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, a.name);
  if (!s.ok()) return Fail(s.status());
  Result<Json> out = s->DataExport();
  if (!out.ok()) return Fail(out.status());
  if (out->contains("event_log")) {
    Result<Json> events = AllEvents(*s, (*out)["event_log"]);
    if (!events.ok()) return Fail(events.status());
    (*out)["event_log"] = std::move(*events);
  }
  std::cout << MachineJson(*out) << "\n";
  return kExitOk;
}

// An entry's time, as UTC in ISO 8601.
std::string UtcTime(int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(seconds);
  char text[32];
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return std::to_string(seconds);
  }
  return text;
}

int RunDataEvents(const std::string& home, const DataArgs& a) {
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, a.name);
  if (!s.ok()) return Fail(s.status());
  Result<Json> first = s->DataEvents(0);
  if (!first.ok()) return Fail(first.status());
  Result<Json> all = AllEvents(*s, std::move(*first));
  if (!all.ok()) return Fail(all.status());
  if (a.json) {
    std::cout << MachineJson({{"name", a.name}, {"entries", (*all)["entries"]}})
              << "\n";
    return kExitOk;
  }
  // One line per entry, as the journal shows it, with each personal
  // value beside the pseudonym the journal has in its place.
  for (const Json& e : (*all)["entries"]) {
    if (!e.is_object()) continue;
    std::cout << UtcTime(e.value("time", int64_t{0})) << " "
              << TextField(e, "severity") << " " << TextField(e, "category")
              << " " << TextField(e, "kind");
    if (e.contains("fields") && e["fields"].is_array()) {
      for (const Json& f : e["fields"]) {
        if (!f.is_object()) continue;
        std::cout << " " << TextField(f, "name") << "="
                  << TextField(f, "value");
        if (f.value("personal", false)) {
          std::cout << " (" << TextField(f, "pseudonym") << ")";
        }
      }
    }
    std::cout << "\n";
  }
  return kExitOk;
}

int RunDataDelete(const std::string& home, const DataArgs& a) {
  if (!a.yes) {
    if (!isatty(STDIN_FILENO)) {
      return Usage("data delete erases all personal data on " + a.name +
                   "; confirm with --yes");
    }
    std::cerr << "Delete all personal data on " << a.name
              << "? It cannot be undone. [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      std::cerr << "warden: deletion cancelled\n";
      return kExitFailed;
    }
  }
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, a.name);
  if (!s.ok()) return Fail(s.status());
  Result<Json> done = s->DataDelete();
  if (!done.ok()) return Fail(done.status());
  const Json receipt = done->value("receipt", Json());
  if (!a.receipt_out.empty()) {
    if (!receipt.is_object()) {
      return Fail(UnavailableError(
          "the data was deleted, but the device gave no receipt"));
    }
    Status st =
        platform::WriteFileAtomic(a.receipt_out, receipt.dump(2) + "\n", 0644);
    if (!st.ok()) return Fail(st);
  }
  if (a.json) {
    std::cout << MachineJson({{"name", a.name}, {"deletion", *done}}) << "\n";
    return kExitOk;
  }
  int64_t records = 0;
  for (const Json& k : (*done)["kinds"]) {
    if (k.is_object()) records += k.value("records", int64_t{0});
  }
  std::cout << "deleted " << records << " records of "
            << (*done)["kinds"].size() << " kinds on " << a.name
            << "; destroyed " << done->value("keys_destroyed", int64_t{0})
            << " data keys\n";
  return kExitOk;
}

// Fetches the device's kept receipts, checks each against the certificate
// pinned at pairing and prints what each says; with --out DIR each is also
// written to DIR/receipt-N.json (1 the newest). Exit 1 if any does not
// verify.
int RunDataReceipts(const std::string& home, const DataArgs& a) {
  Result<client::DeviceSession> s = client::DeviceSession::Open(home, a.name);
  if (!s.ok()) return Fail(s.status());
  Result<client::Registry> reg = client::Registry::Load(home);
  if (!reg.ok()) return Fail(reg.status());
  Result<client::DeviceRecord> record = reg->Find(a.name);
  if (!record.ok()) return Fail(record.status());
  Result<Json> got = s->DataReceipts();
  if (!got.ok()) return Fail(got.status());
  Json listed = Json::array();
  bool all_valid = true;
  size_t n = 0;
  for (const Json& receipt : (*got)["receipts"]) {
    ++n;
    const std::string text = receipt.dump(2) + "\n";
    if (!a.receipt_out.empty()) {
      Status written = platform::WriteFileAtomic(
          a.receipt_out + "/receipt-" + std::to_string(n) + ".json", text,
          0644);
      if (!written.ok()) return Fail(written);
    }
    Result<data::Receipt> r =
        data::VerifyReceiptPinned(text, record->fingerprint);
    all_valid = all_valid && r.ok();
    if (a.json) {
      Json item = {{"valid", r.ok()}};
      if (r.ok()) {
        int64_t records = 0;
        for (const auto& k : r->deletion.kinds) records += k.records;
        item["records"] = records;
        item["requested_by"] = r->deletion.requested_by;
        item["completed_at"] = r->deletion.completed_at;
        item["unpaired"] = r->deletion.unpaired;
      } else {
        item["error"] = r.status().message();
      }
      listed.push_back(std::move(item));
      continue;
    }
    if (!r.ok()) {
      std::cout << n << ": NOT VALID: " << Printable(r.status().message(), 256)
                << "\n";
      continue;
    }
    int64_t records = 0;
    for (const auto& k : r->deletion.kinds) records += k.records;
    std::cout << n << ": valid: deleted " << records << " records at "
              << r->deletion.completed_at << " (unix time), asked by "
              << Printable(r->deletion.requested_by, 128)
              << (r->deletion.unpaired ? "; the device was unpaired too" : "")
              << "\n";
  }
  if (a.json) {
    std::cout << MachineJson({{"name", a.name}, {"receipts", listed}}) << "\n";
  } else if (n == 0) {
    std::cout << "no deletion receipts on " << Printable(a.name, 64) << "\n";
  }
  return all_valid ? kExitOk : kExitFailed;
}

int RunVerifyReceipt(const std::string& home_opt, const DataArgs& a) {
  Result<std::string> text =
      platform::ReadFile(a.receipt, data::kMaxReceiptSize);
  if (!text.ok()) return Fail(text.status());
  Result<data::Receipt> r = InvalidArgumentError("no device");
  if (!a.device_cert.empty()) {
    Result<std::string> pem = platform::ReadFile(a.device_cert, 64 * 1024);
    if (!pem.ok()) return Fail(pem.status());
    Result<crypto::Certificate> cert = crypto::Certificate::FromPem(*pem);
    if (!cert.ok()) return Fail(cert.status().WithContext(a.device_cert));
    r = data::VerifyReceipt(*text, *cert);
  } else {
    Result<std::string> home = Home(home_opt);
    if (!home.ok()) return Fail(home.status());
    Result<client::Registry> reg = client::Registry::Load(*home);
    if (!reg.ok()) return Fail(reg.status());
    Result<client::DeviceRecord> record = reg->Find(a.name);
    if (!record.ok()) return Fail(record.status());
    r = data::VerifyReceiptPinned(*text, record->fingerprint);
  }
  if (!r.ok()) return Fail(r.status());
  int64_t records = 0;
  for (const auto& k : r->deletion.kinds) records += k.records;
  if (a.json) {
    Json kinds = Json::array();
    for (const auto& k : r->deletion.kinds) {
      kinds.push_back({{"name", k.name}, {"records", k.records}});
    }
    std::cout << MachineJson({{"valid", true},
                              {"serial", r->serial},
                              {"kinds", kinds},
                              {"requested_by", r->deletion.requested_by},
                              {"completed_at", r->deletion.completed_at},
                              {"unpaired", r->deletion.unpaired}})
              << "\n";
    return kExitOk;
  }
  std::cout << "valid: " << Printable(r->serial, 64) << " deleted " << records
            << " records of " << r->deletion.kinds.size() << " kinds at "
            << r->deletion.completed_at << " (unix time), asked by "
            << Printable(r->deletion.requested_by, 128)
            << (r->deletion.unpaired
                    ? "; the device was unpaired in the same step"
                    : "")
            << "\n";
  return kExitOk;
}

struct AssessArgs {
  std::string target;
  std::string declaration;
  std::string out;
  std::string ports = "1-65535";
  bool json = false;
};

Result<std::pair<uint16_t, uint16_t>> ParsePorts(const std::string& text) {
  const size_t dash = text.find('-');
  const std::string lo = text.substr(0, dash);
  const std::string hi = dash == std::string::npos ? lo : text.substr(dash + 1);
  auto number = [](const std::string& s) -> long {
    if (s.empty() || s.size() > 5) return -1;
    for (char c : s) {
      if (c < '0' || c > '9') return -1;
    }
    return std::stol(s);
  };
  const long a = number(lo), b = number(hi);
  if (a < 1 || b < 1 || a > 65535 || b > 65535 || a > b) {
    return InvalidArgumentError("--ports: give FIRST-LAST within 1-65535");
  }
  return std::make_pair(static_cast<uint16_t>(a), static_cast<uint16_t>(b));
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", s);
  return buf;
}

int RunAssess(const AssessArgs& args) {
  Result<assess::Target> target = assess::ParseTarget(args.target);
  if (!target.ok()) return UsageStatus(target.status());
  Result<std::pair<uint16_t, uint16_t>> ports = ParsePorts(args.ports);
  if (!ports.ok()) return UsageStatus(ports.status());
  std::optional<assess::Declaration> declaration;
  if (!args.declaration.empty()) {
    Result<std::string> text =
        platform::ReadFile(args.declaration, assess::kMaxDeclarationBytes);
    if (!text.ok()) return UsageStatus(text.status());
    Result<assess::Declaration> d = assess::ParseDeclaration(*text);
    if (!d.ok()) {
      return UsageStatus(d.status().WithContext(args.declaration));
    }
    declaration = std::move(*d);
  }
  assess::AssessOptions options;
  options.scan.first_port = ports->first;
  options.scan.last_port = ports->second;
  Result<assess::Report> report = assess::Assess(*target, declaration, options);
  if (!report.ok()) {
    std::cerr << "warden: cannot assess " << Printable(args.target, 256) << ": "
              << Printable(report.status().message(), 2048) << "\n";
    return kExitUsage;
  }
  const Json j = assess::ToJson(*report);
  if (!args.out.empty()) {
    Status st = WriteAssessOutputs(args.out, j, assess::ToSarif(*report));
    if (!st.ok()) return Fail(st);
  }
  const bool conforming = assess::Conforming(*report);
  if (args.json) {
    std::cout << MachineJson(j) << "\n";
  } else {
    std::cout << "assessment of " << Printable(report->target, 256) << " ("
              << report->address << ")\n";
    for (const assess::TestGroup& g : report->groups) {
      for (const assess::TestUnit& u : g.units) {
        std::string verdict(assess::VerdictName(u.verdict));
        verdict.resize(std::max<size_t>(verdict.size(), 14), ' ');
        std::cout << verdict << " " << u.id << "  " << Printable(u.finding, 400)
                  << "\n";
      }
    }
    std::cout << "guidelines:";
    for (const assess::Crosswalk& c : assess::CrosswalkTable()) {
      const assess::Verdict v = assess::GuidelineVerdict(*report, c.guideline);
      if (v == assess::Verdict::kNotApplicable) continue;
      std::cout << " " << c.guideline << "=" << assess::VerdictName(v);
    }
    std::cout << "\nresult: " << (conforming ? "conforming" : "not conforming")
              << " (" << j["counts"]["PASS"] << " pass, " << j["counts"]["FAIL"]
              << " fail, " << j["counts"]["INCONCLUSIVE"]
              << " inconclusive) in " << Seconds(report->duration_seconds)
              << " s\n";
    if (!args.out.empty()) {
      std::cout << "report: " << platform::JoinPath(args.out, "report.json")
                << ", report.sarif, report.html, label.svg, label.png\n";
    }
  }
  return conforming ? kExitOk : kExitFailed;
}

// ---- tuf -------------------------------------------------------------------

// The client-under-test protocol of the tuf-conformance suite
// (CLIENT-CLI.md): exit 0 when the whole command succeeded, 1 otherwise.
struct TufArgs {
  std::string metadata_dir;
  std::string metadata_url;
  std::vector<std::string> target_names;
  std::string target_base_url;
  std::string target_dir;
  std::string trusted_root;
};

int TufFail(const Status& status) {
  std::cerr << "warden tuf: " << Printable(status.message(), 2048) << "\n";
  return kExitFailed;
}

int RunTufInit(const TufArgs& a) {
  const tuf::UpdaterOptions options;
  Result<std::string> root =
      platform::ReadFile(a.trusted_root, options.root_max_length);
  if (!root.ok()) return TufFail(root.status());
  Status s = tuf::Updater::Initialize(platform::DefaultEnv(), a.metadata_dir,
                                      *root, options);
  if (!s.ok()) return TufFail(s);
  std::cerr << "warden tuf: trusted root stored in " << a.metadata_dir << "\n";
  return kExitOk;
}

int RunTufUpdate(const TufArgs& a, bool download) {
  // Plain http too: TUF checks every byte against signed metadata.
  net::HttpsOptions http;
  http.allow_plain_http = true;
  http.user_agent = "warden-tuf";
  Result<updater::HttpFetcher> fetcher =
      updater::HttpFetcher::Create(std::move(http));
  if (!fetcher.ok()) return TufFail(fetcher.status());
  Result<std::unique_ptr<tuf::Updater>> u =
      tuf::Updater::Open(platform::DefaultEnv(), SystemClock(), *fetcher,
                         a.metadata_dir, a.metadata_url, a.target_base_url);
  if (!u.ok()) return TufFail(u.status());
  tuf::Updater& updater = **u;
  Status s = updater.Refresh();
  if (!s.ok()) return TufFail(s);
  std::cerr << "warden tuf: refreshed: root " << updater.root().version
            << ", timestamp " << updater.timestamp()->version << ", snapshot "
            << updater.snapshot()->version << ", targets "
            << updater.targets("targets")->version << "\n";
  if (!download) return kExitOk;
  for (const std::string& name : a.target_names) {
    Result<tuf::TargetInfo> info = updater.GetTargetInfo(name);
    if (!info.ok()) return TufFail(info.status());
    const std::string path =
        platform::JoinPath(a.target_dir, tuf::QuoteName(name));
    if (updater.IsCached(*info, path)) {
      std::cerr << "warden tuf: " << Printable(name, 256) << " is cached\n";
      continue;
    }
    s = updater.DownloadTargetToFile(*info, path);
    if (!s.ok()) return TufFail(s);
    std::cerr << "warden tuf: downloaded " << Printable(name, 256) << " ("
              << info->file.length << " bytes)\n";
  }
  return kExitOk;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "warden: pair with and manage Warden devices, and provision them on "
      "the production line",
      "warden"};
  app.require_subcommand(1);
  app.fallthrough();
  std::string home;
  app.add_option("--home", home,
                 "owner directory (default $XDG_CONFIG_HOME/warden, else "
                 "$HOME/.config/warden)");

  // mfg
  CLI::App* mfg = app.add_subcommand("mfg", "maker keys and unit provisioning");
  mfg->require_subcommand(1);
  MfgInitArgs init;
  CLI::App* mfg_init = mfg->add_subcommand(
      "init", "create a maker directory with its device CA");
  mfg_init->add_option("--dir", init.dir, "maker directory to create")
      ->required();
  mfg_init->add_option("--name", init.name, "maker name")->required();
  mfg_init
      ->add_option("--contact", init.contact,
                   "vulnerability contact (mailto: or https:)")
      ->required();
  mfg_init
      ->add_option("--policy", init.policy,
                   "vulnerability disclosure policy URL")
      ->required();
  CLI::Option* years =
      mfg_init->add_option("--support-years", init.support_years,
                           "years of security updates from today (default 5)");
  CLI::Option* end =
      mfg_init->add_option("--support-end", init.support_end,
                           "last day of security updates, YYYY-MM-DD");
  years->excludes(end);
  mfg_init->add_option("--language", init.languages,
                       "preferred language tag for reports (repeatable)");
  CLI::Option* vid = mfg_init->add_option("--vendor-id", init.vendor_id,
                                          "vendor ID for the QR payload");
  CLI::Option* pid = mfg_init->add_option("--product-id", init.product_id,
                                          "product ID for the QR payload");
  vid->needs(pid);
  pid->needs(vid);
  AddCaKeyStoreOptions(mfg_init, init.key);

  MfgProvisionArgs prov;
  CLI::App* mfg_prov = mfg->add_subcommand(
      "provision", "give one unit its identity and setup code");
  mfg_prov->add_option("--maker", prov.maker, "maker directory")->required();
  mfg_prov->add_option("--serial", prov.serial, "unit serial")->required();
  mfg_prov->add_option("--model", prov.model, "model name")->required();
  mfg_prov->add_option("--out", prov.out, "unit state directory to create")
      ->required();
  mfg_prov->add_option("--firmware-version", prov.firmware_version,
                       "firmware version (default 0.1.0)");
  mfg_prov->add_option("--label", prov.label,
                       "write label.txt and qr.svg into this directory");
  mfg_prov->add_option("--identity-request", prov.identity_request,
                       "certify the key the unit made in its own keystore, "
                       "from the request 'wardend --identity-request' wrote; "
                       "no identity.key is written");
  mfg_prov->add_flag("--json", prov.json, "print the result as JSON");

  MfgImportArgs import;
  CLI::App* mfg_import = mfg->add_subcommand(
      "import-ca-key",
      "move the clear ca.key of a maker directory made before keystores into "
      "a keystore, then overwrite and remove it");
  mfg_import->add_option("--maker", import.maker, "maker directory")
      ->required();
  AddCaKeyStoreOptions(mfg_import, import.key);

  // pair
  PairArgs pair;
  CLI::App* pair_cmd =
      app.add_subcommand("pair", "pair with a device using its setup code");
  pair_cmd->add_option("url", pair.url, "device address, https://HOST:PORT")
      ->required();
  CLI::Option* code_opt = pair_cmd->add_option(
      "--code", pair.code,
      "setup code (8-digit passcode, 11-digit manual code or MT: QR "
      "payload), or - to read it from standard input; on the command line "
      "other local users can read it. Without --code or --code-file, warden "
      "asks for it");
  CLI::Option* code_file_opt =
      pair_cmd->add_option("--code-file", pair.code_file,
                           "read the setup code from FILE (one line)");
  code_opt->excludes(code_file_opt);
  pair_cmd->add_option("--name", pair.name,
                       "name for the device (default: its serial)");
  pair_cmd->add_option("--owner", pair.owner,
                       "name the device knows you by (default: USER@HOST)");
  CLI::Option* pw_file = pair_cmd->add_option(
      "--password-file", pair.password.file,
      "set an owner password (for browser logins) read from FILE");
  CLI::Option* pw_stdin =
      pair_cmd->add_flag("--password-stdin", pair.password.from_stdin,
                         "set an owner password read from standard input");
  pw_file->excludes(pw_stdin);
  pair_cmd->add_flag("--json", pair.json, "print the result as JSON");

  // status
  std::string status_name;
  bool status_json = false;
  CLI::App* status_cmd = app.add_subcommand(
      "status", "list paired devices, or show one device's info and state");
  status_cmd->add_option("name", status_name, "device name");
  status_cmd->add_flag("--json", status_json, "print JSON");

  // update
  UpdateArgs update_args;
  CLI::App* update_cmd = app.add_subcommand(
      "update", "install the newest release on a device, or defer it");
  update_cmd->add_option("name", update_args.name, "device name")->required();
  update_cmd->add_option("--from", update_args.from,
                         "a copy of the update repository (the published "
                         "layout) to upload to the device and install from");
  update_cmd->add_flag("--check", update_args.check,
                       "only check (installs when the device updates "
                       "automatically)");
  update_cmd
      ->add_option("--defer", update_args.defer_hours,
                   "defer automatic installs by HOURS")
      ->check(CLI::Range(0, 8760));
  update_cmd->add_flag("--reinstall", update_args.reinstall,
                       "in safe mode: restore the last good release");
  update_cmd->add_flag("--status", update_args.status,
                       "only show the update status");
  update_cmd->add_flag("--json", update_args.json, "print JSON");

  // get / set
  std::string get_name, get_key;
  bool get_json = false;
  CLI::App* get_cmd = app.add_subcommand("get", "read one capability");
  get_cmd->add_option("name", get_name, "device name")->required();
  get_cmd->add_option("key", get_key, "capability key")->required();
  get_cmd->add_flag("--json", get_json, "print JSON");

  std::string set_name, set_key, set_value;
  bool set_json = false;
  CLI::App* set_cmd = app.add_subcommand(
      "set", "write one capability (VALUE is JSON if it parses, else text)");
  set_cmd->add_option("name", set_name, "device name")->required();
  set_cmd->add_option("key", set_key, "capability key")->required();
  set_cmd->add_option("value", set_value, "new value")->required();
  set_cmd->add_flag("--json", set_json, "print JSON");

  // reset
  std::string reset_name;
  bool reset_yes = false;
  CLI::App* reset_cmd = app.add_subcommand(
      "reset", "make a device forget its owners and unregister it");
  reset_cmd->add_option("name", reset_name, "device name")->required();
  reset_cmd->add_flag("--yes,-y", reset_yes, "do not ask for confirmation");
  bool reset_json = false;
  reset_cmd->add_flag("--json", reset_json, "print JSON");
  bool reset_transfer = false;
  reset_cmd->add_flag("--transfer", reset_transfer,
                      "also delete all personal data, in the same step (for "
                      "a new owner); the device returns a signed receipt");
  std::string reset_receipt;
  reset_cmd->add_option("--receipt", reset_receipt,
                        "with --transfer: write the receipt to FILE");

  // share
  std::string share_name;
  int share_minutes = 10;
  CLI::App* share_cmd = app.add_subcommand(
      "share", "let one more owner pair with the device's label code");
  share_cmd->add_option("name", share_name, "device name")->required();
  share_cmd->add_option("--minutes", share_minutes, "how long (1..30)")
      ->check(CLI::Range(1, 30));
  bool share_json = false;
  share_cmd->add_flag("--json", share_json, "print JSON");
  bool share_admin = false;
  share_cmd->add_flag("--admin", share_admin,
                      "admit an administrator (default: a member, who cannot "
                      "reset, admit or remove owners)");

  // owners
  std::string owners_name;
  std::optional<std::string> owners_remove;
  bool owners_json = false;
  CLI::App* owners_cmd = app.add_subcommand(
      "owners", "list a device's owners, or remove one (administrators)");
  owners_cmd->add_option("name", owners_name, "device name")->required();
  owners_cmd->add_option("--remove", owners_remove, "owner to remove");
  owners_cmd->add_flag("--json", owners_json, "print JSON");

  // data
  DataArgs data_args;
  CLI::App* data_cmd = app.add_subcommand(
      "data",
      "the personal data a device keeps: inventory, export, events, delete");
  data_cmd->require_subcommand(1);
  CLI::App* data_inventory = data_cmd->add_subcommand(
      "inventory", "what kinds of personal data the device keeps, and why");
  CLI::App* data_export = data_cmd->add_subcommand(
      "export", "print every personal record the device holds, as JSON");
  CLI::App* data_events = data_cmd->add_subcommand(
      "events",
      "print the device's event log with the personal values its system log "
      "shows as pseudonyms");
  CLI::App* data_delete = data_cmd->add_subcommand(
      "delete", "erase all personal data (administrators)");
  for (CLI::App* sub :
       {data_inventory, data_export, data_events, data_delete}) {
    sub->add_option("name", data_args.name, "device name")->required();
  }
  data_delete->add_option("--receipt", data_args.receipt_out,
                          "write the device's signed receipt to FILE");
  CLI::App* data_receipts = data_cmd->add_subcommand(
      "receipts",
      "fetch and check the device's receipts of its last deletions");
  data_receipts->alias("receipt");
  data_receipts->add_option("name", data_args.name, "device name")->required();
  data_receipts->add_option("--out", data_args.receipt_out,
                            "also write each receipt to DIR/receipt-N.json");
  data_receipts->add_flag("--json", data_args.json, "print JSON");
  CLI::App* data_verify = data_cmd->add_subcommand(
      "verify-receipt",
      "check a deletion receipt's signature against the device's "
      "certificate (--device-cert) or the one pinned for device NAME");
  data_verify->add_option("receipt", data_args.receipt, "receipt file")
      ->required();
  CLI::Option* verify_name =
      data_verify->add_option("name", data_args.name, "device name");
  CLI::Option* verify_cert = data_verify->add_option(
      "--device-cert", data_args.device_cert, "the device's certificate (PEM)");
  verify_name->excludes(verify_cert);
  data_verify->add_flag("--json", data_args.json, "print JSON");
  data_inventory->add_flag("--json", data_args.json, "print JSON");
  data_events->add_flag("--json", data_args.json, "print JSON");
  data_delete->add_flag("--json", data_args.json, "print JSON");
  data_delete->add_flag("--yes,-y", data_args.yes,
                        "do not ask for confirmation");

  // password
  std::string password_name;
  PasswordSource password_src;
  CLI::App* password_cmd = app.add_subcommand(
      "password", "set the owner password used for browser logins");
  password_cmd->add_option("name", password_name, "device name")->required();
  CLI::Option* p_file = password_cmd->add_option(
      "--password-file", password_src.file, "read the password from FILE");
  CLI::Option* p_stdin =
      password_cmd->add_flag("--password-stdin", password_src.from_stdin,
                             "read the password from standard input");
  p_file->excludes(p_stdin);

  // caps
  std::string caps_name;
  bool caps_json = false;
  CLI::App* caps_cmd =
      app.add_subcommand("caps", "list a device's capabilities");
  caps_cmd->add_option("name", caps_name, "device name")->required();
  caps_cmd->add_flag("--json", caps_json, "print JSON");

  // assess
  AssessArgs assess_args;
  CLI::App* assess_cmd = app.add_subcommand(
      "assess",
      "assess a device against the Code of Practice (exit 0 conforming, 1 "
      "not conforming, 2 could not assess)");
  assess_cmd
      ->add_option("target", assess_args.target,
                   "host name, address or URL of the device")
      ->required();
  assess_cmd->add_option("--declaration", assess_args.declaration,
                         "the maker's declaration (JSON)");
  assess_cmd->add_option("--out", assess_args.out,
                         "directory for report.json, report.sarif, "
                         "report.html, label.svg and label.png");
  assess_cmd->add_option("--ports", assess_args.ports,
                         "TCP ports to scan, FIRST-LAST (default 1-65535)");
  assess_cmd->add_flag("--json", assess_args.json, "print the JSON report");
  LabelArgs label_args;
  AddLabelCommands(app, label_args);
  // tuf
  TufArgs tuf_args;
  CLI::App* tuf_cmd = app.add_subcommand(
      "tuf", "TUF client: keep trusted metadata and download targets");
  tuf_cmd->require_subcommand(1);
  tuf_cmd
      ->add_option("--metadata-dir", tuf_args.metadata_dir,
                   "directory of the trusted metadata")
      ->required();
  tuf_cmd->add_option("--metadata-url", tuf_args.metadata_url,
                      "base URL of the repository's metadata");
  tuf_cmd->add_option("--target-name", tuf_args.target_names,
                      "target path to download (repeatable, in order)");
  tuf_cmd->add_option("--target-base-url", tuf_args.target_base_url,
                      "base URL of the repository's targets");
  tuf_cmd->add_option("--target-dir", tuf_args.target_dir,
                      "directory for downloaded targets");
  CLI::App* tuf_init = tuf_cmd->add_subcommand(
      "init", "store a trusted root (no network access)");
  tuf_init->add_option("root", tuf_args.trusted_root, "initial root.json")
      ->required();
  CLI::App* tuf_refresh = tuf_cmd->add_subcommand(
      "refresh", "update the top-level metadata from the repository");
  CLI::App* tuf_download = tuf_cmd->add_subcommand(
      "download", "refresh, then download and verify each --target-name");

  ReleaseCommand release_cmd(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Usage(e.what());
  }

  try {
    if (assess_cmd->parsed()) return RunAssess(assess_args);
    if (label_args.label->parsed()) return RunLabelCommand(label_args);
    if (mfg_init->parsed()) return RunMfgInit(init);
    if (mfg_prov->parsed()) return RunMfgProvision(prov);
    if (mfg_import->parsed()) return RunMfgImportCaKey(import);
    if (release_cmd.parsed()) return release_cmd.Run();
    if (tuf_init->parsed()) return RunTufInit(tuf_args);
    if (tuf_refresh->parsed() || tuf_download->parsed()) {
      if (tuf_args.metadata_url.empty()) {
        return Usage("tuf: --metadata-url is required");
      }
      if (tuf_download->parsed() &&
          (tuf_args.target_names.empty() || tuf_args.target_base_url.empty() ||
           tuf_args.target_dir.empty())) {
        return Usage(
            "tuf download: give --target-name, --target-base-url and "
            "--target-dir");
      }
      return RunTufUpdate(tuf_args, tuf_download->parsed());
    }
    if (pair_cmd->parsed()) {
      ScrubCodeArgument(argc, argv);
      return RunPair(home, pair);
    }

    if (data_verify->parsed()) {
      if (data_args.name.empty() && data_args.device_cert.empty()) {
        return Usage("data verify-receipt: give NAME or --device-cert CERT");
      }
      return RunVerifyReceipt(home, data_args);
    }

    // The remaining verbs act on the owner's home directory.
    if (password_cmd->parsed() && !password_src.given()) {
      return Usage("password: give --password-file FILE or --password-stdin");
    }
    for (const std::string* n :
         {&status_name, &get_name, &set_name, &reset_name, &password_name,
          &caps_name, &share_name, &owners_name, &update_args.name,
          &data_args.name}) {
      if (!n->empty()) {
        Status st = client::ValidateDeviceName(*n);
        if (!st.ok()) return UsageStatus(st);
      }
    }
    Result<std::string> h = Home(home);
    if (!h.ok()) return Fail(h.status());
    if (status_cmd->parsed()) {
      return status_name.empty()
                 ? RunStatusList(*h, status_json)
                 : RunStatusDevice(*h, status_name, status_json);
    }
    if (get_cmd->parsed()) return RunGet(*h, get_name, get_key, get_json);
    if (update_cmd->parsed()) return RunUpdate(*h, update_args);
    if (set_cmd->parsed()) {
      return RunSet(*h, set_name, set_key, set_value, set_json);
    }
    if (reset_cmd->parsed())
      return RunReset(*h, reset_name, reset_yes, reset_json, reset_transfer,
                      reset_receipt);
    if (password_cmd->parsed()) {
      return RunPassword(*h, password_name, password_src);
    }
    if (caps_cmd->parsed()) return RunCaps(*h, caps_name, caps_json);
    if (share_cmd->parsed()) {
      return RunShare(*h, share_name, share_minutes, share_admin, share_json);
    }
    if (owners_cmd->parsed()) {
      return RunOwners(*h, owners_name, owners_remove, owners_json);
    }
    if (data_inventory->parsed()) return RunDataInventory(*h, data_args);
    if (data_export->parsed()) return RunDataExport(*h, data_args);
    if (data_events->parsed()) return RunDataEvents(*h, data_args);
    if (data_receipts->parsed()) return RunDataReceipts(*h, data_args);
    if (data_delete->parsed()) return RunDataDelete(*h, data_args);
  } catch (const std::exception& e) {
    // Our code does not throw; this catches what a library might.
    std::cerr << "warden: internal error: " << e.what() << "\n";
    return kExitFailed;
  }
  return Usage("no command given (see warden --help)");
}

}  // namespace
}  // namespace warden::cli

int main(int argc, char** argv) {
  // A device closing the connection must be an error, not a signal.
  std::signal(SIGPIPE, SIG_IGN);
  return warden::cli::Main(argc, argv);
}
