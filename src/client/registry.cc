#include "client/registry.h"

#include "client/home.h"
#include "platform/file.h"
#include "schema/json.h"

namespace warden::client {
namespace {

constexpr size_t kMaxText = 256;

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsPrintable(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool IsUtcTime(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SSZ
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != kShape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (kShape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != kShape[i]) {
      return false;
    }
  }
  return true;
}

Status ValidateRecord(const DeviceRecord& r) {
  WARDEN_TRY(ValidateDeviceName(r.name));
  if (!IsLowerHex64(r.fingerprint)) {
    return InvalidArgumentError("fingerprint must be 64 lowercase hex digits");
  }
  if (r.serial.empty() || r.serial.size() > kMaxText ||
      !IsPrintable(r.serial)) {
    return InvalidArgumentError("serial must be 1 to 256 printable characters");
  }
  if (r.model.size() > kMaxText || !IsPrintable(r.model)) {
    return InvalidArgumentError(
        "model must be at most 256 printable characters");
  }
  if (!IsUtcTime(r.paired_at)) {
    return InvalidArgumentError("paired_at must be YYYY-MM-DDTHH:MM:SSZ");
  }
  return Status::Ok();
}

Result<std::string> StringMember(const schema::Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return InvalidArgumentError(std::string("\"") + key +
                                "\" must be a string");
  }
  return it->get<std::string>();
}

Result<DeviceRecord> RecordFromJson(const std::string& name,
                                    const schema::Json& j) {
  if (!j.is_object()) return InvalidArgumentError("entry must be an object");
  DeviceRecord r;
  r.name = name;
  WARDEN_ASSIGN_OR_RETURN(std::string url, StringMember(j, "url"));
  WARDEN_ASSIGN_OR_RETURN(r.url, web::ParseUrl(url));
  WARDEN_ASSIGN_OR_RETURN(r.fingerprint, StringMember(j, "fingerprint"));
  WARDEN_ASSIGN_OR_RETURN(r.serial, StringMember(j, "serial"));
  WARDEN_ASSIGN_OR_RETURN(r.model, StringMember(j, "model"));
  WARDEN_ASSIGN_OR_RETURN(r.paired_at, StringMember(j, "paired_at"));
  WARDEN_TRY(ValidateRecord(r));
  return r;
}

}  // namespace

Status ValidateDeviceName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgumentError("device name must be 1 to 64 characters");
  }
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) {
    return InvalidArgumentError(
        "device name must start with a letter or a digit");
  }
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') {
      return InvalidArgumentError(
          "device name may contain only letters, digits, '.', '_' and '-'");
    }
  }
  return Status::Ok();
}

Result<Registry> Registry::Load(const std::string& home, platform::Env& env) {
  Registry reg(home, env);
  std::string path = platform::JoinPath(home, kDevicesFile);
  if (!platform::Exists(env, path)) return reg;
  WARDEN_ASSIGN_OR_RETURN(std::string text,
                          platform::ReadFile(env, path, kMaxRegistryFile));
  schema::JsonLimits limits;
  limits.max_bytes = kMaxRegistryFile;
  limits.max_items = kMaxDevices;
  limits.max_depth = 4;
  limits.max_string = 1024;
  Result<schema::Json> doc = schema::ParseJson(text, limits);
  if (!doc.ok()) {
    return DataLossError(path + " is corrupt: " + doc.status().message());
  }
  if (!doc->is_object() || !doc->contains("devices") ||
      !(*doc)["devices"].is_object()) {
    return DataLossError(path + " is corrupt: no \"devices\" object");
  }
  for (const auto& [name, entry] : (*doc)["devices"].items()) {
    Result<DeviceRecord> r = RecordFromJson(name, entry);
    if (!r.ok()) {
      return DataLossError(path + " is corrupt: device \"" + name +
                           "\": " + r.status().message());
    }
    reg.devices_.emplace(name, std::move(r).value());
  }
  return reg;
}

std::string Registry::Serialize() const {
  schema::Json devices = schema::Json::object();
  for (const auto& [name, r] : devices_) {
    devices[name] = {{"url", r.url.ToString()},
                     {"fingerprint", r.fingerprint},
                     {"serial", r.serial},
                     {"model", r.model},
                     {"paired_at", r.paired_at}};
  }
  schema::Json doc = {{"devices", devices}};
  // Entries were validated as printable text, so dump cannot throw on
  // invalid UTF-8; replace keeps that true for any byte anyway.
  return doc.dump(2, ' ', false, schema::Json::error_handler_t::replace) + "\n";
}

Status Registry::Save() const {
  return platform::WriteFileAtomic(
      *env_, platform::JoinPath(home_, kDevicesFile), Serialize(), 0600);
}

Result<DeviceRecord> Registry::Find(std::string_view name) const {
  auto it = devices_.find(std::string(name));
  if (it == devices_.end()) {
    return NotFoundError("no device named \"" + std::string(name) +
                         "\" (see warden status)");
  }
  return it->second;
}

Status Registry::Add(DeviceRecord record) {
  WARDEN_TRY(ValidateRecord(record));
  if (devices_.count(record.name) != 0) {
    return AlreadyExistsError("a device named \"" + record.name +
                              "\" is already registered");
  }
  if (devices_.size() >= kMaxDevices) {
    return ResourceExhaustedError("too many registered devices");
  }
  std::string name = record.name;
  devices_.emplace(std::move(name), std::move(record));
  return Status::Ok();
}

Status Registry::Remove(std::string_view name) {
  auto it = devices_.find(std::string(name));
  if (it == devices_.end()) {
    return NotFoundError("no device named \"" + std::string(name) + "\"");
  }
  devices_.erase(it);
  return Status::Ok();
}

}  // namespace warden::client
