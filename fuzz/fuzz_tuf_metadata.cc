// Fuzzes TUF metadata parsing for every role, and the signature check on
// whatever parses. A root that parses must serialise to canonical JSON that
// parses again to the same signed part.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <type_traits>

#include "tuf/metadata.h"

namespace {

using namespace warden::tuf;

template <typename T>
void One(std::string_view text) {
  warden::Result<Metadata<T>> md = Parse<T>(text);
  if (!md.ok()) {
    if (ErrorOf(md.status()) == Error::kNone) std::abort();
    return;
  }
  warden::Result<std::string> bytes = Serialize(*md);
  if (!bytes.ok()) std::abort();
  warden::Result<Metadata<T>> again = Parse<T>(*bytes);
  if (!again.ok() || again->signed_json != md->signed_json) std::abort();
  if constexpr (std::is_same_v<T, Root>) {
    VerifyThreshold(md->signed_json, md->signatures, md->signed_.keys,
                    md->signed_.roles.at("root"), "root")
        .IgnoreError();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  One<Root>(text);
  One<Timestamp>(text);
  One<Snapshot>(text);
  One<Targets>(text);
  return 0;
}
