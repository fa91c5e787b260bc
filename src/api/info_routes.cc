#include "api/info_routes.h"

#include "provision/device.h"
#include "updater/update_service.h"

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
  schema::Json j = {{"serial", info.serial},
                    {"model", info.model},
                    {"maker", info.maker},
                    {"firmware_version", info.firmware_version},
                    {"support_end", info.support_end},
                    {"paired", *paired},
                    {"api", "warden/1"}};
  if (ctx_.updater != nullptr) {
    // The running release's own support period and whether the installed
    // system verified: what an owner or buyer must see without logging in.
    updater::UpdateSnapshot s = ctx_.updater->Snapshot();
    if (!s.current_version.empty()) j["firmware_version"] = s.current_version;
    j["support_until"] = s.support_until;
    // The running release's signed date supersedes the one provisioned at
    // the factory, so the device states one support period.
    if (!s.support_until.empty()) j["support_end"] = s.support_until;
    j["supported"] = s.supported;
    j["integrity"] = {{"ok", s.integrity.ok}, {"reason", s.integrity.reason}};
    j["safe_mode"] = !s.integrity.ok;
  }
  return call.Json(status::ok, j);
}

}  // namespace warden::api
