// The app's state, for owners: its capabilities, every value, one value,
// and commands that set one. A value is checked against the schema the app
// declared for its capability before the app sees it.
#ifndef WARDEN_API_STATE_ROUTES_H_
#define WARDEN_API_STATE_ROUTES_H_

#include <optional>

#include "api/router.h"
#include "api/service_context.h"

namespace warden::api {

class StateRoutes {
 public:
  explicit StateRoutes(ServiceContext& context) : ctx_(context) {}
  Status Register(Router& router);

 private:
  Response Capabilities(Call& call);
  Response State(Call& call);
  Response Get(Call& call);
  boost::asio::awaitable<Response> Put(Call& call);
  // A 503 reply when the app is not running, else nullopt.
  std::optional<Response> AppUnavailable(Call& call);

  ServiceContext& ctx_;
};

}  // namespace warden::api

#endif  // WARDEN_API_STATE_ROUTES_H_
