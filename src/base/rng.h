// Randomness, reached through an interface so tests can make it
// deterministic. The system source is the kernel CSPRNG (getrandom).
#ifndef WARDEN_BASE_RNG_H_
#define WARDEN_BASE_RNG_H_

#include <cstdint>
#include <span>

#include "base/bytes.h"
#include "base/status.h"

namespace warden {

class Rng {
 public:
  virtual ~Rng() = default;
  // Fills `out` with random bytes. Fails only if the source fails.
  virtual Status Fill(std::span<uint8_t> out) = 0;
};

// The kernel's CSPRNG. Lives for the whole program.
Rng& SystemRng();

// `n` random bytes.
Result<Bytes> RandomBytes(Rng& rng, size_t n);

// A uniform integer in [0, bound), by rejection sampling (no modulo bias).
// `bound` must be > 0.
Result<uint64_t> UniformBelow(Rng& rng, uint64_t bound);

}  // namespace warden

#endif  // WARDEN_BASE_RNG_H_
