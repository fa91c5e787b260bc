// Fuzzes the owner's client reading a device's reply: the HTTP response
// parsed with the client's limits, its JSON error body turned into a
// Status, and its JSON body parsed. A hostile device controls every byte.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "client/api_error.h"
#include "web/http.h"

using namespace warden;

namespace {

bool HasControlCharacter(std::string_view text) {
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view wire(reinterpret_cast<const char*>(data), size);
  const web::HttpLimits limits = web::DeviceReplyLimits();
  Result<web::Response> reply = client::ParseReply(wire, limits);
  if (!reply.ok()) return 0;
  if (reply->body().size() > limits.body_bytes) __builtin_trap();
  Status status =
      client::StatusFromResponse(*reply, "device refused x", limits);
  // What the owner's terminal shows must never carry a device's escapes.
  if (HasControlCharacter(status.message())) __builtin_trap();
  bool success = reply->result_int() >= 200 && reply->result_int() < 300;
  if (status.ok() != success) __builtin_trap();
  Result<schema::Json> body = client::ReplyJson(*reply, limits);
  if (!body.ok() && HasControlCharacter(body.status().message())) {
    __builtin_trap();
  }
  return 0;
}
