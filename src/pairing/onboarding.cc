#include "pairing/onboarding.h"

#include <array>
#include <cstdio>

#include "qr/qr.h"

namespace warden::pairing {
namespace {

constexpr std::string_view kQrPrefix = "MT:";
constexpr std::string_view kBase38Alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-.";
constexpr size_t kQrPayloadBytes = 11;  // 88 bits

// Bit widths of the packed QR payload, in order from bit 0 (section 5.1.3).
constexpr int kVersionBits = 3;
constexpr int kVendorBits = 16;
constexpr int kProductBits = 16;
constexpr int kFlowBits = 2;
constexpr int kRendezvousBits = 8;
constexpr int kDiscriminatorBits = 12;
constexpr int kPasscodeBits = 27;
constexpr int kPaddingBits = 4;
static_assert(kVersionBits + kVendorBits + kProductBits + kFlowBits +
                  kRendezvousBits + kDiscriminatorBits + kPasscodeBits +
                  kPaddingBits ==
              kQrPayloadBytes * 8);

// Writes and reads bit fields least significant bit first, as the
// specification packs them.
class BitWriter {
 public:
  void Put(uint64_t value, int bits) {
    for (int i = 0; i < bits; ++i, ++pos_) {
      if ((value >> i) & 1)
        buf_[pos_ / 8] |= static_cast<uint8_t>(1u << (pos_ % 8));
    }
  }
  Bytes bytes() const { return Bytes(buf_.begin(), buf_.end()); }

 private:
  std::array<uint8_t, kQrPayloadBytes> buf_{};
  size_t pos_ = 0;
};

class BitReader {
 public:
  explicit BitReader(ByteView data) : data_(data) {}
  uint32_t Get(int bits) {
    uint32_t v = 0;
    for (int i = 0; i < bits; ++i, ++pos_) {
      if ((data_[pos_ / 8] >> (pos_ % 8)) & 1) v |= 1u << i;
    }
    return v;
  }

 private:
  ByteView data_;
  size_t pos_ = 0;
};

// Zero-padded decimal of exactly `width` digits.
std::string Decimal(uint32_t value, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*u", width, value);
  return buf;
}

// The value of a run of decimal digits (at most 9, so it fits).
uint32_t DigitsValue(std::string_view digits) {
  uint32_t v = 0;
  for (char c : digits) v = v * 10 + static_cast<uint32_t>(c - '0');
  return v;
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

Result<ParsedCode> ParseDigits(std::string_view digits) {
  ParsedCode out;
  if (digits.size() == 8) {
    out.passcode = DigitsValue(digits);
  } else if (digits.size() == 11 || digits.size() == 21) {
    if (!VerhoeffValid(digits)) {
      return InvalidArgumentError("check digit does not match");
    }
    const uint32_t chunk1 = DigitsValue(digits.substr(0, 1));
    const uint32_t chunk2 = DigitsValue(digits.substr(1, 5));
    const uint32_t chunk3 = DigitsValue(digits.substr(6, 4));
    if (chunk1 > 7) {
      return InvalidArgumentError("unsupported manual code version");
    }
    const bool vid_pid = (chunk1 & 0x4) != 0;
    if (vid_pid != (digits.size() == 21)) {
      return InvalidArgumentError(
          "manual code length does not match its vendor ID flag");
    }
    if (chunk2 > 0xFFFF) {
      return InvalidArgumentError("manual code is out of range");
    }
    out.discriminator =
        static_cast<uint16_t>(((chunk1 & 0x3) << 2) | (chunk2 >> 14));
    out.short_discriminator = true;
    out.passcode = (chunk3 << 14) | (chunk2 & 0x3FFF);
    if (vid_pid) {
      const uint32_t vid = DigitsValue(digits.substr(10, 5));
      const uint32_t pid = DigitsValue(digits.substr(15, 5));
      if (vid > 0xFFFF || pid > 0xFFFF) {
        return InvalidArgumentError(
            "manual code vendor or product ID is out "
            "of range");
      }
      out.vendor_id = static_cast<uint16_t>(vid);
      out.product_id = static_cast<uint16_t>(pid);
    }
  } else {
    return InvalidArgumentError(
        "a setup code has 8 digits, a manual pairing code 11 or 21");
  }
  if (!IsValidSetupCode(out.passcode)) {
    return InvalidArgumentError("not a valid setup code");
  }
  return out;
}

Result<ParsedCode> ParseQr(std::string_view text) {
  std::string_view body = text.substr(kQrPrefix.size());
  WARDEN_ASSIGN_OR_RETURN(Bytes raw, Base38Decode(body));
  if (raw.size() != kQrPayloadBytes) {
    return InvalidArgumentError(
        "QR payload has the wrong length or carries optional data");
  }
  BitReader r(raw);
  const uint32_t version = r.Get(kVersionBits);
  const uint32_t vid = r.Get(kVendorBits);
  const uint32_t pid = r.Get(kProductBits);
  const uint32_t flow = r.Get(kFlowBits);
  r.Get(kRendezvousBits);
  const uint32_t discriminator = r.Get(kDiscriminatorBits);
  const uint32_t passcode = r.Get(kPasscodeBits);
  const uint32_t padding = r.Get(kPaddingBits);
  if (version != 0)
    return InvalidArgumentError("unsupported QR payload version");
  if (padding != 0)
    return InvalidArgumentError("QR payload padding is not zero");
  if (flow > kFlowCustom) {
    return InvalidArgumentError("unknown commissioning flow in QR payload");
  }
  if (!IsValidSetupCode(passcode)) {
    return InvalidArgumentError("not a valid setup code");
  }
  ParsedCode out;
  out.passcode = passcode;
  out.discriminator = static_cast<uint16_t>(discriminator);
  out.short_discriminator = false;
  out.vendor_id = static_cast<uint16_t>(vid);
  out.product_id = static_cast<uint16_t>(pid);
  return out;
}

}  // namespace

std::string Base38Encode(ByteView data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 5);
  for (size_t i = 0; i < data.size(); i += 3) {
    const size_t n = std::min<size_t>(3, data.size() - i);
    uint32_t v = 0;
    for (size_t j = 0; j < n; ++j)
      v |= static_cast<uint32_t>(data[i + j]) << (8 * j);
    const int chars = n == 3 ? 5 : n == 2 ? 4 : 2;
    for (int c = 0; c < chars; ++c) {
      out += kBase38Alphabet[v % 38];
      v /= 38;
    }
  }
  return out;
}

Result<Bytes> Base38Decode(std::string_view text) {
  if (text.size() % 5 == 1 || text.size() % 5 == 3) {
    return InvalidArgumentError("Base38 text has an impossible length");
  }
  Bytes out;
  out.reserve(text.size() / 5 * 3 + 2);
  for (size_t i = 0; i < text.size(); i += 5) {
    const size_t chars = std::min<size_t>(5, text.size() - i);
    const size_t bytes = chars == 5 ? 3 : chars == 4 ? 2 : 1;
    uint64_t v = 0;
    for (size_t c = chars; c-- > 0;) {
      const size_t d = kBase38Alphabet.find(text[i + c]);
      if (d == std::string_view::npos) {
        return InvalidArgumentError("character outside the Base38 alphabet");
      }
      v = v * 38 + d;
    }
    if (v >> (8 * bytes) != 0) {
      return InvalidArgumentError("Base38 chunk is out of range");
    }
    for (size_t b = 0; b < bytes; ++b)
      out.push_back(static_cast<uint8_t>(v >> (8 * b)));
  }
  return out;
}

std::string EncodeManualCode(const SetupPayload& p) {
  const bool vid_pid = p.commissioning_flow != kFlowStandard;
  const uint32_t short_disc = (p.discriminator >> 8) & 0xF;
  const uint32_t passcode = p.passcode & ((1u << kPasscodeBits) - 1);
  const uint32_t chunk1 = (vid_pid ? 0x4u : 0u) | (short_disc >> 2);
  const uint32_t chunk2 = ((short_disc & 0x3) << 14) | (passcode & 0x3FFF);
  const uint32_t chunk3 = passcode >> 14;
  std::string digits =
      Decimal(chunk1, 1) + Decimal(chunk2, 5) + Decimal(chunk3, 4);
  if (vid_pid) digits += Decimal(p.vendor_id, 5) + Decimal(p.product_id, 5);
  digits += VerhoeffCheckDigit(digits);
  return digits;
}

std::string FormatManualCode(std::string_view d) {
  if (d.size() == 11) {
    return std::string(d.substr(0, 4)) + "-" + std::string(d.substr(4, 3)) +
           "-" + std::string(d.substr(7, 4));
  }
  if (d.size() == 21) {
    return std::string(d.substr(0, 4)) + "-" + std::string(d.substr(4, 3)) +
           "-" + std::string(d.substr(7, 4)) + "-" +
           std::string(d.substr(11, 5)) + "-" + std::string(d.substr(16, 5));
  }
  return std::string(d);
}

Result<std::string> EncodeQrPayload(const SetupPayload& p) {
  if (p.version != 0)
    return InvalidArgumentError("QR payload version must be 0");
  if (p.commissioning_flow > kFlowCustom) {
    return InvalidArgumentError("unknown commissioning flow");
  }
  if (p.discriminator > kMaxDiscriminator) {
    return InvalidArgumentError("discriminator exceeds 12 bits");
  }
  if (!IsValidSetupCode(p.passcode)) {
    return InvalidArgumentError("not a valid setup code");
  }
  BitWriter w;
  w.Put(p.version, kVersionBits);
  w.Put(p.vendor_id, kVendorBits);
  w.Put(p.product_id, kProductBits);
  w.Put(p.commissioning_flow, kFlowBits);
  w.Put(p.rendezvous, kRendezvousBits);
  w.Put(p.discriminator, kDiscriminatorBits);
  w.Put(p.passcode, kPasscodeBits);
  w.Put(0, kPaddingBits);
  return std::string(kQrPrefix) + Base38Encode(w.bytes());
}

Result<ParsedCode> ParseSetupCode(std::string_view text) {
  if (text.size() > kMaxSetupCodeText) {
    return InvalidArgumentError("setup code is too long");
  }
  while (!text.empty() && IsAsciiSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsAsciiSpace(text.back())) text.remove_suffix(1);
  if (text.empty()) return InvalidArgumentError("setup code is empty");
  if (text.substr(0, kQrPrefix.size()) == kQrPrefix) return ParseQr(text);

  std::string digits;
  for (char c : text) {
    if (c == '-' || c == ' ') continue;
    if (c < '0' || c > '9') {
      return InvalidArgumentError(
          "a setup code has only digits, dashes and spaces");
    }
    digits += c;
  }
  return ParseDigits(digits);
}

Result<std::string> RenderQrSvg(std::string_view payload) {
  WARDEN_ASSIGN_OR_RETURN(qr::Matrix code, qr::Encode(payload));
  const std::string s = std::to_string(code.width + 2 * qr::kQuietZone);
  const std::string px = std::to_string((code.width + 2 * qr::kQuietZone) * 8);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
         "viewBox=\"0 0 " +
         s + " " + s + "\" width=\"" + px + "\" height=\"" + px +
         "\" shape-rendering=\"crispEdges\">\n"
         "<rect width=\"" +
         s + "\" height=\"" + s +
         "\" fill=\"#ffffff\"/>\n<path fill=\"#000000\" d=\"" +
         qr::SvgPath(code) + "\"/>\n</svg>\n";
}

Result<std::string> RenderQrText(std::string_view payload) {
  WARDEN_ASSIGN_OR_RETURN(qr::Matrix code, qr::Encode(payload));
  const int n = code.width;
  const int size = n + 2 * qr::kQuietZone;
  // Outside the image counts as dark so nothing is drawn there.
  auto light = [&](int x, int y) {
    if (y >= size) return false;
    const int qx = x - qr::kQuietZone;
    const int qy = y - qr::kQuietZone;
    if (qx < 0 || qy < 0 || qx >= n || qy >= n) return true;
    return !code.dark(qx, qy);
  };
  std::string out;
  for (int y = 0; y < size; y += 2) {
    for (int x = 0; x < size; ++x) {
      const bool top = light(x, y);
      const bool bottom = light(x, y + 1);
      if (top && bottom) {
        out += "\u2588";
      } else if (top) {
        out += "\u2580";
      } else if (bottom) {
        out += "\u2584";
      } else {
        out += ' ';
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace warden::pairing
