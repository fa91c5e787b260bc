// The owner API's route registry. Each subsystem's handler group registers
// its routes: method, path (a segment in braces, "/v1/state/{key}", is a
// parameter), the access the route requires, and the JSON Schema of its
// body. For every request the registry, in this order,
//   - finds the route: 404 for an unknown path, 405 with Allow for a known
//     path and another method;
//   - authenticates the owner (401) and checks their role (403, with an
//     access_denied event) unless the route is public;
//   - parses the body with the JSON limits (415 without application/json,
//     400 naming the limit) and checks it against the route's schema (400
//     naming the field and the rule); a route without a schema takes no
//     body;
// and only then runs the handler, which receives the parsed, valid body,
// the decoded path parameters and the authenticated owner. Adding a
// subsystem is a new handler group and one registration (docs/
// ARCHITECTURE.md).
//
// Transport-free: the TLS server hands the service parsed requests. Not
// thread-safe; the daemon uses it from its event loop.
#ifndef WARDEN_API_ROUTER_H_
#define WARDEN_API_ROUTER_H_

// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "api/peer.h"
#include "base/status.h"
#include "events/bus.h"
#include "schema/json.h"
#include "schema/schema.h"
#include "store/state_store.h"

namespace warden::api {

// What a route requires of the client.
enum class Access {
  kPublic,  // anyone
  kOwner,   // any registered owner, administrator or member
  kAdmin,   // an owner whose role is administrator
};

// The owner a request was authenticated as.
struct Principal {
  store::Owner owner;
  // The bearer token the request carried (empty for a client certificate).
  std::string token;
};

// Decides who sent a request. Implemented by the owners' handler group.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // kUnauthenticated when the request carries no valid owner credential.
  virtual Result<Principal> Authenticate(const Request& request,
                                         Peer& peer) = 0;
};

// One request on its way to its handler, with what the registry found out.
struct Call {
  const Request& request;
  Peer& peer;
  // Set for every route that is not public.
  std::optional<Principal> principal;
  // The body, valid against the route's schema; an empty object for a
  // route without one.
  schema::Json body;
  // Path parameters, percent-decoded, in path order.
  std::vector<std::pair<std::string, std::string>> params;

  // The parameter `name`, or "" when the route has none of that name.
  std::string_view Param(std::string_view name) const;
  // The authenticated owner; only for routes that are not public.
  const store::Owner& owner() const { return principal->owner; }

  Response Json(http::status status, const schema::Json& body) const;
  Response Empty(http::status status) const;
  Response Error(const ApiError& error) const;
  Response Error(const Status& status) const;
};

using Handler = std::function<boost::asio::awaitable<Response>(Call&)>;

struct Route {
  http::verb method;
  // Absolute, "/"-separated; a segment "{name}" matches any one non-empty
  // segment and is passed to the handler percent-decoded.
  std::string path;
  Access access = Access::kOwner;
  // The JSON Schema of the body (schema/schema.h), as JSON text; empty for
  // a route that takes no body.
  std::string body_schema;
  // With a schema: an empty body stands for {} (and must satisfy it).
  bool body_optional = false;
  Handler handler;
};

// A handler written as a plain function: wraps it in a coroutine.
Handler Immediate(std::function<Response(Call&)> fn);

// An ApiError with the given parts.
ApiError MakeError(http::status status, Code code, std::string message,
                   std::string field = "", std::string rule = "");

class Router {
 public:
  // `limits`, `auth` and `events` must outlive the router.
  Router(const HttpLimits& limits, Authenticator& auth, events::Bus& events);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers a route. Errors: kInvalidArgument for a path that is not
  // absolute, has an empty or malformed segment, or for a schema that is
  // not JSON or does not compile; kAlreadyExists when the method and path
  // are registered already. Registration happens at start; a failure is a
  // bug in the handler group.
  Status Add(Route route);

  // Answers one request, every failure as an error reply.
  boost::asio::awaitable<Response> Dispatch(Request request, Peer& peer);

  // The registered routes, "METHOD PATH ACCESS", in registration order.
  std::vector<std::string> Describe() const;

 private:
  struct Entry;
  const HttpLimits& limits_;
  Authenticator& auth_;
  events::Bus& events_;
  std::vector<std::unique_ptr<Entry>> routes_;
};

}  // namespace warden::api

#endif  // WARDEN_API_ROUTER_H_
