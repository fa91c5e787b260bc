// Reading a device's replies: the limits a reply is parsed with, its JSON
// body, turning an error reply into a Status, and making device-supplied
// text safe to print. Everything here handles bytes a device chose, so it
// is the code the device-reply fuzz target drives (fuzz/fuzz_device_reply.cc).
#ifndef WARDEN_CLIENT_API_ERROR_H_
#define WARDEN_CLIENT_API_ERROR_H_

#include <string>
#include <string_view>

#include "base/status.h"
#include "schema/json.h"
#include "web/http.h"

namespace warden::client {

using ReplyParser = web::http::response_parser<web::http::string_body>;

// Sets the header and body limits of `limits` on `parser`, so that reading
// stops with header_limit or body_limit as soon as a limit is passed.
void LimitReplyParser(ReplyParser& parser, const web::HttpLimits& limits);

// kResourceExhausted when a parsed reply has more header fields than
// `limits.header_fields` (Beast's parser does not count them).
Status CheckReplyHeader(const web::Response& reply,
                        const web::HttpLimits& limits);

// Parses one whole reply from `wire` exactly as a Connection reads one from
// the socket (same parser, same limits; end of input counts as the device
// closing the connection). kResourceExhausted over a limit, kUnavailable
// for malformed or incomplete HTTP.
Result<web::Response> ParseReply(std::string_view wire,
                                 const web::HttpLimits& limits);

// The reply's body as JSON within `limits.json`. kUnavailable "device sent
// malformed JSON: ..." otherwise.
Result<schema::Json> ReplyJson(
    const web::Response& reply,
    const web::HttpLimits& limits = web::DeviceReplyLimits());

// Device text with control characters (terminal escapes included) replaced
// by '?' and cut to `max` bytes, so a hostile device cannot rewrite the
// owner's terminal.
std::string Printable(std::string_view text, size_t max = 512);

// OK for a 2xx reply. Otherwise a Status whose code follows the HTTP
// status (400/405/413/415 kInvalidArgument, 401 kUnauthenticated, 403
// kPermissionDenied, 404 kNotFound, 409 kFailedPrecondition, 414/431/429
// kResourceExhausted, 503 kUnavailable, 504 kDeadlineExceeded, other
// kInternal) and whose message is "CONTEXT: FIELD: MESSAGE (RULE)" from the
// JSON error body (field and rule when present, all of it Printable), with
// "retry after N s" for 429. The message never holds a control character.
Status StatusFromResponse(
    const web::Response& reply, std::string_view context,
    const web::HttpLimits& limits = web::DeviceReplyLimits());

}  // namespace warden::client

#endif  // WARDEN_CLIENT_API_ERROR_H_
