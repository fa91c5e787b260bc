#include "crypto/secret.h"

#include <openssl/crypto.h>

namespace warden::crypto {

bool ConstantTimeEquals(ByteView a, ByteView b) {
  // The length is not secret (MACs and tags have fixed sizes), so an early
  // return on a length mismatch leaks nothing.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void Wipe(void* data, size_t size) {
  if (data != nullptr && size > 0) OPENSSL_cleanse(data, size);
}

}  // namespace warden::crypto
