// Fuzzes parsing of a PKCS#10 signing request: the maker's station reads
// one from each unit it provisions with a key made in the unit's
// hardware, and the unit's side of that exchange is not trusted. Whatever
// parses must carry a key whose own signature over the request checked,
// and a common name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/x509.h"

using namespace warden;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto request = crypto::ParseSigningRequest(text);
  if (request.ok()) {
    if (request->common_name.empty()) std::abort();
    (void)request->subject_key.Fingerprint();
  }
  return 0;
}
