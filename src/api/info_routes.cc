#include "api/info_routes.h"

#include "provision/device.h"

namespace warden::api {

using http::status;
using http::verb;

Status InfoRoutes::Register(Router& router) {
  WARDEN_TRY(router.Add(
      {verb::get, "/.well-known/security.txt", Access::kPublic, "", false,
       Immediate([this](Call& c) { return SecurityTxt(c); })}));
  return router.Add({verb::get, "/v1/info", Access::kPublic, "", false,
                     Immediate([this](Call& c) { return Info(c); })});
}

Response InfoRoutes::SecurityTxt(Call& call) {
  Response res(status::ok, call.request.version());
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = provision::RenderSecurityTxt(ctx_.facts.info, ctx_.clock.Now(),
                                            ctx_.facts.canonical_url);
  res.prepare_payload();
  return res;
}

Response InfoRoutes::Info(Call& call) {
  auto paired = ctx_.store.IsPaired();
  if (!paired.ok()) return call.Error(paired.status());
  const auto& info = ctx_.facts.info;
  return call.Json(status::ok, {{"serial", info.serial},
                                {"model", info.model},
                                {"maker", info.maker},
                                {"firmware_version", info.firmware_version},
                                {"support_end", info.support_end},
                                {"paired", *paired},
                                {"api", "warden/1"}});
}

}  // namespace warden::api
