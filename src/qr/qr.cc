#include "qr/qr.h"

#include <qrencode.h>

#include <memory>

namespace warden::qr {
namespace {

struct QrFree {
  void operator()(QRcode* q) const { QRcode_free(q); }
};

}  // namespace

Result<Matrix> Encode(std::string_view payload) {
  if (payload.empty() || payload.size() > kMaxPayload) {
    return InvalidArgumentError("QR payload must be 1.." +
                                std::to_string(kMaxPayload) + " bytes");
  }
  if (payload.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("QR payload contains a NUL byte");
  }
  const std::string text(payload);
  std::unique_ptr<QRcode, QrFree> raw(
      QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8,
                          /*casesensitive=*/1));
  if (!raw || raw->width <= 0) return InternalError("QR encoding failed");
  Matrix code;
  code.width = raw->width;
  const size_t n = static_cast<size_t>(raw->width) * raw->width;
  code.modules.resize(n);
  for (size_t i = 0; i < n; ++i) code.modules[i] = (raw->data[i] & 1) != 0;
  return code;
}

std::string SvgPath(const Matrix& code, int quiet) {
  const int n = code.width;
  std::string path;
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n;) {
      if (!code.dark(x, y)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < n && code.dark(x + run, y)) ++run;
      path += "M" + std::to_string(x + quiet) + " " +
              std::to_string(y + quiet) + "h" + std::to_string(run) + "v1h-" +
              std::to_string(run) + "z";
      x += run;
    }
  }
  return path;
}

}  // namespace warden::qr
