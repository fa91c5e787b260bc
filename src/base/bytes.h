// Byte strings and their text encodings (hex, base64, base64url), through
// libsodium's constant-time codecs: they also carry keys and tokens.
#ifndef WARDEN_BASE_BYTES_H_
#define WARDEN_BASE_BYTES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string ToString(ByteView b) {
  return std::string(b.begin(), b.end());
}

// Lowercase hex.
std::string HexEncode(ByteView data);
// Accepts upper or lower case; an odd length or a non-hex digit is
// kInvalidArgument.
Result<Bytes> HexDecode(std::string_view hex);

// RFC 4648 base64 with padding.
std::string Base64Encode(ByteView data);
// Strict: rejects whitespace, bad padding and non-canonical trailing bits.
Result<Bytes> Base64Decode(std::string_view text);

// RFC 4648 section 5 base64url without padding.
std::string Base64UrlEncode(ByteView data);
Result<Bytes> Base64UrlDecode(std::string_view text);

}  // namespace warden

#endif  // WARDEN_BASE_BYTES_H_
