#include "api/device_service.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/app_host.h"
#include "app/app_protocol.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "events/catalog.h"
#include "pairing/pairing_protocol.h"

namespace warden::api {
namespace {

using http::status;
using http::verb;

ApiError MakeError(status s, Code code, std::string message,
                   std::string field = "", std::string rule = "") {
  ApiError e;
  e.status = s;
  e.code = code;
  e.message = std::move(message);
  e.field = std::move(field);
  e.rule = std::move(rule);
  return e;
}

ApiError FromMessageError(const pairing::MessageError& m) {
  return MakeError(
      status::bad_request, Code::kInvalidArgument,
      m.field.empty() ? m.message : m.field.substr(1) + " " + m.message,
      m.field, m.rule);
}

ApiError PasswordRefused(const Status& why, std::string field) {
  return MakeError(status::bad_request, Code::kInvalidArgument,
                   "password refused: " + why.message(), std::move(field),
                   "password_policy");
}

std::string_view MethodOf(const Request& r) { return r.method_string(); }

}  // namespace

DeviceService::DeviceService(DeviceFacts facts, store::StateStore& store,
                             app::AppHost* app, Clock& clock, Rng& rng,
                             ServiceOptions options, events::Bus& events)
    : facts_(std::move(facts)),
      store_(store),
      app_(app),
      clock_(clock),
      rng_(rng),
      options_(std::move(options)),
      events_(events),
      login_throttle_(clock, options_.login_policy),
      pairing_guard_(clock, options_.pairing_policy),
      sessions_(clock, rng, options_.session_lifetime) {}

Status DeviceService::Init() {
  WARDEN_ASSIGN_OR_RETURN(auto stored, store_.Sessions());
  std::vector<std::pair<std::string, int64_t>> sessions;
  for (const auto& s : stored)
    sessions.emplace_back(s.token_hash, s.expires_at);
  return sessions_.Import(sessions);
}

void DeviceService::SaveSessions() {
  // Sessions are still the first owner's, as a bearer token authenticates
  // as the first owner.
  std::vector<store::StoredSession> out;
  auto owners = store_.Owners();
  Status st = owners.status();
  if (st.ok()) {
    if (!owners->empty()) {
      for (const auto& [hash, expires] : sessions_.Export()) {
        out.push_back({hash, owners->front().id, expires});
      }
    }
    st = store_.ReplaceSessions(out);
  }
  if (!st.ok()) {
    events_.Publish(events::Event(events::kStoreError)
                        .Text("operation", "save sessions")
                        .Text("error", st.ToString()));
  }
}

auth::PasswordContext DeviceService::PasswordContext() const {
  return auth::PasswordContext{facts_.info.serial, facts_.info.model,
                               facts_.info.maker};
}

Response DeviceService::Fail(const ApiError& error, const Request& request) {
  return ErrorResponse(error, request.version());
}

Result<schema::Json> DeviceService::ParseBody(const Request& request,
                                              ApiError* error,
                                              bool allow_empty) {
  if (request.body().empty() && allow_empty) return schema::Json::object();
  auto type = request[http::field::content_type];
  auto semi = type.find(';');
  std::string_view media = type.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (!boost::beast::iequals(media, "application/json")) {
    *error =
        MakeError(status::unsupported_media_type, Code::kInvalidArgument,
                  "request body must be application/json", "", "content_type");
    return InvalidArgumentError("unsupported content type");
  }
  schema::JsonError json_error;
  auto body =
      schema::ParseJson(request.body(), options_.limits.json, &json_error);
  if (!body.ok()) {
    *error =
        MakeError(status::bad_request, Code::kInvalidArgument,
                  "request body is not acceptable JSON: " + json_error.message,
                  "", json_error.rule);
    return body.status();
  }
  return body;
}

Result<std::string> DeviceService::PasswordBody(const Request& request,
                                                ApiError* error) {
  WARDEN_ASSIGN_OR_RETURN(auto body, ParseBody(request, error, false));
  if (!body.is_object() || body.size() != 1 || !body.contains("password") ||
      !body["password"].is_string()) {
    *error = MakeError(status::bad_request, Code::kInvalidArgument,
                       "body must be {\"password\": string}", "/password",
                       "required");
    return InvalidArgumentError(error->message);
  }
  return body["password"].get<std::string>();
}

std::optional<Response> DeviceService::AppUnavailable(const Request& request) {
  if (app_ && app_->ready()) return std::nullopt;
  return Fail(MakeError(status::service_unavailable, Code::kUnavailable,
                        "the device application is not running"),
              request);
}

Result<store::Owner> DeviceService::Authenticate(const Request& request,
                                                 Peer& peer) {
  if (peer.client_key_fingerprint) {
    if (peer.owner && peer.owner_generation == owners_generation_) {
      return *peer.owner;
    }
    peer.owner.reset();
    WARDEN_ASSIGN_OR_RETURN(auto owner,
                            store_.FindOwner(*peer.client_key_fingerprint));
    if (owner) {
      peer.owner = *owner;
      peer.owner_generation = owners_generation_;
      return *owner;
    }
  }
  auto auth = request[http::field::authorization];
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() > kBearer.size() &&
      boost::beast::iequals(auth.substr(0, kBearer.size()), kBearer)) {
    std::string_view token = auth.substr(kBearer.size());
    if (sessions_.Validate(token)) {
      WARDEN_ASSIGN_OR_RETURN(auto owners, store_.Owners());
      if (!owners.empty()) return owners.front();
    }
  }
  return UnauthenticatedError("owner authentication required");
}

boost::asio::awaitable<Response> DeviceService::Handle(Request request,
                                                       Peer& peer) {
  std::string target(request.target());
  auto q = target.find('?');
  std::string path = target.substr(0, q);
  const verb method = request.method();

  // Routes that wait for the app are coroutines; everything else answers
  // at once.
  constexpr std::string_view kStatePrefix = "/v1/state/";
  if (path.size() > kStatePrefix.size() &&
      path.compare(0, kStatePrefix.size(), kStatePrefix) == 0 &&
      method == verb::put) {
    auto owner = Authenticate(request, peer);
    if (!owner.ok()) co_return Fail(ErrorFromStatus(owner.status()), request);
    co_return co_await PutState(request, path.substr(kStatePrefix.size()));
  }

  struct Entry {
    std::string_view path;
    verb method;
    bool needs_owner;
    std::function<Response()> handler;
  };
  const Entry routes[] = {
      {"/.well-known/security.txt", verb::get, false,
       [&] { return SecurityTxt(request); }},
      {"/v1/info", verb::get, false, [&] { return Info(request); }},
      {"/v1/pair/begin", verb::post, false,
       [&] { return PairBegin(request, peer); }},
      {"/v1/pair/exchange", verb::post, false,
       [&] { return PairExchange(request, peer); }},
      {"/v1/pair/confirm", verb::post, false,
       [&] { return PairConfirm(request, peer); }},
      {"/v1/login", verb::post, false, [&] { return Login(request, peer); }},
      {"/v1/logout", verb::post, true, [&] { return Logout(request); }},
      {"/v1/owner/password", verb::put, true,
       [&] { return SetPassword(request); }},
      {"/v1/capabilities", verb::get, true,
       [&] { return Capabilities(request); }},
      {"/v1/state", verb::get, true, [&] { return State(request); }},
      {"/v1/reset", verb::post, true, [&] { return Reset(request); }},
      {"/v1/pair/open", verb::post, true, [&] { return OpenPairing(request); }},
  };

  std::string allowed;
  for (const auto& route : routes) {
    if (route.path != path) continue;
    if (route.method != method) {
      if (!allowed.empty()) allowed += ", ";
      allowed += std::string(http::to_string(route.method));
      continue;
    }
    if (route.needs_owner) {
      auto owner = Authenticate(request, peer);
      if (!owner.ok()) co_return Fail(ErrorFromStatus(owner.status()), request);
    }
    co_return route.handler();
  }
  if (path.size() > kStatePrefix.size() &&
      path.compare(0, kStatePrefix.size(), kStatePrefix) == 0) {
    if (method != verb::get) {
      allowed = "GET, PUT";
    } else {
      auto owner = Authenticate(request, peer);
      if (!owner.ok()) co_return Fail(ErrorFromStatus(owner.status()), request);
      co_return StateKey(request,
                         std::string_view(path).substr(kStatePrefix.size()));
    }
  }
  if (!allowed.empty()) {
    Response res =
        Fail(MakeError(
                 status::method_not_allowed, Code::kInvalidArgument,
                 std::string(MethodOf(request)) + " is not allowed on " + path),
             request);
    res.set(http::field::allow, allowed);
    co_return res;
  }
  co_return Fail(MakeError(status::not_found, Code::kNotFound,
                           "no such endpoint: " + path.substr(0, 128)),
                 request);
}

Response DeviceService::SecurityTxt(const Request& request) {
  Response res(status::ok, request.version());
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = provision::RenderSecurityTxt(facts_.info, clock_.Now(),
                                            facts_.canonical_url);
  res.prepare_payload();
  return res;
}

Response DeviceService::Info(const Request& request) {
  auto paired = store_.IsPaired();
  if (!paired.ok()) return Fail(ErrorFromStatus(paired.status()), request);
  const auto& info = facts_.info;
  return JsonResponse(status::ok,
                      {{"serial", info.serial},
                       {"model", info.model},
                       {"maker", info.maker},
                       {"firmware_version", info.firmware_version},
                       {"support_end", info.support_end},
                       {"paired", *paired},
                       {"api", "warden/1"}},
                      request.version());
}

void DeviceService::PairingFailed(Peer& peer, std::string_view why) {
  peer.pairing.reset();
  pairing_guard_.RecordFailure();
  events_.Publish(events::Event(events::kPairingFailed)
                      .Personal("peer", peer.address)
                      .Text("reason", std::string(why))
                      .Int("failures", pairing_guard_.failures()));
  if (pairing_guard_.locked()) {
    events_.Publish(events::Event(events::kPairingLocked)
                        .Int("failures", pairing_guard_.failures()));
  }
}

Response DeviceService::PairBegin(const Request& request, Peer& peer) {
  ApiError error;
  auto body = ParseBody(request, &error, /*allow_empty=*/true);
  if (!body.ok()) return Fail(error, request);
  if (!body->is_object() || !body->empty()) {
    return Fail(MakeError(status::bad_request, Code::kInvalidArgument,
                          "pair/begin takes an empty object", "",
                          "additionalProperties"),
                request);
  }
  auto paired = store_.IsPaired();
  if (!paired.ok()) return Fail(ErrorFromStatus(paired.status()), request);
  if (*paired && !ConsentOpen()) {
    return Fail(MakeError(status::conflict, Code::kFailedPrecondition,
                          "device is already paired; an owner must open "
                          "pairing for you or reset it",
                          "", "already_paired"),
                request);
  }
  auto decision = pairing_guard_.Check();
  if (!decision.allowed) {
    ApiError e = MakeError(status::too_many_requests, Code::kResourceExhausted,
                           pairing_guard_.locked()
                               ? "pairing is locked after too many failed "
                                 "attempts"
                               : "too many pairing attempts; retry later");
    e.retry_after_seconds = decision.retry_after.count();
    return Fail(e, request);
  }
  if (!peer.exporter) {
    return Fail(ErrorFromStatus(InternalError("no TLS exporter")), request);
  }
  auto exporter = peer.exporter();
  if (!exporter.ok()) return Fail(ErrorFromStatus(exporter.status()), request);
  auto session =
      pairing::ServerSession::Create(facts_.verifier, *exporter, rng_);
  if (!session.ok()) return Fail(ErrorFromStatus(session.status()), request);
  peer.pairing.emplace(std::move(*session));
  return JsonResponse(status::ok, peer.pairing->BeginResponse(),
                      request.version());
}

Response DeviceService::PairExchange(const Request& request, Peer& peer) {
  ApiError error;
  auto body = ParseBody(request, &error, false);
  if (!body.ok()) return Fail(error, request);
  if (!peer.pairing || peer.pairing->exchanged()) {
    return Fail(
        MakeError(status::conflict, Code::kFailedPrecondition,
                  "no pairing begun on this connection", "", "sequence"),
        request);
  }
  auto decision = pairing_guard_.Check();
  if (!decision.allowed) {
    peer.pairing.reset();
    ApiError e = MakeError(status::too_many_requests, Code::kResourceExhausted,
                           "too many pairing attempts; retry later");
    e.retry_after_seconds = decision.retry_after.count();
    return Fail(e, request);
  }
  pairing::MessageError message_error;
  auto share = pairing::ParseExchangeRequest(*body, &message_error);
  if (!share.ok()) {
    PairingFailed(peer, "malformed exchange");
    return Fail(FromMessageError(message_error), request);
  }
  auto reply = peer.pairing->Exchange(*share);
  if (!reply.ok()) {
    PairingFailed(peer, "invalid share");
    return Fail(MakeError(status::bad_request, Code::kInvalidArgument,
                          "share_p is not a valid point", "/share_p", "point"),
                request);
  }
  return JsonResponse(status::ok, *reply, request.version());
}

Response DeviceService::PairConfirm(const Request& request, Peer& peer) {
  ApiError error;
  auto body = ParseBody(request, &error, false);
  if (!body.ok()) return Fail(error, request);
  if (!peer.pairing || !peer.pairing->exchanged() || peer.pairing->spent()) {
    return Fail(
        MakeError(status::conflict, Code::kFailedPrecondition,
                  "no pairing exchange on this connection", "", "sequence"),
        request);
  }
  pairing::MessageError message_error;
  auto confirm = pairing::ParseConfirmRequest(*body, &message_error);
  if (!confirm.ok()) return Fail(FromMessageError(message_error), request);

  // The password is judged before the proof is spent, so a refused
  // password can be replaced without a new exchange.
  auto paired = store_.IsPaired();
  if (!paired.ok()) return Fail(ErrorFromStatus(paired.status()), request);
  if (*paired && !ConsentOpen()) {
    peer.pairing.reset();
    return Fail(MakeError(status::conflict, Code::kFailedPrecondition,
                          "device is already paired", "", "already_paired"),
                request);
  }
  if (*paired && confirm->password) {
    return Fail(MakeError(status::bad_request, Code::kInvalidArgument,
                          "the device already has an owner password; the "
                          "first owner can change it",
                          "/password", "password_exists"),
                request);
  }
  std::optional<std::string> password_hash;
  if (confirm->password) {
    Status policy = auth::CheckPassword(*confirm->password, PasswordContext());
    if (!policy.ok())
      return Fail(PasswordRefused(policy, "/password"), request);
  }

  auto owner = peer.pairing->Confirm(std::move(*confirm));
  if (!owner.ok()) {
    PairingFailed(peer, owner.status().message());
    return Fail(MakeError(status::unauthorized, Code::kUnauthenticated,
                          "pairing failed: the setup code does not match"),
                request);
  }
  peer.pairing.reset();
  if (owner->password) {
    auto hash = auth::HashPassword(*owner->password, options_.password_hash);
    if (!hash.ok()) return Fail(ErrorFromStatus(hash.status()), request);
    password_hash = *hash;
  }
  store::Owner record;
  record.name = owner->name;
  record.spki_der = owner->key.ToDer();
  record.fingerprint = owner->key.Fingerprint();
  record.created_at = UnixSeconds(clock_.Now());
  Status st = *paired ? store_.AddOwner(record, std::nullopt).status()
                      : store_.CompletePairing(record, password_hash).status();
  ++owners_generation_;
  if (*paired && st.ok()) consent_until_.reset();  // one owner per consent
  if (!st.ok()) {
    if (st.code() == Code::kFailedPrecondition) {
      return Fail(MakeError(status::conflict, Code::kFailedPrecondition,
                            "device is already paired", "", "already_paired"),
                  request);
    }
    return Fail(ErrorFromStatus(st), request);
  }
  pairing_guard_.RecordSuccess();
  if (!*paired) {
    sessions_.RevokeAll();
    SaveSessions();
  }
  events_.Publish(events::Event(*paired ? events::kOwnerAdded : events::kPaired)
                      .Personal("owner", record.name)
                      .Text("key", record.fingerprint.substr(0, 16))
                      .Personal("peer", peer.address));
  return JsonResponse(status::ok,
                      {{"owner", record.name},
                       {"serial", facts_.info.serial},
                       {"device_fingerprint", facts_.certificate_fingerprint}},
                      request.version());
}

Response DeviceService::Login(const Request& request, const Peer& peer) {
  auto decision = login_throttle_.Check(peer.address);
  if (!decision.allowed) {
    ApiError e = MakeError(status::too_many_requests, Code::kResourceExhausted,
                           "too many failed logins; retry later");
    e.retry_after_seconds = decision.retry_after.count();
    events_.Publish(
        events::Event(events::kLoginThrottled).Personal("peer", peer.address));
    return Fail(e, request);
  }
  ApiError error;
  auto password = PasswordBody(request, &error);
  if (!password.ok()) return Fail(error, request);
  auto owners = store_.Owners();
  if (!owners.ok()) return Fail(ErrorFromStatus(owners.status()), request);
  Result<std::optional<std::string>> stored = std::optional<std::string>();
  if (!owners->empty()) stored = store_.PasswordHash(owners->front().id);
  if (!stored.ok()) return Fail(ErrorFromStatus(stored.status()), request);
  bool good = stored->has_value() && auth::VerifyPassword(**stored, *password);
  if (!good) {
    login_throttle_.RecordFailure(peer.address);
    events_.Publish(
        events::Event(events::kLoginFailed).Personal("peer", peer.address));
    return Fail(MakeError(status::unauthorized, Code::kUnauthenticated,
                          "wrong password"),
                request);
  }
  login_throttle_.RecordSuccess(peer.address);
  auto session = sessions_.Create();
  if (!session.ok()) return Fail(ErrorFromStatus(session.status()), request);
  SaveSessions();
  events_.Publish(events::Event(events::kLogin).Personal("peer", peer.address));
  return JsonResponse(status::ok,
                      {{"token", session->token},
                       {"expires_at", UnixSeconds(session->expires_at)}},
                      request.version());
}

Response DeviceService::Logout(const Request& request) {
  auto auth = request[http::field::authorization];
  if (auth.size() > 7) sessions_.Revoke(auth.substr(7));
  SaveSessions();
  return EmptyResponse(status::no_content, request.version());
}

Response DeviceService::SetPassword(const Request& request) {
  ApiError error;
  auto password = PasswordBody(request, &error);
  if (!password.ok()) return Fail(error, request);
  Status policy = auth::CheckPassword(*password, PasswordContext());
  if (!policy.ok()) return Fail(PasswordRefused(policy, "/password"), request);
  auto hash = auth::HashPassword(*password, options_.password_hash);
  if (!hash.ok()) return Fail(ErrorFromStatus(hash.status()), request);
  auto owners = store_.Owners();
  if (!owners.ok()) return Fail(ErrorFromStatus(owners.status()), request);
  Status st = owners->empty()
                  ? FailedPreconditionError("device has no owner")
                  : store_.SetPasswordHash(owners->front().id, *hash);
  if (!st.ok()) return Fail(ErrorFromStatus(st), request);
  sessions_.RevokeAll();
  events_.Publish(events::Event(events::kPasswordChanged));
  return EmptyResponse(status::no_content, request.version());
}

Response DeviceService::Capabilities(const Request& request) {
  if (auto unavailable = AppUnavailable(request)) return *unavailable;
  schema::Json list = schema::Json::array();
  for (const auto& cap : app_->capabilities()) {
    list.push_back({{"key", cap.key},
                    {"description", cap.description},
                    {"writable", cap.writable},
                    {"schema", cap.schema.json()}});
  }
  return JsonResponse(status::ok, {{"capabilities", list}}, request.version());
}

Response DeviceService::State(const Request& request) {
  if (auto unavailable = AppUnavailable(request)) return *unavailable;
  return JsonResponse(status::ok, {{"state", app_->Values()}},
                      request.version());
}

Response DeviceService::StateKey(const Request& request, std::string_view key) {
  if (auto unavailable = AppUnavailable(request)) return *unavailable;
  if (!app::IsValidCapabilityKey(key) || app_->Find(key) == nullptr) {
    return Fail(
        MakeError(status::not_found, Code::kNotFound, "no such capability"),
        request);
  }
  auto value = app_->Value(key);
  return JsonResponse(
      status::ok,
      {{"key", std::string(key)}, {"value", value ? *value : schema::Json()}},
      request.version());
}

boost::asio::awaitable<Response> DeviceService::PutState(const Request& request,
                                                         std::string key) {
  if (auto unavailable = AppUnavailable(request)) co_return *unavailable;
  const app::Capability* cap =
      app::IsValidCapabilityKey(key) ? app_->Find(key) : nullptr;
  if (cap == nullptr) {
    co_return Fail(
        MakeError(status::not_found, Code::kNotFound, "no such capability"),
        request);
  }
  if (!cap->writable) {
    co_return Fail(MakeError(status::conflict, Code::kFailedPrecondition,
                             key + " is read-only", "", "readOnly"),
                   request);
  }
  ApiError error;
  auto body = ParseBody(request, &error, false);
  if (!body.ok()) co_return Fail(error, request);
  if (!body->is_object()) {
    co_return Fail(
        MakeError(status::bad_request, Code::kInvalidArgument,
                  "body must be an object {\"value\": ...}", "", "type"),
        request);
  }
  for (const auto& [member, unused] : body->items()) {
    if (member != "value") {
      co_return Fail(MakeError(status::bad_request, Code::kInvalidArgument,
                               member + " is not allowed", "/" + member,
                               "additionalProperties"),
                     request);
    }
  }
  if (!body->contains("value")) {
    co_return Fail(MakeError(status::bad_request, Code::kInvalidArgument,
                             "value is required", "/value", "required"),
                   request);
  }
  const schema::Json& value = (*body)["value"];
  if (auto violation = cap->schema.Check(value)) {
    co_return Fail(MakeError(status::bad_request, Code::kInvalidArgument,
                             violation->message, "/value" + violation->pointer,
                             violation->rule),
                   request);
  }
  Status st = co_await app_->Command(key, value);
  if (!st.ok()) {
    ApiError e = ErrorFromStatus(st);
    if (st.code() == Code::kFailedPrecondition) {
      e.status = status::unprocessable_entity;
      e.message = "the device refused the value: " + st.message();
    }
    co_return Fail(e, request);
  }
  events_.Publish(events::Event(events::kStateChanged).Text("key", key));
  co_return JsonResponse(status::ok, {{"key", key}, {"value", value}},
                         request.version());
}

Response DeviceService::Reset(const Request& request) {
  ApiError error;
  auto body = ParseBody(request, &error, /*allow_empty=*/true);
  if (!body.ok()) return Fail(error, request);
  Status st = store_.Reset();
  ++owners_generation_;
  if (!st.ok()) return Fail(ErrorFromStatus(st), request);
  sessions_.RevokeAll();
  consent_until_.reset();
  events_.Publish(events::Event(events::kOwnerReset));
  return JsonResponse(status::ok, {{"paired", false}}, request.version());
}

bool DeviceService::ConsentOpen() const {
  return consent_until_ && clock_.Monotonic() < *consent_until_;
}

Response DeviceService::OpenPairing(const Request& request) {
  ApiError error;
  auto body = ParseBody(request, &error, /*allow_empty=*/true);
  if (!body.ok()) return Fail(error, request);
  int64_t minutes = 10;
  if (!body->is_object()) {
    return Fail(MakeError(status::bad_request, Code::kInvalidArgument,
                          "body must be an object", "", "type"),
                request);
  }
  for (const auto& [member, value] : body->items()) {
    if (member != "minutes") {
      return Fail(MakeError(status::bad_request, Code::kInvalidArgument,
                            member + " is not allowed", "/" + member,
                            "additionalProperties"),
                  request);
    }
    if (!value.is_number_integer() || value.get<int64_t>() < 1 ||
        value.get<int64_t>() > 30) {
      return Fail(MakeError(status::bad_request, Code::kInvalidArgument,
                            "minutes must be an integer from 1 to 30",
                            "/minutes", "maximum"),
                  request);
    }
    minutes = value.get<int64_t>();
  }
  consent_until_ = clock_.Monotonic() + std::chrono::minutes(minutes);
  int64_t until = UnixSeconds(clock_.Now()) + minutes * 60;
  events_.Publish(
      events::Event(events::kPairingOpened).Int("minutes", minutes));
  return JsonResponse(status::ok, {{"open_until", until}}, request.version());
}

}  // namespace warden::api
