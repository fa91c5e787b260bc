// Setup codes: the secret printed on each unit's label that its first owner
// types to pair with it (guideline 1: no default passwords).
//
// A setup code is an 8-digit passcode drawn uniformly from the codes Matter
// allows (1..99999998 minus the trivially guessable ones), plus a 12-bit
// discriminator that tells units apart before pairing. Both come only from
// a random source: never from a serial number, a MAC address or a counter,
// so knowing one unit says nothing about another.
//
// The Verhoeff check digit that ends a manual pairing code lives here too.
#ifndef WARDEN_PAIRING_SETUP_CODE_H_
#define WARDEN_PAIRING_SETUP_CODE_H_

#include <cstdint>
#include <string_view>

#include "base/rng.h"
#include "base/status.h"

namespace warden::pairing {

inline constexpr uint32_t kMinSetupCode = 1;
inline constexpr uint32_t kMaxSetupCode = 99999998;
inline constexpr uint16_t kMaxDiscriminator = 0xFFF;

// True when `code` is in 1..99999998 and is none of 00000000, 11111111, ...,
// 88888888, 12345678, 87654321 (Matter Core 5.1.7.1).
bool IsValidSetupCode(uint32_t code);

// A passcode uniform over the valid codes. Fails only if `rng` fails.
Result<uint32_t> GenerateSetupCode(Rng& rng);

// A discriminator uniform in 0..4095. Fails only if `rng` fails.
Result<uint16_t> GenerateDiscriminator(Rng& rng);

// The Verhoeff check digit ('0'..'9') of a string of decimal digits.
// `digits` must contain only '0'..'9' (anything else gives '\0').
char VerhoeffCheckDigit(std::string_view digits);

// True when `digits_with_check` is all decimal digits, at least two long,
// and its last digit is the Verhoeff check digit of the others. Detects
// every single-digit error and every adjacent transposition.
bool VerhoeffValid(std::string_view digits_with_check);

}  // namespace warden::pairing

#endif  // WARDEN_PAIRING_SETUP_CODE_H_
