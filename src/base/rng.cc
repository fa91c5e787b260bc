#include "base/rng.h"

#include <sodium.h>

namespace warden {
namespace {

// libsodium reads the kernel's CSPRNG (getrandom, waiting until it is
// seeded) and deals with the system's errors itself.
class KernelRng : public Rng {
 public:
  Status Fill(std::span<uint8_t> out) override {
    if (sodium_init() < 0) {
      return InternalError("the system random source cannot be opened");
    }
    randombytes_buf(out.data(), out.size());
    return Status::Ok();
  }
};

}  // namespace

Rng& SystemRng() {
  static KernelRng* rng = new KernelRng();
  return *rng;
}

Result<Bytes> RandomBytes(Rng& rng, size_t n) {
  Bytes out(n);
  WARDEN_TRY(rng.Fill(out));
  return out;
}

Result<uint64_t> UniformBelow(Rng& rng, uint64_t bound) {
  if (bound == 0) return InvalidArgumentError("UniformBelow: zero bound");
  // Largest multiple of `bound` that fits; values at or above it are redrawn.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  for (;;) {
    uint64_t v = 0;
    WARDEN_TRY(
        rng.Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v)));
    if (v < limit) return v % bound;
  }
}

}  // namespace warden
