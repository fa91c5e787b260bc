// Fuzzes the boot environment's key=value text and release versions: the
// environment is read at every start (and written by the boot loader), and
// versions decide the version floor.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/version.h"
#include "update/boot_control.h"

using namespace warden;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto vars = update::ParseBootVars(text);
  if (vars.ok()) {
    // What is accepted comes back the same when written out.
    auto again = update::ParseBootVars(update::FormatBootVars(*vars));
    if (!again.ok() || *again != *vars) __builtin_trap();
  }
  auto v = ParseVersion(text);
  if (v.ok()) {
    if (v->parts.empty() || v->parts.size() > kMaxVersionParts) {
      __builtin_trap();
    }
    if (CompareVersions(*v, *v) != 0) __builtin_trap();
  }
  return 0;
}
