// One datagram a device sends back to the UDP probes (SSDP, mDNS, CoAP).
// None of it may crash or hang the assessor.
#include <cstddef>
#include <cstdint>

#include "assess/udp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::assess;
  warden::ByteView bytes(data, size);
  const uint16_t id =
      size >= 2 ? static_cast<uint16_t>(data[0] << 8 | data[1]) : 0;
  (void)ParseSsdpReply(bytes);
  (void)ParseMdnsReply(bytes, id);
  (void)ParseCoapReply(bytes, id);
  return 0;
}
