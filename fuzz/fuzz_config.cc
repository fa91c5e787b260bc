// Fuzzes wardend's configuration parser: any bytes give a Config or a clear
// error, and a Config that parses has a listen address that parses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = warden::daemon::ParseConfig(text);
  if (config.ok() && !warden::daemon::ParseListenAddress(config->listen).ok()) {
    __builtin_trap();
  }
  return 0;
}
