// The app socket protocol as wardend sees it (docs/PROTOCOLS.md, "App
// socket"): frame headers, and the validation of every message the app
// sends. The app is less trusted than wardend, so each message is checked in
// full (types, fields, limits, schemas) before anything acts on it. These
// functions are pure: no I/O, so they can be fuzzed directly.
#ifndef WARDEN_APP_APP_PROTOCOL_H_
#define WARDEN_APP_APP_PROTOCOL_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "schema/json.h"
#include "schema/schema.h"

namespace warden::app {

inline constexpr size_t kMaxFrameSize = 64 * 1024;
inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kMaxCapabilities = 64;
inline constexpr size_t kMaxNameLength = 64;          // app name, version
inline constexpr size_t kMaxDescriptionLength = 512;  // capability text
inline constexpr size_t kMaxErrorLength = 1024;       // refusal reason

struct Capability {
  std::string key;  // ^[a-z][a-z0-9_]{0,31}$
  std::string description;
  bool writable = false;
  schema::Schema schema;
};

struct HelloMessage {
  std::string app;
  std::string version;
  std::vector<Capability> capabilities;  // unique keys, schemas compiled
};

struct StateMessage {
  std::string key;
  schema::Json value;
};

struct ResultMessage {
  uint64_t id = 0;
  bool ok = false;
  std::string error;  // set when !ok
};

using AppMessage = std::variant<HelloMessage, StateMessage, ResultMessage>;

// True when `key` matches ^[a-z][a-z0-9_]{0,31}$.
bool IsValidCapabilityKey(std::string_view key);

// The payload length announced by a frame header (4 bytes, big endian).
// Lengths of 0 or above kMaxFrameSize are kDataLoss: the stream is broken.
Result<uint32_t> ParseFrameHeader(const std::array<uint8_t, 4>& header);

// `payload` with its 4-byte length prefix. kInvalidArgument when the
// payload exceeds kMaxFrameSize.
Result<std::string> EncodeFrame(std::string_view payload);

// Encodes a message for the app: kInvalidArgument when it cannot be encoded
// or does not fit in a frame.
Result<std::string> EncodeMessage(const schema::Json& message);

// Validates one frame payload from the app, without its length prefix.
//   kDataLoss: the payload is not JSON text at all (syntax or encoding):
//     the stream is broken and the connection must close.
//   kInvalidArgument: a JSON document that is not a valid message (limits,
//     shape, unknown or missing fields, wrong types, bad keys, schemas that
//     do not compile, too many or duplicate capabilities): the message is
//     refused and the connection stays up.
// Checks that need the session (hello first and once, known keys, values
// against schemas, outstanding ids) are the caller's.
Result<AppMessage> ParseAppMessage(std::string_view payload);

}  // namespace warden::app

#endif  // WARDEN_APP_APP_PROTOCOL_H_
