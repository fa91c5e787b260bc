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
// Personal data (guideline 8): kinds declared at most (data::kMaxKinds),
// the longest kind name and purpose, and the largest record value the app
// sends. A value is UTF-8 text; 8 KiB even fully escaped fits in a frame,
// and a schedule or a reading is far smaller.
inline constexpr size_t kMaxDataKinds = 32;
inline constexpr size_t kMaxDataKindNameLength = 32;
inline constexpr size_t kMaxDataPurposeLength = 256;
inline constexpr size_t kMaxDataValueSize = 8 * 1024;
// Most record ids one data_list answer carries.
inline constexpr size_t kMaxDataListLimit = 256;

struct Capability {
  std::string key;  // ^[a-z][a-z0-9_]{0,31}$
  std::string description;
  bool writable = false;
  schema::Schema schema;
};

// A kind of personal data as the app declares it. Only the shape and the
// limits above are checked here; what the names and values mean (the
// category list, the retention bounds) is the data store's to judge.
struct DataKind {
  std::string name;
  std::string category;
  std::string purpose;
  int64_t retention_seconds = 0;
  bool may_leave_device = false;
  bool operator==(const DataKind&) const = default;
};

struct HelloMessage {
  std::string app;
  std::string version;
  std::vector<Capability> capabilities;  // unique keys, schemas compiled
  std::vector<DataKind> data;            // unique names; may be empty
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

// A request about the app's personal data; wardend answers each with a
// data_result carrying the same id.
enum class DataOp {
  kDeclare,    // kinds: more kinds (or new declarations of known ones)
  kWrite,      // kind, value: a new record; answered with its id
  kRead,       // kind, record: one record's value and time
  kList,       // kind, after, limit: record ids and times, oldest first
  kErase,      // kind, record: one record
  kDeleteAll,  // every record of every kind, as the device's button does
};

struct DataRequest {
  uint64_t id = 0;
  DataOp op = DataOp::kDeclare;
  std::vector<DataKind> kinds;  // kDeclare
  std::string kind;             // kWrite, kRead, kList, kErase
  std::string value;            // kWrite
  int64_t record = 0;           // kRead, kErase
  int64_t after = 0;            // kList
  size_t limit = 0;             // kList
  // Set when the request is not valid but its id is: the caller answers
  // that id with this reason rather than leave the app waiting.
  std::string refusal;
};

using AppMessage =
    std::variant<HelloMessage, StateMessage, ResultMessage, DataRequest>;

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
//     do not compile, too many or duplicate capabilities or data kinds):
//     the message is refused and the connection stays up. A data_* request
//     with a valid id is an exception: it comes back as a DataRequest with
//     `refusal` set, so that its answer can name the id.
// Checks that need the session (hello first and once, known keys, values
// against schemas, outstanding ids) are the caller's.
Result<AppMessage> ParseAppMessage(std::string_view payload);

}  // namespace warden::app

#endif  // WARDEN_APP_APP_PROTOCOL_H_
