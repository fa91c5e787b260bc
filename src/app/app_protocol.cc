#include "app/app_protocol.h"

#include <exception>
#include <initializer_list>
#include <set>

namespace warden::app {
namespace {

using schema::Json;

// Every member of `object` must be one of `allowed`.
Status OnlyFields(const Json& object, std::string_view what,
                  std::initializer_list<std::string_view> allowed) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (!known) {
      return InvalidArgumentError(std::string(what) + ": unknown field \"" +
                                  it.key() + "\"");
    }
  }
  return Status::Ok();
}

Result<std::string> StringField(const Json& object, std::string_view what,
                                const char* name, size_t max_length,
                                bool allow_empty) {
  auto it = object.find(name);
  if (it == object.end()) {
    return InvalidArgumentError(std::string(what) + ": missing \"" + name +
                                "\"");
  }
  if (!it->is_string()) {
    return InvalidArgumentError(std::string(what) + ": \"" + name +
                                "\" must be a string");
  }
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max_length || (!allow_empty && s.empty())) {
    return InvalidArgumentError(std::string(what) + ": \"" + name +
                                "\" must have 1 to " +
                                std::to_string(max_length) + " bytes");
  }
  return s;
}

Result<bool> BoolField(const Json& object, std::string_view what,
                       const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_boolean()) {
    return InvalidArgumentError(std::string(what) + ": \"" + name +
                                "\" must be a boolean");
  }
  return it->get<bool>();
}

Result<Capability> ParseCapability(const Json& c, size_t index) {
  std::string what = "capabilities[" + std::to_string(index) + "]";
  if (!c.is_object()) return InvalidArgumentError(what + ": not an object");
  WARDEN_TRY(OnlyFields(c, what, {"key", "description", "writable", "schema"}));
  WARDEN_ASSIGN_OR_RETURN(std::string key,
                          StringField(c, what, "key", 32, false));
  if (!IsValidCapabilityKey(key)) {
    return InvalidArgumentError(what + ": key \"" + key +
                                "\" does not match ^[a-z][a-z0-9_]{0,31}$");
  }
  what += " (" + key + ")";
  WARDEN_ASSIGN_OR_RETURN(
      std::string description,
      StringField(c, what, "description", kMaxDescriptionLength, true));
  WARDEN_ASSIGN_OR_RETURN(bool writable, BoolField(c, what, "writable"));
  auto schema = c.find("schema");
  if (schema == c.end()) return InvalidArgumentError(what + ": missing schema");
  if (!schema->is_object()) {
    return InvalidArgumentError(what + ": schema must be an object");
  }
  Result<schema::Schema> compiled = schema::Schema::Compile(*schema);
  if (!compiled.ok()) {
    return InvalidArgumentError(what +
                                ": schema: " + compiled.status().message());
  }
  return Capability{std::move(key), std::move(description), writable,
                    std::move(compiled).value()};
}

Result<AppMessage> ParseHello(const Json& m) {
  WARDEN_TRY(OnlyFields(
      m, "hello", {"type", "protocol", "app", "version", "capabilities"}));
  auto protocol = m.find("protocol");
  if (protocol == m.end() || !protocol->is_number_integer()) {
    return InvalidArgumentError("hello: \"protocol\" must be an integer");
  }
  if (*protocol != kProtocolVersion) {
    return InvalidArgumentError("hello: unsupported protocol " +
                                protocol->dump() + ", expected 1");
  }
  HelloMessage hello;
  WARDEN_ASSIGN_OR_RETURN(
      hello.app, StringField(m, "hello", "app", kMaxNameLength, false));
  WARDEN_ASSIGN_OR_RETURN(
      hello.version, StringField(m, "hello", "version", kMaxNameLength, false));
  auto caps = m.find("capabilities");
  if (caps == m.end() || !caps->is_array()) {
    return InvalidArgumentError("hello: \"capabilities\" must be an array");
  }
  if (caps->size() > kMaxCapabilities) {
    return InvalidArgumentError("hello: more than 64 capabilities");
  }
  std::set<std::string> keys;
  for (size_t i = 0; i < caps->size(); ++i) {
    WARDEN_ASSIGN_OR_RETURN(Capability cap, ParseCapability((*caps)[i], i));
    if (!keys.insert(cap.key).second) {
      return InvalidArgumentError("hello: duplicate capability \"" + cap.key +
                                  "\"");
    }
    hello.capabilities.push_back(std::move(cap));
  }
  return AppMessage(std::move(hello));
}

Result<AppMessage> ParseState(const Json& m) {
  WARDEN_TRY(OnlyFields(m, "state", {"type", "key", "value"}));
  StateMessage state;
  WARDEN_ASSIGN_OR_RETURN(state.key, StringField(m, "state", "key", 32, false));
  if (!IsValidCapabilityKey(state.key)) {
    return InvalidArgumentError("state: invalid key");
  }
  auto value = m.find("value");
  if (value == m.end()) return InvalidArgumentError("state: missing \"value\"");
  state.value = *value;
  return AppMessage(std::move(state));
}

Result<AppMessage> ParseResult(const Json& m) {
  ResultMessage result;
  auto id = m.find("id");
  if (id == m.end() || !id->is_number_unsigned()) {
    return InvalidArgumentError(
        "result: \"id\" must be a non-negative integer");
  }
  result.id = id->get<uint64_t>();
  WARDEN_ASSIGN_OR_RETURN(result.ok, BoolField(m, "result", "ok"));
  if (result.ok) {
    WARDEN_TRY(OnlyFields(m, "result", {"type", "id", "ok"}));
  } else {
    WARDEN_TRY(OnlyFields(m, "result", {"type", "id", "ok", "error"}));
    WARDEN_ASSIGN_OR_RETURN(result.error, StringField(m, "result", "error",
                                                      kMaxErrorLength, false));
  }
  return AppMessage(std::move(result));
}

}  // namespace

bool IsValidCapabilityKey(std::string_view key) {
  if (key.empty() || key.size() > 32) return false;
  if (key[0] < 'a' || key[0] > 'z') return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<uint32_t> ParseFrameHeader(const std::array<uint8_t, 4>& h) {
  uint32_t n = (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) |
               (uint32_t{h[2]} << 8) | uint32_t{h[3]};
  if (n == 0) return DataLossError("empty frame");
  if (n > kMaxFrameSize) {
    return DataLossError("frame of " + std::to_string(n) +
                         " bytes exceeds the 65536-byte limit");
  }
  return n;
}

Result<std::string> EncodeFrame(std::string_view payload) {
  if (payload.size() > kMaxFrameSize) {
    return InvalidArgumentError("message of " + std::to_string(payload.size()) +
                                " bytes exceeds the frame limit");
  }
  uint32_t n = static_cast<uint32_t>(payload.size());
  std::string frame;
  frame.reserve(4 + payload.size());
  frame.push_back(static_cast<char>((n >> 24) & 0xff));
  frame.push_back(static_cast<char>((n >> 16) & 0xff));
  frame.push_back(static_cast<char>((n >> 8) & 0xff));
  frame.push_back(static_cast<char>(n & 0xff));
  frame.append(payload);
  return frame;
}

Result<std::string> EncodeMessage(const schema::Json& message) {
  std::string text;
  try {
    text = message.dump();
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("cannot encode message: ") +
                                e.what());
  }
  return EncodeFrame(text);
}

Result<AppMessage> ParseAppMessage(std::string_view payload) {
  if (payload.size() > kMaxFrameSize) {
    return DataLossError("frame exceeds the 65536-byte limit");
  }
  schema::JsonError json_error;
  Result<Json> parsed =
      schema::ParseJson(payload, schema::JsonLimits{}, &json_error);
  if (!parsed.ok()) {
    if (json_error.rule == "syntax" || json_error.rule == "encoding" ||
        json_error.rule == "max_bytes") {
      return DataLossError("not a JSON document: " + json_error.message);
    }
    return InvalidArgumentError(parsed.status().message());
  }
  const Json& m = *parsed;
  if (!m.is_object()) return InvalidArgumentError("message is not an object");
  auto type = m.find("type");
  if (type == m.end() || !type->is_string()) {
    return InvalidArgumentError("message has no \"type\" string");
  }
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "hello") return ParseHello(m);
  if (t == "state") return ParseState(m);
  if (t == "result") return ParseResult(m);
  return InvalidArgumentError("unknown message type");
}

}  // namespace warden::app
