#include "base/bytes.h"

#include <sodium.h>

namespace warden {
namespace {

// libsodium's codecs run in time independent of the data, so encoding a
// key, a token or a verifier record leaks nothing through timing.

std::string Encode64(ByteView data, int variant) {
  // The size includes the terminating NUL.
  std::string out(sodium_base64_encoded_len(data.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), variant);
  out.resize(out.size() - 1);
  return out;
}

Result<Bytes> Decode64(std::string_view text, int variant, const char* name) {
  Bytes out(text.size() / 4 * 3 + 3);
  size_t len = 0;
  // No characters are ignored; the whole text must be consumed; padding
  // and the trailing bits are checked.
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(),
                        nullptr, &len, nullptr, variant) != 0) {
    return InvalidArgumentError(std::string(name) + ": not canonical");
  }
  out.resize(len);
  return out;
}

}  // namespace

std::string HexEncode(ByteView data) {
  std::string out(data.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data.data(), data.size());
  out.resize(data.size() * 2);
  return out;
}

Result<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return InvalidArgumentError("hex: odd length");
  Bytes out(hex.size() / 2);
  size_t len = 0;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr,
                     &len, nullptr) != 0 ||
      len != out.size()) {
    return InvalidArgumentError("hex: invalid digit");
  }
  return out;
}

std::string Base64Encode(ByteView data) {
  return Encode64(data, sodium_base64_VARIANT_ORIGINAL);
}
Result<Bytes> Base64Decode(std::string_view text) {
  return Decode64(text, sodium_base64_VARIANT_ORIGINAL, "base64");
}
std::string Base64UrlEncode(ByteView data) {
  return Encode64(data, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
Result<Bytes> Base64UrlDecode(std::string_view text) {
  return Decode64(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING, "base64url");
}

}  // namespace warden
