// Fuzzes the TPM backend's splitting of a blob read from the keystore
// directory, which whoever can write the unit's flash controls: it runs
// before the signature check, so it must take any bytes, and what it hands
// on must lie within the blob.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "keystore/tpm_backend.h"

using namespace warden;

namespace {

bool Within(ByteView part, ByteView whole) {
  return part.empty() ||
         (part.data() >= whole.data() &&
          part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView blob(data, size);
  auto parts = keystore::ParseTpmBlob(blob);
  if (!parts.ok()) return 0;
  if (parts->payload.empty() || parts->signature.empty() ||
      !Within(parts->payload, blob) || !Within(parts->signature, blob)) {
    std::abort();
  }
  auto secret = keystore::ParseTpmSecret(parts->payload);
  if (secret.ok() &&
      (!Within(secret->wrapped_key, parts->payload) ||
       !Within(secret->sealed, parts->payload) || secret->sealed.empty())) {
    std::abort();
  }
  return 0;
}
