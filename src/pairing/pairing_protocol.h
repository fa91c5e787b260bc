// The constants of Warden's pairing exchange (docs/PROTOCOLS.md, "Pairing"),
// shared by the device and the owner's client so that both build the same
// SPAKE2+ transcript.
#ifndef WARDEN_PAIRING_PAIRING_PROTOCOL_H_
#define WARDEN_PAIRING_PAIRING_PROTOCOL_H_

#include <string_view>

#include "base/bytes.h"
#include "crypto/keys.h"

namespace warden::pairing {

inline constexpr std::string_view kSuite =
    "P256-SHA256-HKDF-SHA256-HMAC-SHA256";
// The SPAKE2+ context is this prefix followed by the TLS exporter value.
inline constexpr std::string_view kContextPrefix = "warden pairing v1";
inline constexpr std::string_view kExporterLabel = "EXPORTER-warden-pairing";
inline constexpr size_t kExporterLength = 32;
inline constexpr std::string_view kProverId = "warden-owner";
inline constexpr std::string_view kKeyProofLabel = "warden owner key";

// Context = kContextPrefix || exporter.
Bytes PairingContext(ByteView exporter);

// HMAC-SHA256(shared_key, kKeyProofLabel || SPKI DER): proves that the
// client key registered at confirm time belongs to the party that knew the
// setup code.
Bytes KeyProof(ByteView shared_key, const crypto::PublicKey& client_key);

}  // namespace warden::pairing

#endif  // WARDEN_PAIRING_PAIRING_PROTOCOL_H_
