#include "base/rng.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace warden {
namespace {

class KernelRng : public Rng {
 public:
  Status Fill(std::span<uint8_t> out) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError(std::string("getrandom: ") + std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
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
