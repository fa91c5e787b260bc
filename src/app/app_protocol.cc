#include "app/app_protocol.h"

#include <cstdint>
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

Result<int64_t> IntField(const Json& object, std::string_view what,
                         const char* name, int64_t min, int64_t max) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) {
    return InvalidArgumentError(std::string(what) + ": \"" + name +
                                "\" must be an integer");
  }
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > static_cast<uint64_t>(max)) {
    return InvalidArgumentError(std::string(what) + ": \"" + name +
                                "\" out of range");
  }
  int64_t v = it->get<int64_t>();
  if (v < min || v > max) {
    return InvalidArgumentError(std::string(what) + ": \"" + name +
                                "\" out of range");
  }
  return v;
}

bool IsValidKindName(std::string_view name) {
  if (name.empty() || name.size() > kMaxDataKindNameLength) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<std::string> KindNameField(const Json& m, std::string_view what) {
  WARDEN_ASSIGN_OR_RETURN(
      std::string name,
      StringField(m, what, "kind", kMaxDataKindNameLength, false));
  if (!IsValidKindName(name)) {
    return InvalidArgumentError(std::string(what) +
                                ": kind does not match ^[a-z0-9_]{1,32}$");
  }
  return name;
}

Result<DataKind> ParseDataKind(const Json& k, size_t index) {
  std::string what = "data[" + std::to_string(index) + "]";
  if (!k.is_object()) return InvalidArgumentError(what + ": not an object");
  WARDEN_TRY(OnlyFields(k, what,
                        {"name", "category", "purpose", "retention_seconds",
                         "may_leave_device"}));
  DataKind kind;
  WARDEN_ASSIGN_OR_RETURN(
      kind.name, StringField(k, what, "name", kMaxDataKindNameLength, false));
  if (!IsValidKindName(kind.name)) {
    return InvalidArgumentError(what +
                                ": name does not match ^[a-z0-9_]{1,32}$");
  }
  WARDEN_ASSIGN_OR_RETURN(kind.category,
                          StringField(k, what, "category", 32, false));
  WARDEN_ASSIGN_OR_RETURN(
      kind.purpose,
      StringField(k, what, "purpose", kMaxDataPurposeLength, false));
  WARDEN_ASSIGN_OR_RETURN(kind.retention_seconds,
                          IntField(k, what, "retention_seconds", 1, INT64_MAX));
  WARDEN_ASSIGN_OR_RETURN(kind.may_leave_device,
                          BoolField(k, what, "may_leave_device"));
  return kind;
}

// A list of kind declarations with unique names.
Result<std::vector<DataKind>> ParseDataKinds(const Json& list,
                                             std::string_view what) {
  if (!list.is_array()) {
    return InvalidArgumentError(std::string(what) + ": must be an array");
  }
  if (list.size() > kMaxDataKinds) {
    return InvalidArgumentError(std::string(what) + ": more than " +
                                std::to_string(kMaxDataKinds) + " kinds");
  }
  std::vector<DataKind> kinds;
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    WARDEN_ASSIGN_OR_RETURN(DataKind kind, ParseDataKind(list[i], i));
    if (!names.insert(kind.name).second) {
      return InvalidArgumentError(std::string(what) + ": duplicate kind \"" +
                                  kind.name + "\"");
    }
    kinds.push_back(std::move(kind));
  }
  return kinds;
}

Status ParseDataBody(const Json& m, const std::string& type, DataRequest& r) {
  const std::string what = type;
  if (type == "data_declare") {
    r.op = DataOp::kDeclare;
    WARDEN_TRY(OnlyFields(m, what, {"type", "id", "kinds"}));
    auto kinds = m.find("kinds");
    if (kinds == m.end()) return InvalidArgumentError(what + ": no kinds");
    WARDEN_ASSIGN_OR_RETURN(r.kinds, ParseDataKinds(*kinds, what));
    return Status::Ok();
  }
  if (type == "data_delete_all") {
    r.op = DataOp::kDeleteAll;
    return OnlyFields(m, what, {"type", "id"});
  }
  if (type == "data_write") {
    r.op = DataOp::kWrite;
    WARDEN_TRY(OnlyFields(m, what, {"type", "id", "kind", "value"}));
    WARDEN_ASSIGN_OR_RETURN(r.kind, KindNameField(m, what));
    auto value = m.find("value");
    if (value == m.end() || !value->is_string()) {
      return InvalidArgumentError(what + ": \"value\" must be a string");
    }
    if (value->get_ref<const std::string&>().size() > kMaxDataValueSize) {
      return InvalidArgumentError(what + ": value over " +
                                  std::to_string(kMaxDataValueSize) + " bytes");
    }
    r.value = value->get<std::string>();
    return Status::Ok();
  }
  if (type == "data_read" || type == "data_erase") {
    r.op = type == "data_read" ? DataOp::kRead : DataOp::kErase;
    WARDEN_TRY(OnlyFields(m, what, {"type", "id", "kind", "record"}));
    WARDEN_ASSIGN_OR_RETURN(r.kind, KindNameField(m, what));
    WARDEN_ASSIGN_OR_RETURN(r.record,
                            IntField(m, what, "record", 1, INT64_MAX));
    return Status::Ok();
  }
  if (type == "data_list") {
    r.op = DataOp::kList;
    WARDEN_TRY(OnlyFields(m, what, {"type", "id", "kind", "after", "limit"}));
    WARDEN_ASSIGN_OR_RETURN(r.kind, KindNameField(m, what));
    r.after = 0;
    if (m.contains("after")) {
      WARDEN_ASSIGN_OR_RETURN(r.after,
                              IntField(m, what, "after", 0, INT64_MAX));
    }
    r.limit = kMaxDataListLimit;
    if (m.contains("limit")) {
      WARDEN_ASSIGN_OR_RETURN(
          int64_t limit, IntField(m, what, "limit", 1,
                                  static_cast<int64_t>(kMaxDataListLimit)));
      r.limit = static_cast<size_t>(limit);
    }
    return Status::Ok();
  }
  return InvalidArgumentError("unknown message type");
}

bool IsDataType(const std::string& t) {
  return t == "data_declare" || t == "data_write" || t == "data_read" ||
         t == "data_list" || t == "data_erase" || t == "data_delete_all";
}

Result<AppMessage> ParseData(const Json& m, const std::string& type) {
  auto id = m.find("id");
  if (id == m.end() || !id->is_number_unsigned()) {
    return InvalidArgumentError(type +
                                ": \"id\" must be a non-negative integer");
  }
  DataRequest request;
  request.id = id->get<uint64_t>();
  Status body = ParseDataBody(m, type, request);
  if (!body.ok()) {
    DataRequest refused;
    refused.id = request.id;
    refused.op = request.op;
    refused.refusal = body.message();
    return AppMessage(std::move(refused));
  }
  return AppMessage(std::move(request));
}

Result<AppMessage> ParseHello(const Json& m) {
  WARDEN_TRY(OnlyFields(
      m, "hello",
      {"type", "protocol", "app", "version", "capabilities", "data"}));
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
  auto data = m.find("data");
  if (data != m.end()) {
    WARDEN_ASSIGN_OR_RETURN(hello.data, ParseDataKinds(*data, "hello: data"));
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
  if (IsDataType(t)) return ParseData(m, t);
  return InvalidArgumentError("unknown message type");
}

}  // namespace warden::app
