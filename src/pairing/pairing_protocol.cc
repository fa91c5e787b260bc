#include "pairing/pairing_protocol.h"

#include "crypto/hash.h"

namespace warden::pairing {

Bytes PairingContext(ByteView exporter) {
  Bytes out = ToBytes(kContextPrefix);
  out.insert(out.end(), exporter.begin(), exporter.end());
  return out;
}

Bytes KeyProof(ByteView shared_key, const crypto::PublicKey& client_key) {
  Bytes msg = ToBytes(kKeyProofLabel);
  Bytes der = client_key.ToDer();
  msg.insert(msg.end(), der.begin(), der.end());
  return crypto::HmacSha256(shared_key, msg);
}

}  // namespace warden::pairing
