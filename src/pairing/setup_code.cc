#include "pairing/setup_code.h"

#include <array>

namespace warden::pairing {
namespace {

// Refused even though they are in range, in ascending order: anyone
// guessing would try these first.
constexpr std::array<uint32_t, 10> kForbiddenCodes = {
    11111111, 12345678, 22222222, 33333333, 44444444,
    55555555, 66666666, 77777777, 87654321, 88888888};

// Verhoeff's dihedral group D5 multiplication, position permutation and
// inverse tables.
constexpr uint8_t kMul[10][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
    {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
    {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
    {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
constexpr uint8_t kPerm[8][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
    {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
    {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
    {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};
constexpr uint8_t kInv[10] = {0, 4, 3, 2, 1, 5, 6, 7, 8, 9};

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Verhoeff checksum over `digits`, where the rightmost digit has position
// `first_pos` (1 when computing a check digit, 0 when verifying one).
uint8_t VerhoeffFold(std::string_view digits, size_t first_pos) {
  uint8_t c = 0;
  size_t pos = first_pos;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it, ++pos) {
    c = kMul[c][kPerm[pos % 8][*it - '0']];
  }
  return c;
}

}  // namespace

bool IsValidSetupCode(uint32_t code) {
  if (code < kMinSetupCode || code > kMaxSetupCode) return false;
  for (uint32_t f : kForbiddenCodes) {
    if (code == f) return false;
  }
  return true;
}

Result<uint32_t> GenerateSetupCode(Rng& rng) {
  // Draw an index among the valid codes and map it onto them by stepping
  // over each forbidden value below it: uniform, and no retry loop that a
  // faulty source could keep spinning.
  constexpr uint64_t kValidCount =
      kMaxSetupCode - kMinSetupCode + 1 - kForbiddenCodes.size();
  WARDEN_ASSIGN_OR_RETURN(uint64_t index, UniformBelow(rng, kValidCount));
  uint32_t code = static_cast<uint32_t>(index) + kMinSetupCode;
  for (uint32_t f : kForbiddenCodes) {
    if (code >= f) ++code;
  }
  if (!IsValidSetupCode(code)) {
    return InternalError("generated setup code is not valid");
  }
  return code;
}

Result<uint16_t> GenerateDiscriminator(Rng& rng) {
  WARDEN_ASSIGN_OR_RETURN(uint64_t d, UniformBelow(rng, kMaxDiscriminator + 1));
  return static_cast<uint16_t>(d);
}

char VerhoeffCheckDigit(std::string_view digits) {
  if (!AllDigits(digits)) return '\0';
  return static_cast<char>('0' + kInv[VerhoeffFold(digits, 1)]);
}

bool VerhoeffValid(std::string_view digits_with_check) {
  if (digits_with_check.size() < 2 || !AllDigits(digits_with_check)) {
    return false;
  }
  return VerhoeffFold(digits_with_check, 0) == 0;
}

}  // namespace warden::pairing
