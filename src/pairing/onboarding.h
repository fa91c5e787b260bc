// Onboarding payloads: how a unit's setup code reaches its owner, on the
// label and on screen (guideline 12: easy installation).
//
// The formats are those of the Matter Core specification, section 5.1
// ("Onboarding Payload"), so that codes look and check like the ones owners
// already know:
//  - the manual pairing code: 11 decimal digits ending with a Verhoeff check
//    digit (21 when vendor and product IDs are included), printed as
//    "XXXX-XXX-XXXX";
//  - the QR code payload: "MT:" followed by the Base38 text of an 88-bit
//    packed record (version, vendor ID, product ID, commissioning flow,
//    discovery capabilities, discriminator, passcode, padding).
// ParseSetupCode reads what an owner types or scans; its input is untrusted.
#ifndef WARDEN_PAIRING_ONBOARDING_H_
#define WARDEN_PAIRING_ONBOARDING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "pairing/setup_code.h"

namespace warden::pairing {

// Discovery capability bits of the QR payload.
inline constexpr uint8_t kRendezvousSoftAp = 0x01;
inline constexpr uint8_t kRendezvousBle = 0x02;
inline constexpr uint8_t kRendezvousOnNetwork = 0x04;

// Commissioning flows: 0 standard, 1 user intent, 2 custom.
inline constexpr uint8_t kFlowStandard = 0;
inline constexpr uint8_t kFlowUserIntent = 1;
inline constexpr uint8_t kFlowCustom = 2;

struct SetupPayload {
  uint8_t version = 0;
  uint16_t vendor_id = 0;
  uint16_t product_id = 0;
  uint8_t commissioning_flow = kFlowStandard;
  uint8_t rendezvous = kRendezvousOnNetwork;
  uint16_t discriminator = 0;  // 12 bits
  uint32_t passcode = 0;       // 27 bits, see IsValidSetupCode
};

// The manual pairing code, digits only. Carries the passcode and the short
// discriminator (top 4 bits of the 12-bit discriminator). With the standard
// flow it is 11 digits; any other flow adds the vendor and product IDs (21
// digits), as the specification asks. Out-of-range fields are truncated to
// their width: check the payload with IsValidSetupCode first.
std::string EncodeManualCode(const SetupPayload& payload);

// "XXXX-XXX-XXXX" for an 11-digit code, "XXXX-XXX-XXXX-XXXXX-XXXXX-X" for a
// 21-digit one; other input is returned unchanged.
std::string FormatManualCode(std::string_view digits);

// "MT:" + Base38 of the packed payload. kInvalidArgument when the version is
// not 0, the flow is not 0..2, the discriminator exceeds 12 bits or the
// passcode is not a valid setup code.
Result<std::string> EncodeQrPayload(const SetupPayload& payload);

// Base38 as the specification defines it (alphabet 0-9 A-Z - .): each 3
// bytes become 5 characters, little-endian, least significant first; a
// trailing 2 bytes become 4 characters, a trailing byte 2.
std::string Base38Encode(ByteView data);
// Strict inverse: a chunk whose value does not fit its byte count, a
// character outside the alphabet or a length of 3 mod 5 is kInvalidArgument.
Result<Bytes> Base38Decode(std::string_view text);

struct ParsedCode {
  uint32_t passcode = 0;
  // Absent for a bare passcode. For a manual code it is the short
  // (4-bit) discriminator and short_discriminator is true; for a QR
  // payload it is the full 12-bit one.
  std::optional<uint16_t> discriminator;
  bool short_discriminator = false;
  std::optional<uint16_t> vendor_id;
  std::optional<uint16_t> product_id;
};

inline constexpr size_t kMaxSetupCodeText = 64;

// Reads what an owner typed or scanned:
//  - an 8-digit passcode ("20202021", "2020-2021");
//  - an 11- or 21-digit manual pairing code (dashes and spaces allowed);
//    a wrong check digit is kInvalidArgument "check digit does not match";
//  - a QR payload "MT:..." (version 0, zero padding, no optional data).
// Leading and trailing whitespace is ignored. The passcode must satisfy
// IsValidSetupCode. Input longer than kMaxSetupCodeText is refused before
// it is looked at. Every refusal is kInvalidArgument.
Result<ParsedCode> ParseSetupCode(std::string_view text);

// A standalone SVG image of the QR code for `payload` (error correction
// level M, 4-module quiet zone), for printing on a label. kInvalidArgument
// for an empty payload or one over 256 bytes; kInternal if encoding fails.
Result<std::string> RenderQrSvg(std::string_view payload);

// The same QR code drawn with UTF-8 half blocks, two modules per character
// cell, for a terminal. Light modules (and the quiet zone) are drawn as
// blocks, which reads correctly on the usual dark-background terminal.
Result<std::string> RenderQrText(std::string_view payload);

}  // namespace warden::pairing

#endif  // WARDEN_PAIRING_ONBOARDING_H_
