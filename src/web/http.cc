#include "web/http.h"

namespace warden::web {

http::status HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return http::status::ok;
    case Code::kInvalidArgument:
      return http::status::bad_request;
    case Code::kNotFound:
      return http::status::not_found;
    case Code::kAlreadyExists:
      return http::status::conflict;
    case Code::kFailedPrecondition:
      return http::status::conflict;
    case Code::kPermissionDenied:
      return http::status::forbidden;
    case Code::kResourceExhausted:
      return http::status::too_many_requests;
    case Code::kUnavailable:
      return http::status::service_unavailable;
    case Code::kDeadlineExceeded:
      return http::status::gateway_timeout;
    case Code::kUnauthenticated:
      return http::status::unauthorized;
    case Code::kBadSignature:
      return http::status::unauthorized;
    case Code::kExpired:
      return http::status::unauthorized;
    case Code::kRollback:
    case Code::kIntegrity:
    case Code::kIo:
    case Code::kDataLoss:
    case Code::kInternal:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

ApiError ErrorFromStatus(const Status& status) {
  ApiError e;
  e.status = HttpStatusFor(status.code());
  e.code = status.code();
  e.message = status.message();
  return e;
}

Response JsonResponse(http::status status, const schema::Json& body,
                      unsigned version) {
  Response res(status, version);
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() =
      body.dump(-1, ' ', false, schema::Json::error_handler_t::replace);
  res.body() += '\n';
  res.prepare_payload();
  return res;
}

Response ErrorResponse(const ApiError& error, unsigned version) {
  schema::Json e = {{"code", std::string(CodeName(error.code))},
                    {"message", error.message}};
  if (!error.field.empty() || !error.rule.empty()) e["field"] = error.field;
  if (!error.rule.empty()) e["rule"] = error.rule;
  Response res = JsonResponse(error.status, {{"error", e}}, version);
  if (error.retry_after_seconds) {
    res.set(http::field::retry_after,
            std::to_string(std::max<int64_t>(1, *error.retry_after_seconds)));
  }
  if (error.status == http::status::unauthorized) {
    res.set(http::field::www_authenticate, "Bearer realm=\"warden\"");
  }
  return res;
}

Response EmptyResponse(http::status status, unsigned version) {
  Response res(status, version);
  res.set(http::field::cache_control, "no-store");
  res.prepare_payload();
  return res;
}

}  // namespace warden::web
