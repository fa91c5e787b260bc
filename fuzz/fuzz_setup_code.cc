// Parses setup codes, manual pairing codes and QR payloads from arbitrary
// input. Whatever is accepted must carry a valid passcode and must encode
// back to a payload that parses to the same values.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pairing/onboarding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::pairing;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseSetupCode(text);
  if (parsed.ok()) {
    if (!IsValidSetupCode(parsed->passcode)) std::abort();
    if (parsed->discriminator && !parsed->short_discriminator) {
      SetupPayload p;
      p.vendor_id = parsed->vendor_id.value_or(0);
      p.product_id = parsed->product_id.value_or(0);
      p.discriminator = *parsed->discriminator;
      p.passcode = parsed->passcode;
      auto qr = EncodeQrPayload(p);
      if (!qr.ok()) std::abort();
      auto again = ParseSetupCode(*qr);
      if (!again.ok() || again->passcode != p.passcode ||
          again->discriminator != parsed->discriminator) {
        std::abort();
      }
    }
  }
  auto raw = warden::pairing::Base38Decode(text.substr(0, 64));
  if (raw.ok() && warden::pairing::Base38Encode(*raw) != text.substr(0, 64)) {
    std::abort();
  }
  return 0;
}
