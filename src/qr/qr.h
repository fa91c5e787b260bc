// QR codes (ISO/IEC 18004, through libqrencode) for what the device and the
// CLI print: the pairing payload on a unit's label and the digest of an
// assessment report on the consumer label. Error correction level M, byte
// mode, the smallest version that holds the payload.
//
// A code is a square of modules; drawings add a quiet zone of light
// modules around it (four is what scanners expect).
#ifndef WARDEN_QR_QR_H_
#define WARDEN_QR_QR_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden::qr {

// Longest payload Encode takes: far more than a pairing payload or a
// digest URI, and well inside the largest version at level M.
inline constexpr size_t kMaxPayload = 256;
inline constexpr int kQuietZone = 4;

struct Matrix {
  int width = 0;              // modules per side, without the quiet zone
  std::vector<bool> modules;  // row-major, width * width, true = dark

  bool dark(int x, int y) const {
    return modules[static_cast<size_t>(y) * width + x];
  }
};

// The code for `payload`. kInvalidArgument for an empty payload, one over
// kMaxPayload bytes or one holding a NUL byte (libqrencode takes C
// strings); kInternal when encoding fails.
Result<Matrix> Encode(std::string_view payload);

// The dark modules of `code` as one SVG path in module units, shifted by
// `quiet` modules on both axes: a row of "M<x> <y>h<run>v1h-<run>z" runs.
// The drawing is width + 2 * quiet modules square.
std::string SvgPath(const Matrix& code, int quiet = kQuietZone);

}  // namespace warden::qr

#endif  // WARDEN_QR_QR_H_
