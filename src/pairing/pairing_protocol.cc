#include "pairing/pairing_protocol.h"

#include <algorithm>

#include "crypto/hash.h"

namespace warden::pairing {
namespace {

// a || b, sized once (g++ 12 misreads growing inserts as out of bounds).
Bytes Concat(ByteView a, ByteView b) {
  Bytes out(a.size() + b.size());
  std::copy(a.begin(), a.end(), out.begin());
  std::copy(b.begin(), b.end(), out.begin() + static_cast<long>(a.size()));
  return out;
}

}  // namespace

Bytes PairingContext(ByteView exporter) {
  return Concat(AsBytes(kContextPrefix), exporter);
}

Bytes KeyProof(ByteView shared_key, const crypto::PublicKey& client_key) {
  return crypto::HmacSha256(
      shared_key, Concat(AsBytes(kKeyProofLabel), client_key.ToDer()));
}

}  // namespace warden::pairing
