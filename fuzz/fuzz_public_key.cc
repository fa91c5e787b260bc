// Fuzzes public key parsing: owners send their key as PEM when pairing, TUF
// metadata carries raw keys, and SPAKE2+ shares are raw P-256 points. What
// parses must re-encode to something that parses to the same key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/ec.h"
#include "crypto/keys.h"

using namespace warden;

namespace {

void Exercise(const crypto::PublicKey& key) {
  Bytes der = key.ToDer();
  auto again = crypto::PublicKey::FromDer(der);
  if (!again.ok() || !(*again == key)) std::abort();
  auto from_pem = crypto::PublicKey::FromPem(key.ToPem());
  if (!from_pem.ok() || !(*from_pem == key)) std::abort();
  auto from_raw = crypto::PublicKey::FromRaw(key.type(), key.ToRaw());
  if (!from_raw.ok() || !(*from_raw == key)) std::abort();
  (void)key.Fingerprint();
  key.Verify(AsBytes("message"), Bytes(64, 1)).IgnoreError();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView bytes(data, size);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto k = crypto::PublicKey::FromDer(bytes); k.ok()) Exercise(*k);
  if (auto k = crypto::PublicKey::FromPem(text); k.ok()) Exercise(*k);
  for (auto type : {crypto::KeyType::kEd25519, crypto::KeyType::kEcdsaP256}) {
    if (auto k = crypto::PublicKey::FromRaw(type, bytes); k.ok()) Exercise(*k);
  }
  if (auto p = crypto::p256::Point::FromBytes(bytes); p.ok()) {
    Bytes out = p->ToUncompressed();
    if (out.size() != crypto::p256::kPointSize || p->IsIdentity()) std::abort();
    auto again = crypto::p256::Point::FromBytes(out);
    if (!again.ok() || again->ToUncompressed() != out) std::abort();
  }
  return 0;
}
