// The owner's registry of paired devices, HOME/devices.json:
//
//   {"devices": {"NAME": {"url": "https://host:port", "fingerprint": hex,
//                         "serial": ..., "model": ..., "paired_at": RFC 3339}}}
//
// The fingerprint is the pinned device certificate: every connection to the
// device must see exactly that certificate. The file is replaced atomically
// so a crash leaves the old registry or the new one.
#ifndef WARDEN_CLIENT_REGISTRY_H_
#define WARDEN_CLIENT_REGISTRY_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "platform/env.h"
#include "web/url.h"

namespace warden::client {

inline constexpr size_t kMaxRegistryFile = 1024 * 1024;
inline constexpr size_t kMaxDevices = 1024;

struct DeviceRecord {
  std::string name;
  web::Url url;
  std::string fingerprint;  // 64 lowercase hex digits
  std::string serial;
  std::string model;
  std::string paired_at;  // "YYYY-MM-DDTHH:MM:SSZ"

  friend bool operator==(const DeviceRecord&, const DeviceRecord&) = default;
};

// A name the owner gives a device: 1..64 characters from letters, digits,
// '.', '_', '-', starting with a letter or digit. kInvalidArgument otherwise.
Status ValidateDeviceName(std::string_view name);

class Registry {
 public:
  // Reads HOME/devices.json; a missing file is an empty registry. A file
  // over kMaxRegistryFile is kResourceExhausted; malformed JSON or an
  // invalid entry is kDataLoss naming the entry and the field. The
  // registry reads and writes through `env`, which must outlive it.
  static Result<Registry> Load(const std::string& home,
                               platform::Env& env = platform::DefaultEnv());

  // Writes the registry atomically (mode 0600).
  Status Save() const;

  const std::map<std::string, DeviceRecord>& devices() const {
    return devices_;
  }
  // kNotFound "no device named NAME" when absent.
  Result<DeviceRecord> Find(std::string_view name) const;
  // Adds a record after validating it. kAlreadyExists when the name is
  // taken; kResourceExhausted past kMaxDevices.
  Status Add(DeviceRecord record);
  // kNotFound when absent.
  Status Remove(std::string_view name);

  // The JSON text Save writes.
  std::string Serialize() const;

 private:
  Registry(std::string home, platform::Env& env)
      : home_(std::move(home)), env_(&env) {}
  std::string home_;
  platform::Env* env_;
  std::map<std::string, DeviceRecord> devices_;
};

}  // namespace warden::client

#endif  // WARDEN_CLIENT_REGISTRY_H_
