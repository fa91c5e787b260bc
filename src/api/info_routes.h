// Public facts about the unit: security.txt (RFC 9116) and /v1/info. No
// personal data and nothing secret.
#ifndef WARDEN_API_INFO_ROUTES_H_
#define WARDEN_API_INFO_ROUTES_H_

#include "api/router.h"
#include "api/service_context.h"

namespace warden::api {

class InfoRoutes {
 public:
  explicit InfoRoutes(ServiceContext& context) : ctx_(context) {}
  Status Register(Router& router);

 private:
  Response SecurityTxt(Call& call);
  Response Info(Call& call);

  ServiceContext& ctx_;
};

}  // namespace warden::api

#endif  // WARDEN_API_INFO_ROUTES_H_
