#include "api/state_routes.h"

#include "app/app_host.h"
#include "app/app_protocol.h"
#include "events/catalog.h"

namespace warden::api {
namespace {

using http::status;
using http::verb;

constexpr std::string_view kPutSchema = R"({
  "type": "object", "required": ["value"], "additionalProperties": false,
  "properties": {"value": {}}})";

ApiError NoSuchCapability() {
  return MakeError(status::not_found, Code::kNotFound, "no such capability");
}

}  // namespace

Status StateRoutes::Register(Router& router) {
  WARDEN_TRY(
      router.Add({verb::get, "/v1/capabilities", Access::kOwner, "", false,
                  Immediate([this](Call& c) { return Capabilities(c); })}));
  WARDEN_TRY(router.Add({verb::get, "/v1/state", Access::kOwner, "", false,
                         Immediate([this](Call& c) { return State(c); })}));
  WARDEN_TRY(
      router.Add({verb::get, "/v1/state/{key}", Access::kOwner, "", false,
                  Immediate([this](Call& c) { return Get(c); })}));
  return router.Add({verb::put, "/v1/state/{key}", Access::kOwner,
                     std::string(kPutSchema), false,
                     [this](Call& c) { return Put(c); }});
}

std::optional<Response> StateRoutes::AppUnavailable(Call& call) {
  if (ctx_.app && ctx_.app->ready()) return std::nullopt;
  return call.Error(MakeError(status::service_unavailable, Code::kUnavailable,
                              "the device application is not running"));
}

Response StateRoutes::Capabilities(Call& call) {
  if (auto unavailable = AppUnavailable(call)) return *unavailable;
  schema::Json list = schema::Json::array();
  for (const auto& cap : ctx_.app->capabilities()) {
    list.push_back({{"key", cap.key},
                    {"description", cap.description},
                    {"writable", cap.writable},
                    {"schema", cap.schema.json()}});
  }
  return call.Json(status::ok, {{"capabilities", list}});
}

Response StateRoutes::State(Call& call) {
  if (auto unavailable = AppUnavailable(call)) return *unavailable;
  return call.Json(status::ok, {{"state", ctx_.app->Values()}});
}

Response StateRoutes::Get(Call& call) {
  if (auto unavailable = AppUnavailable(call)) return *unavailable;
  std::string_view key = call.Param("key");
  if (!app::IsValidCapabilityKey(key) || ctx_.app->Find(key) == nullptr) {
    return call.Error(NoSuchCapability());
  }
  auto value = ctx_.app->Value(key);
  return call.Json(status::ok, {{"key", std::string(key)},
                                {"value", value ? *value : schema::Json()}});
}

boost::asio::awaitable<Response> StateRoutes::Put(Call& call) {
  if (auto unavailable = AppUnavailable(call)) co_return *unavailable;
  const std::string key(call.Param("key"));
  const app::Capability* cap =
      app::IsValidCapabilityKey(key) ? ctx_.app->Find(key) : nullptr;
  if (cap == nullptr) co_return call.Error(NoSuchCapability());
  if (!cap->writable) {
    co_return call.Error(MakeError(status::conflict, Code::kFailedPrecondition,
                                   key + " is read-only", "", "readOnly"));
  }
  const schema::Json& value = call.body["value"];
  if (auto violation = cap->schema.Check(value)) {
    std::string field = "/value" + violation->pointer;
    co_return call.Error(MakeError(status::bad_request, Code::kInvalidArgument,
                                   violation->message, field, violation->rule));
  }
  Status st = co_await ctx_.app->Command(key, value);
  if (!st.ok()) {
    ApiError e = ErrorFromStatus(st);
    if (st.code() == Code::kFailedPrecondition) {
      e.status = status::unprocessable_entity;
      e.message = "the device refused the value: " + st.message();
    }
    co_return call.Error(e);
  }
  ctx_.events.Publish(events::Event(events::kStateChanged)
                          .Text("key", key)
                          .Personal("owner", call.owner().name));
  co_return call.Json(status::ok, {{"key", key}, {"value", value}});
}

}  // namespace warden::api
