// What a device sends back to the assessor: banners, HTTP replies (and the
// security.txt or /v1/info inside them), MQTT acknowledgements. None of it may
// crash or hang the assessor.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "assess/assessor.h"
#include "assess/security_txt.h"
#include "assess/service_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::assess;
  warden::ByteView bytes(data, size);
  (void)ClassifyBanner(bytes);
  (void)IsMqttConnack(bytes);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  warden::Result<HttpReply> reply = ParseHttpReply(bytes);
  if (reply.ok()) {
    (void)reply->Header("Content-Type");
    text = reply->body;
  }
  warden::Result<SecurityTxt> parsed = ParseSecurityTxt(text);
  if (parsed.ok()) {
    (void)CheckSecurityTxt(*parsed, warden::WallTime{},
                           "https://device/.well-known/security.txt");
  }
  (void)ParseRfc3339(text.substr(0, 64));
  (void)ParseWardenInfo(text);
  return 0;
}
