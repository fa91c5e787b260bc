// Turning a device's HTTP answer into a Status, and device-supplied text
// into something safe to print.
#ifndef WARDEN_CLIENT_API_ERROR_H_
#define WARDEN_CLIENT_API_ERROR_H_

#include <string>
#include <string_view>

#include "base/status.h"
#include "client/connection.h"

namespace warden::client {

// Device text with control characters (terminal escapes included) replaced
// by '?' and cut to `max` bytes, so a hostile device cannot rewrite the
// owner's terminal.
std::string Printable(std::string_view text, size_t max = 512);

// OK for a 2xx response. Otherwise a Status whose code follows the HTTP
// status (400/413/415 kInvalidArgument, 401 kUnauthenticated, 403
// kPermissionDenied, 404 kNotFound, 409 kFailedPrecondition, 414/431/429
// kResourceExhausted, 503 kUnavailable, 504 kDeadlineExceeded, other
// kInternal) and whose message is "CONTEXT: FIELD: MESSAGE (RULE)" from the
// error body (field and rule when present), with "retry after N s" for 429.
Status StatusFromResponse(const HttpResponse& response,
                          std::string_view context);

}  // namespace warden::client

#endif  // WARDEN_CLIENT_API_ERROR_H_
