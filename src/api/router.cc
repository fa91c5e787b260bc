#include "api/router.h"

#include <boost/beast/core/string.hpp>

#include "events/catalog.h"

namespace warden::api {
namespace {

using http::status;

// Longest path we echo back in an error message.
constexpr size_t kShownPath = 128;

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding of one segment; nullopt for a malformed escape
// or a decoded NUL.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = HexValue(s[i + 1]);
    int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return std::nullopt;
    out.push_back(c);
    i += 2;
  }
  return out;
}

// A member name as one JSON pointer token (RFC 6901).
std::string PointerToken(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool IsParameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

std::string_view AccessName(Access a) {
  switch (a) {
    case Access::kPublic:
      return "public";
    case Access::kOwner:
      return "owner";
    case Access::kAdmin:
      return "admin";
  }
  return "?";
}

}  // namespace

struct Router::Entry {
  Route route;
  std::vector<std::string> segments;  // "{name}" for a parameter
  std::optional<schema::Schema> schema;
};

ApiError MakeError(status s, Code code, std::string message, std::string field,
                   std::string rule) {
  ApiError e;
  e.status = s;
  e.code = code;
  e.message = std::move(message);
  e.field = std::move(field);
  e.rule = std::move(rule);
  return e;
}

std::string_view Call::Param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

Response Call::Json(status s, const schema::Json& body) const {
  return JsonResponse(s, body, request.version());
}

Response Call::Empty(status s) const {
  return EmptyResponse(s, request.version());
}

Response Call::Error(const ApiError& error) const {
  return ErrorResponse(error, request.version());
}

Response Call::Error(const Status& st) const {
  ApiError e = ErrorFromStatus(st);
  // A busy worker pool or a full table: worth a retry shortly.
  if (st.code() == Code::kResourceExhausted) e.retry_after_seconds = 1;
  return ErrorResponse(e, request.version());
}

Handler Immediate(std::function<Response(Call&)> fn) {
  return [fn = std::move(fn)](Call& call) -> boost::asio::awaitable<Response> {
    co_return fn(call);
  };
}

Router::Router(const HttpLimits& limits, Authenticator& auth,
               events::Bus& events)
    : limits_(limits), auth_(auth), events_(events) {}

Router::~Router() = default;

Status Router::Add(Route route) {
  const std::string where =
      std::string(http::to_string(route.method)) + " " + route.path;
  if (route.path.empty() || route.path[0] != '/') {
    return InvalidArgumentError(where + ": a route path is absolute");
  }
  auto entry = std::make_unique<Entry>();
  for (std::string_view segment : Segments(route.path)) {
    if (segment.empty() ||
        (segment.find_first_of("{}") != std::string_view::npos &&
         !IsParameter(segment))) {
      return InvalidArgumentError(where + ": malformed path segment");
    }
    entry->segments.emplace_back(segment);
  }
  // Parameters match any segment, so their names do not tell routes apart.
  auto same_shape = [](const std::vector<std::string>& a,
                       const std::vector<std::string>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (IsParameter(a[i]) != IsParameter(b[i])) return false;
      if (!IsParameter(a[i]) && a[i] != b[i]) return false;
    }
    return true;
  };
  for (const auto& other : routes_) {
    if (other->route.method == route.method &&
        same_shape(other->segments, entry->segments)) {
      return AlreadyExistsError(where + " is registered already");
    }
  }
  if (!route.body_schema.empty()) {
    schema::Json doc = schema::Json::parse(route.body_schema, nullptr, false);
    if (doc.is_discarded()) {
      return InvalidArgumentError(where + ": the body schema is not JSON");
    }
    auto compiled = schema::Schema::Compile(doc);
    if (!compiled.ok()) return compiled.status().WithContext(where);
    entry->schema = std::move(*compiled);
  }
  if (!route.handler) return InvalidArgumentError(where + ": no handler");
  entry->route = std::move(route);
  routes_.push_back(std::move(entry));
  return Status::Ok();
}

std::vector<std::string> Router::Describe() const {
  std::vector<std::string> out;
  for (const auto& e : routes_) {
    out.push_back(std::string(http::to_string(e->route.method)) + " " +
                  e->route.path + " " +
                  std::string(AccessName(e->route.access)));
  }
  return out;
}

boost::asio::awaitable<Response> Router::Dispatch(Request request, Peer& peer) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  const std::vector<std::string_view> segments = Segments(path);
  auto version = request.version();

  // The route, and its decoded parameters.
  const Entry* found = nullptr;
  std::vector<std::pair<std::string, std::string>> params;
  std::string allowed;
  bool malformed = false;
  for (const auto& entry : routes_) {
    if (entry->segments.size() != segments.size()) continue;
    std::vector<std::pair<std::string, std::string>> here;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      const std::string& want = entry->segments[i];
      if (!IsParameter(want)) {
        match = want == segments[i];
        continue;
      }
      auto decoded = PercentDecode(segments[i]);
      if (!decoded) malformed = true;
      match = decoded.has_value() && !decoded->empty();
      if (match) here.emplace_back(want.substr(1, want.size() - 2), *decoded);
    }
    if (!match) continue;
    if (entry->route.method != request.method()) {
      if (!allowed.empty()) allowed += ", ";
      allowed += std::string(http::to_string(entry->route.method));
      continue;
    }
    found = entry.get();
    params = std::move(here);
    break;
  }
  if (found == nullptr) {
    if (!allowed.empty()) {
      Response res = ErrorResponse(
          MakeError(status::method_not_allowed, Code::kInvalidArgument,
                    std::string(request.method_string()) +
                        " is not allowed on " +
                        std::string(path.substr(0, kShownPath))),
          version);
      res.set(http::field::allow, allowed);
      co_return res;
    }
    if (malformed) {
      co_return ErrorResponse(
          MakeError(status::bad_request, Code::kInvalidArgument,
                    "malformed percent-encoding in the path", "", "target"),
          version);
    }
    co_return ErrorResponse(
        MakeError(
            status::not_found, Code::kNotFound,
            "no such endpoint: " + std::string(path.substr(0, kShownPath))),
        version);
  }
  const Route& route = found->route;

  std::optional<Principal> principal;
  if (route.access != Access::kPublic) {
    auto who = auth_.Authenticate(request, peer);
    if (!who.ok())
      co_return ErrorResponse(ErrorFromStatus(who.status()), version);
    if (route.access == Access::kAdmin &&
        who->owner.role != store::Role::kAdmin) {
      events_.Publish(
          events::Event(events::kAccessDenied)
              .Personal("owner", who->owner.name)
              .Text("route", std::string(http::to_string(route.method)) + " " +
                                 route.path)
              .Personal("peer", peer.address));
      co_return ErrorResponse(
          MakeError(status::forbidden, Code::kPermissionDenied,
                    "only an administrator may do this", "", "role"),
          version);
    }
    principal = std::move(*who);
  }

  schema::Json body = schema::Json::object();
  if (!found->schema) {
    if (!request.body().empty()) {
      co_return ErrorResponse(
          MakeError(status::bad_request, Code::kInvalidArgument,
                    "this endpoint takes no request body", "", "body"),
          version);
    }
  } else if (request.body().empty() && !route.body_optional) {
    co_return ErrorResponse(
        MakeError(status::bad_request, Code::kInvalidArgument,
                  "this endpoint needs a JSON request body", "", "body"),
        version);
  } else if (!request.body().empty()) {
    std::string_view type = request[http::field::content_type];
    std::string_view media = type.substr(0, type.find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    if (!boost::beast::iequals(media, "application/json")) {
      co_return ErrorResponse(
          MakeError(status::unsupported_media_type, Code::kInvalidArgument,
                    "request body must be application/json", "",
                    "content_type"),
          version);
    }
    schema::JsonError json_error;
    auto parsed = schema::ParseJson(request.body(), limits_.json, &json_error);
    if (!parsed.ok()) {
      co_return ErrorResponse(
          MakeError(
              status::bad_request, Code::kInvalidArgument,
              "request body is not acceptable JSON: " + json_error.message, "",
              json_error.rule),
          version);
    }
    body = std::move(*parsed);
  }
  if (found->schema) {
    if (auto v = found->schema->Check(body)) {
      std::string field = v->pointer;
      if (!v->missing.empty()) field += "/" + PointerToken(v->missing);
      std::string message =
          field.empty() ? v->message : field.substr(1) + ": " + v->message;
      co_return ErrorResponse(
          MakeError(status::bad_request, Code::kInvalidArgument,
                    std::move(message), field, v->rule),
          version);
    }
  }

  Call call{request, peer, std::move(principal), std::move(body),
            std::move(params)};
  // A copy, so the handler's captures live as long as its coroutine.
  Handler handler = route.handler;
  co_return co_await handler(call);
}

}  // namespace warden::api
