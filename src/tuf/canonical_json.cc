#include "tuf/canonical_json.h"

namespace warden::tuf {
namespace {

Status Encode(const schema::Json& v, std::string& out) {
  using Type = schema::Json::value_t;
  auto string = [&out](const std::string& s) {
    out += '"';
    for (char c : s) {
      if (c == '\\' || c == '"') out += '\\';
      out += c;
    }
    out += '"';
  };
  switch (v.type()) {
    case Type::null:
      out += "null";
      return Status::Ok();
    case Type::boolean:
      out += v.get<bool>() ? "true" : "false";
      return Status::Ok();
    case Type::number_integer:
      out += std::to_string(v.get<int64_t>());
      return Status::Ok();
    case Type::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      return Status::Ok();
    case Type::string:
      string(v.get_ref<const std::string&>());
      return Status::Ok();
    case Type::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ',';
        first = false;
        WARDEN_TRY(Encode(item, out));
      }
      out += ']';
      return Status::Ok();
    }
    case Type::object: {
      // nlohmann's object is a std::map: its keys are already in byte
      // order.
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out += ',';
        first = false;
        string(key);
        out += ':';
        WARDEN_TRY(Encode(item, out));
      }
      out += '}';
      return Status::Ok();
    }
    case Type::number_float:
      return InvalidArgumentError(
          "canonical JSON has no floating-point numbers");
    default:
      return InvalidArgumentError("value has no canonical JSON form");
  }
}

}  // namespace

Result<std::string> EncodeCanonical(const schema::Json& value) {
  std::string out;
  WARDEN_TRY(Encode(value, out));
  return out;
}

}  // namespace warden::tuf
