// Fuzzes the reader of a unit's device.json: any bytes give a DeviceInfo or
// a clear error, and what is read writes back to the same facts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "provision/device.h"

using warden::provision::DeviceInfoFromJson;
using warden::provision::DeviceInfoToJson;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto info = DeviceInfoFromJson(text);
  if (!info.ok()) return 0;
  auto again = DeviceInfoFromJson(DeviceInfoToJson(*info));
  if (!again.ok() || again->serial != info->serial ||
      again->support_end != info->support_end) {
    __builtin_trap();
  }
  return 0;
}
