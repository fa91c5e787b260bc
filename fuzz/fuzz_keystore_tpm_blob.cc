// Fuzzes the TPM backend's splitting of a blob read from the keystore
// directory, which whoever can write the unit's flash controls: it runs
// before the signature check (and, for the NV handle a payload names, when
// the keystore opens and releases orphans, with no check at all), so it
// must take any bytes, and what it hands on must lie within the blob.
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
  // A version 2 payload names an NV index; only one in the keystore's
  // range may reach the TPM.
  auto nv = keystore::ParseTpmNvPayload(parts->payload);
  if (nv.ok() && (nv->handle < keystore::kTpmNvFirst ||
                  nv->handle > keystore::kTpmNvLast ||
                  !Within(nv->sealed, parts->payload) || nv->sealed.empty())) {
    std::abort();
  }
  return 0;
}
