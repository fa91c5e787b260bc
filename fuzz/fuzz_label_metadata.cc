// A label handed to `warden label verify`: any bytes at all. Reading its
// metadata and checking it against a report must not crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "assess/label.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::assess;
  std::string_view svg(reinterpret_cast<const char*>(data), size);
  warden::Result<nlohmann::json> meta = ReadLabelMetadata(svg);
  if (meta.ok()) (void)meta->dump();
  (void)XmlText(svg, 64);
  return 0;
}
