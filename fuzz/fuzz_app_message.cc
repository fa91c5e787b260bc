// Feeds one app→wardend frame payload through the validation wardend applies
// to everything the app sends; for a hello it also checks a few values
// against each declared schema, as state messages would be. A refused
// message must come with a reason.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "app/app_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  warden::Result<warden::app::AppMessage> message =
      warden::app::ParseAppMessage(payload);
  if (!message.ok()) {
    // A refusal always says why: the reason goes back to the app.
    if (message.status().message().empty()) __builtin_trap();
    return 0;
  }
  if (auto* hello = std::get_if<warden::app::HelloMessage>(&*message)) {
    const warden::schema::Json samples[] = {nullptr,
                                            0,
                                            21.5,
                                            "text",
                                            warden::schema::Json::array({1, 2}),
                                            warden::schema::Json::object()};
    for (const auto& cap : hello->capabilities) {
      for (const auto& sample : samples) cap.schema.Check(sample);
    }
  }
  return 0;
}
