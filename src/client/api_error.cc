#include "client/api_error.h"

#include <algorithm>

namespace warden::client {

std::string Printable(std::string_view text, size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max));
  for (char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

Status StatusFromResponse(const HttpResponse& response,
                          std::string_view context) {
  int s = response.status;
  if (s >= 200 && s < 300) return Status::Ok();

  std::string message;
  std::string field;
  std::string rule;
  Result<schema::Json> body = response.Json();
  if (body.ok() && body->is_object() && body->contains("error") &&
      (*body)["error"].is_object()) {
    const schema::Json& e = (*body)["error"];
    auto text = [&](const char* key) {
      auto it = e.find(key);
      return it != e.end() && it->is_string()
                 ? Printable(it->get<std::string>())
                 : std::string();
    };
    message = text("message");
    field = text("field");
    rule = text("rule");
  }
  if (message.empty()) message = "HTTP status " + std::to_string(s);

  Code code;
  switch (s) {
    case 400:
    case 405:
    case 413:
    case 415:
      code = Code::kInvalidArgument;
      break;
    case 401:
      code = Code::kUnauthenticated;
      break;
    case 403:
      code = Code::kPermissionDenied;
      break;
    case 404:
      code = Code::kNotFound;
      break;
    case 409:
      code = Code::kFailedPrecondition;
      break;
    case 414:
    case 429:
    case 431:
      code = Code::kResourceExhausted;
      break;
    case 503:
      code = Code::kUnavailable;
      break;
    case 504:
      code = Code::kDeadlineExceeded;
      break;
    default:
      code = Code::kInternal;
      break;
  }
  std::string text(context);
  if (!text.empty()) text += ": ";
  if (!field.empty()) text += field + ": ";
  text += message;
  if (!rule.empty()) text += " (" + rule + ")";
  if (s == 429) {
    std::string after = response.header("retry-after");
    bool digits = !after.empty() && after.size() <= 9 &&
                  after.find_first_not_of("0123456789") == std::string::npos;
    text += digits ? "; retry after " + after + " s" : "; retry later";
  }
  return Status(code, std::move(text));
}

}  // namespace warden::client
