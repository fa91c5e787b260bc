#include "api/owner_routes.h"

#include "api/data_routes.h"

#include "api/password_jobs.h"
#include "crypto/hash.h"
#include "crypto/secret.h"
#include "events/catalog.h"

namespace warden::api {
namespace {

using http::status;
using http::verb;

constexpr std::string_view kLoginSchema = R"({
  "type": "object", "required": ["owner", "password"],
  "additionalProperties": false,
  "properties": {
    "owner": {"type": "string", "minLength": 1, "maxLength": 64},
    "password": {"type": "string", "maxLength": 128},
    "device_cookie": {"type": "string", "maxLength": 64}}})";
constexpr std::string_view kPasswordSchema = R"({
  "type": "object", "required": ["password"], "additionalProperties": false,
  "properties": {"password": {"type": "string", "maxLength": 128}}})";
constexpr std::string_view kResetSchema = R"({
  "type": "object", "additionalProperties": false,
  "properties": {"transfer": {"type": "boolean"}}})";

// Device cookies last a year from the login that issued them.
constexpr std::chrono::seconds kDeviceCookieLifetime{365 * 24 * 3600};
constexpr size_t kDeviceCookieBytes = 32;

std::string CookieHash(std::string_view token) {
  return HexEncode(crypto::Sha256(AsBytes(token)));
}

// The value of cookie `name` in a Cookie header (RFC 6265 section 4.2).
std::optional<std::string> CookieValue(std::string_view header,
                                       std::string_view name) {
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view()
                                           : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

schema::Json OwnerJson(const store::Owner& owner) {
  return {{"name", owner.name},
          {"role", std::string(store::RoleName(owner.role))},
          {"created_at", owner.created_at},
          {"key", owner.fingerprint}};
}

ApiError Forbidden(std::string message) {
  return MakeError(status::forbidden, Code::kPermissionDenied,
                   std::move(message), "", "role");
}

}  // namespace

OwnerRoutes::OwnerRoutes(ServiceContext& context, OwnerDirectory& owners)
    : ctx_(context),
      owners_(owners),
      strangers_(context.clock, context.options.login.stranger),
      cookies_(context.clock, context.options.login.cookie) {}

Status OwnerRoutes::Register(Router& router) {
  WARDEN_TRY(router.Add({verb::post, "/v1/login", Access::kPublic,
                         std::string(kLoginSchema), false,
                         [this](Call& c) { return Login(c); }}));
  WARDEN_TRY(router.Add({verb::post, "/v1/logout", Access::kOwner, "", false,
                         Immediate([this](Call& c) { return Logout(c); })}));
  WARDEN_TRY(router.Add({verb::put, "/v1/owner/password", Access::kOwner,
                         std::string(kPasswordSchema), false,
                         [this](Call& c) { return SetOwnPassword(c); }}));
  WARDEN_TRY(router.Add({verb::get, "/v1/owners", Access::kOwner, "", false,
                         Immediate([this](Call& c) { return List(c); })}));
  WARDEN_TRY(
      router.Add({verb::delete_, "/v1/owners/{name}", Access::kAdmin, "", false,
                  Immediate([this](Call& c) { return Remove(c); })}));
  WARDEN_TRY(router.Add({verb::put, "/v1/owners/{name}/password",
                         Access::kOwner, std::string(kPasswordSchema), false,
                         [this](Call& c) { return SetPassword(c); }}));
  return router.Add({verb::post, "/v1/reset", Access::kAdmin,
                     std::string(kResetSchema), true,
                     Immediate([this](Call& c) { return Reset(c); })});
}

Response OwnerRoutes::Throttled(Call& call, std::chrono::seconds retry_after,
                                std::string_view why) {
  ApiError e = MakeError(status::too_many_requests, Code::kResourceExhausted,
                         "too many failed logins; retry later");
  e.retry_after_seconds = std::max<int64_t>(retry_after.count(), 1);
  ctx_.events.Publish(events::Event(events::kLoginThrottled)
                          .Personal("peer", call.peer.address)
                          .Text("reason", std::string(why)));
  return call.Error(e);
}

std::optional<std::string> OwnerRoutes::PresentedCookie(
    const Call& call) const {
  if (auto it = call.body.find("device_cookie"); it != call.body.end()) {
    return it->get<std::string>();
  }
  return CookieValue(call.request[http::field::cookie], kDeviceCookieName);
}

std::optional<Response> OwnerRoutes::StartLogin(Call& call, LoginAttempt* a) {
  a->name = call.body["owner"].get<std::string>();
  auto owner = ctx_.store.FindOwnerByName(a->name);
  if (!owner.ok()) return call.Error(owner.status());
  a->owner = std::move(*owner);

  // A valid device cookie for this owner puts the login on its own
  // throttle; anything else is a stranger's login.
  a->presented = PresentedCookie(call);
  if (a->presented && a->owner) {
    const std::string hash = CookieHash(*a->presented);
    auto record =
        ctx_.store.FindDeviceCookie(hash, UnixSeconds(ctx_.clock.Now()));
    if (!record.ok()) return call.Error(record.status());
    if (*record && (*record)->owner_id == a->owner->id) a->cookie_key = hash;
  }

  if (a->cookie_key) {
    auto decision = cookies_.Check(*a->cookie_key);
    if (!decision.allowed) {
      return Throttled(call, decision.retry_after, "device cookie");
    }
    cookies_.RecordFailure(*a->cookie_key);
  } else {
    auto decision = strangers_.Check(call.peer.address);
    if (!decision.allowed) {
      return Throttled(call, decision.retry_after, "no device cookie");
    }
    if (strangers_checking_ >= ctx_.options.login.stranger_concurrent) {
      return Throttled(call, std::chrono::seconds(1), "busy");
    }
    // Counted now, before the password is checked: concurrent guesses
    // cannot slip past the limits while the checks run.
    strangers_.RecordFailure(call.peer.address);
  }

  if (a->owner) {
    auto hash = ctx_.store.PasswordHash(a->owner->id);
    if (!hash.ok()) return call.Error(hash.status());
    a->stored_hash = std::move(*hash);
  }
  return std::nullopt;
}

boost::asio::awaitable<Response> OwnerRoutes::Login(Call& call) {
  LoginAttempt a;
  if (auto refused = StartLogin(call, &a)) co_return std::move(*refused);
  if (!a.cookie_key) ++strangers_checking_;
  VerifyPasswordJob job(call.body["password"].get<std::string>(), a.stored_hash,
                        ctx_.options.password_hash);
  auto good = co_await ctx_.pool.Run(std::move(job));
  if (!a.cookie_key) --strangers_checking_;
  if (!good.ok()) co_return call.Error(good.status());
  co_return FinishLogin(call, a, *good);
}

Response OwnerRoutes::FinishLogin(Call& call, const LoginAttempt& a,
                                  bool good) {
  if (!good) {
    ctx_.events.Publish(events::Event(events::kLoginFailed)
                            .Personal("peer", call.peer.address)
                            .Personal("owner", a.name)
                            .Flag("device_cookie", a.cookie_key.has_value()));
    if (a.cookie_key && cookies_.failures(*a.cookie_key) >=
                            ctx_.options.login.cookie_max_failures) {
      Status st = ctx_.store.RemoveDeviceCookie(*a.cookie_key);
      if (st.ok()) {
        cookies_.RecordSuccess(*a.cookie_key);  // forgotten with the cookie
        ctx_.events.Publish(events::Event(events::kDeviceCookieRevoked)
                                .Personal("owner", a.name)
                                .Personal("peer", call.peer.address));
      }
    }
    return call.Error(MakeError(status::unauthorized, Code::kUnauthenticated,
                                "wrong owner name or password"));
  }

  const store::Owner& who = *a.owner;
  if (a.cookie_key) {
    cookies_.RecordSuccess(*a.cookie_key);
  } else {
    strangers_.RecordSuccess(call.peer.address);
  }
  auto session = owners_.StartSession(who);
  if (!session.ok()) return call.Error(session.status());

  // The device cookie: the one presented if it was valid, else a new one.
  std::string device_cookie;
  if (a.cookie_key) {
    device_cookie = *a.presented;
  } else {
    auto raw = RandomBytes(ctx_.rng, kDeviceCookieBytes);
    if (!raw.ok()) return call.Error(raw.status());
    device_cookie = Base64UrlEncode(*raw);
    crypto::Wipe(raw->data(), raw->size());
    const int64_t now = UnixSeconds(ctx_.clock.Now());
    Status st = ctx_.store.AddDeviceCookie(
        {.cookie_hash = CookieHash(device_cookie),
         .owner_id = who.id,
         .created_at = now,
         .expires_at = now + kDeviceCookieLifetime.count()});
    if (!st.ok()) return call.Error(st);
  }
  ctx_.events.Publish(events::Event(events::kLogin)
                          .Personal("peer", call.peer.address)
                          .Personal("owner", who.name)
                          .Flag("device_cookie", a.cookie_key.has_value()));
  // The connection is now an owner's: the server will not evict it.
  call.peer.session_token = session->token;
  Response res =
      call.Json(status::ok, {{"token", session->token},
                             {"expires_at", UnixSeconds(session->expires_at)},
                             {"owner", who.name},
                             {"role", std::string(store::RoleName(who.role))},
                             {"device_cookie", device_cookie}});
  res.set(
      http::field::set_cookie,
      std::string(kDeviceCookieName) + "=" + device_cookie +
          "; Path=/; Max-Age=" + std::to_string(kDeviceCookieLifetime.count()) +
          "; Secure; HttpOnly; SameSite=Strict");
  return res;
}

Response OwnerRoutes::Logout(Call& call) {
  if (!call.principal->token.empty()) {
    owners_.EndSession(call.principal->token);
  }
  ctx_.events.Publish(events::Event(events::kLogout)
                          .Personal("owner", call.owner().name)
                          .Personal("peer", call.peer.address));
  return call.Empty(status::no_content);
}

boost::asio::awaitable<Response> OwnerRoutes::SetOwnPassword(Call& call) {
  const store::Owner self = call.owner();
  co_return co_await ChangePassword(call, self);
}

boost::asio::awaitable<Response> OwnerRoutes::SetPassword(Call& call) {
  const std::string name(call.Param("name"));
  if (name != call.owner().name && call.owner().role != store::Role::kAdmin) {
    ctx_.events.Publish(events::Event(events::kAccessDenied)
                            .Personal("owner", call.owner().name)
                            .Text("route", "PUT /v1/owners/{name}/password")
                            .Personal("peer", call.peer.address));
    co_return call.Error(
        Forbidden("only an administrator may change another owner's password"));
  }
  auto target = ctx_.store.FindOwnerByName(name);
  if (!target.ok()) co_return call.Error(target.status());
  if (!*target) {
    co_return call.Error(
        MakeError(status::not_found, Code::kNotFound, "no such owner"));
  }
  const store::Owner owner = **target;
  co_return co_await ChangePassword(call, owner);
}

boost::asio::awaitable<Response> OwnerRoutes::ChangePassword(
    Call& call, const store::Owner& target) {
  std::string password = call.body["password"].get<std::string>();
  Status policy = auth::CheckPassword(password, ctx_.PasswordContext());
  if (!policy.ok()) {
    crypto::Wipe(password);
    co_return call.Error(MakeError(status::bad_request, Code::kInvalidArgument,
                                   "password refused: " + policy.message(),
                                   "/password", "password_policy"));
  }
  HashPasswordJob job(std::move(password), ctx_.options.password_hash);
  crypto::Wipe(password);
  auto hash = co_await ctx_.pool.Run(std::move(job));
  if (!hash.ok()) co_return call.Error(hash.status());
  Status st = ctx_.store.SetPasswordHash(target.id, *hash);
  if (st.code() == Code::kNotFound) {
    co_return call.Error(
        MakeError(status::not_found, Code::kNotFound, "no such owner"));
  }
  if (!st.ok()) co_return call.Error(st);
  owners_.EndSessionsOf(target.id);
  ctx_.events.Publish(events::Event(events::kPasswordChanged)
                          .Personal("owner", target.name)
                          .Personal("by", call.owner().name));
  co_return call.Empty(status::no_content);
}

Response OwnerRoutes::List(Call& call) {
  auto owners = ctx_.store.Owners();
  if (!owners.ok()) return call.Error(owners.status());
  schema::Json list = schema::Json::array();
  for (const store::Owner& o : *owners) list.push_back(OwnerJson(o));
  return call.Json(status::ok, {{"owners", list}, {"you", call.owner().name}});
}

Response OwnerRoutes::Remove(Call& call) {
  const std::string name(call.Param("name"));
  auto owners = ctx_.store.Owners();
  if (!owners.ok()) return call.Error(owners.status());
  const store::Owner* target = nullptr;
  size_t admins = 0;
  for (const store::Owner& o : *owners) {
    if (o.name == name) target = &o;
    if (o.role == store::Role::kAdmin) ++admins;
  }
  if (target == nullptr) {
    return call.Error(
        MakeError(status::not_found, Code::kNotFound, "no such owner"));
  }
  if (target->role == store::Role::kAdmin && admins == 1) {
    return call.Error(MakeError(
        status::conflict, Code::kFailedPrecondition,
        "the last administrator cannot be removed; reset the device instead",
        "", "last_admin"));
  }
  Status st = ctx_.store.RemoveOwner(target->id);
  owners_.OwnersChanged();
  if (st.code() == Code::kFailedPrecondition) {
    return call.Error(MakeError(status::conflict, Code::kFailedPrecondition,
                                st.message(), "", "last_admin"));
  }
  if (!st.ok()) return call.Error(st);
  owners_.EndSessionsOf(target->id);
  ctx_.events.Publish(events::Event(events::kOwnerRemoved)
                          .Personal("owner", target->name)
                          .Personal("by", call.owner().name));
  return call.Empty(status::no_content);
}

Response OwnerRoutes::Reset(Call& call) {
  if (call.body.value("transfer", false)) return Transfer(call);
  Status st = ctx_.store.Reset();
  owners_.OwnersChanged();
  if (!st.ok()) return call.Error(st);
  owners_.EndAllSessions();
  ctx_.consent.reset();
  ctx_.events.Publish(
      events::Event(events::kOwnerReset).Personal("by", call.owner().name));
  return call.Json(status::ok, {{"paired", false}});
}

Response OwnerRoutes::Transfer(Call& call) {
  if (ctx_.data == nullptr) {
    return call.Error(MakeError(http::status::service_unavailable,
                                Code::kUnavailable,
                                "the device keeps no personal-data store"));
  }
  const std::string by = call.owner().name;
  auto deletion = DeletePersonalData(ctx_, call.owner().fingerprint, by,
                                     /*unpair=*/true);
  owners_.OwnersChanged();
  if (!deletion.ok()) return call.Error(deletion.status());
  owners_.EndAllSessions();
  ctx_.consent.reset();
  ctx_.events.Publish(events::Event(events::kOwnerReset).Personal("by", by));
  return call.Json(status::ok, {{"paired", false}, {"deletion", *deletion}});
}

}  // namespace warden::api
