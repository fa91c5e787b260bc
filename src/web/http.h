// HTTP types, limits and error replies of the owner API, shared by the
// device's server and the owner's client. Every error reply is JSON with the
// failing field and rule (docs/PROTOCOLS.md).
#ifndef WARDEN_WEB_HTTP_H_
#define WARDEN_WEB_HTTP_H_

#include <boost/beast/http.hpp>
#include <optional>
#include <string>

#include "base/status.h"
#include "schema/json.h"

namespace warden::web {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct HttpLimits {
  size_t header_bytes = 8 * 1024;  // request line and headers
  size_t header_fields = 64;
  size_t target_bytes = 2 * 1024;
  size_t body_bytes = 64 * 1024;
  schema::JsonLimits json;
};

// What the owner's client accepts from a device: replies may be larger than
// requests (the state of every capability) but are bounded all the same.
// target_bytes does not apply to a reply.
inline HttpLimits DeviceReplyLimits() {
  HttpLimits limits;
  limits.header_bytes = 16 * 1024;
  limits.header_fields = 64;
  limits.body_bytes = 1024 * 1024;
  limits.json.max_bytes = limits.body_bytes;
  limits.json.max_depth = 32;
  limits.json.max_string = limits.body_bytes;
  limits.json.max_items = 16384;
  return limits;
}

// An error reply about to be sent.
struct ApiError {
  http::status status = http::status::bad_request;
  Code code = Code::kInvalidArgument;
  std::string message;
  std::string field;  // JSON pointer into the request body, or empty
  std::string rule;   // schema keyword or limit name, or empty
  std::optional<int64_t> retry_after_seconds;
};

// The HTTP status a failed Status maps to.
http::status HttpStatusFor(Code code);

// An ApiError from a Status, with the status code it maps to.
ApiError ErrorFromStatus(const Status& status);

Response JsonResponse(http::status status, const schema::Json& body,
                      unsigned version);
Response ErrorResponse(const ApiError& error, unsigned version);
Response EmptyResponse(http::status status, unsigned version);

}  // namespace warden::web

#endif  // WARDEN_WEB_HTTP_H_
