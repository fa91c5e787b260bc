#include "api/pairing_routes.h"

#include "api/password_jobs.h"
#include "crypto/secret.h"
#include "events/catalog.h"
#include "pairing/pairing_protocol.h"

namespace warden::api {
namespace {

using http::status;
using http::verb;

constexpr std::string_view kBeginSchema =
    R"({"type": "object", "maxProperties": 0})";
// 65 bytes of base64 are 88 characters.
constexpr std::string_view kExchangeSchema = R"({
  "type": "object", "required": ["share_p"], "additionalProperties": false,
  "properties": {"share_p": {"type": "string", "maxLength": 88}}})";
constexpr std::string_view kConfirmSchema = R"({
  "type": "object",
  "required": ["confirm_p", "client_key", "key_proof", "name"],
  "additionalProperties": false,
  "properties": {
    "confirm_p": {"type": "string", "maxLength": 44},
    "key_proof": {"type": "string", "maxLength": 44},
    "client_key": {"type": "string", "maxLength": 1024},
    "name": {"type": "string", "minLength": 1, "maxLength": 64},
    "password": {"type": "string", "maxLength": 128}}})";
constexpr std::string_view kOpenSchema = R"({
  "type": "object", "additionalProperties": false,
  "properties": {
    "minutes": {"type": "integer", "minimum": 1, "maximum": 30},
    "role": {"enum": ["admin", "member"]}}})";

ApiError FromMessageError(const pairing::MessageError& m) {
  return MakeError(
      status::bad_request, Code::kInvalidArgument,
      m.field.empty() ? m.message : m.field.substr(1) + " " + m.message,
      m.field, m.rule);
}

ApiError Sequence(std::string message) {
  return MakeError(status::conflict, Code::kFailedPrecondition,
                   std::move(message), "", "sequence");
}

ApiError AlreadyPaired() {
  return MakeError(status::conflict, Code::kFailedPrecondition,
                   "device is already paired; an administrator must open "
                   "pairing for you or reset it",
                   "", "already_paired");
}

}  // namespace

PairingRoutes::PairingRoutes(ServiceContext& context, OwnerDirectory& owners)
    : ctx_(context),
      owners_(owners),
      attempts_(context.clock, context.options.pairing, context.events) {}

Status PairingRoutes::Register(Router& router) {
  WARDEN_TRY(router.Add({verb::post, "/v1/pair/begin", Access::kPublic,
                         std::string(kBeginSchema), true,
                         Immediate([this](Call& c) { return Begin(c); })}));
  WARDEN_TRY(router.Add({verb::post, "/v1/pair/exchange", Access::kPublic,
                         std::string(kExchangeSchema), false,
                         Immediate([this](Call& c) { return Exchange(c); })}));
  WARDEN_TRY(router.Add({verb::post, "/v1/pair/confirm", Access::kPublic,
                         std::string(kConfirmSchema), false,
                         [this](Call& c) { return Confirm(c); }}));
  return router.Add({verb::post, "/v1/pair/open", Access::kAdmin,
                     std::string(kOpenSchema), true,
                     Immediate([this](Call& c) { return Open(c); })});
}

Response PairingRoutes::Throttled(Call& call, const Status& why) {
  ApiError e = MakeError(status::too_many_requests, Code::kResourceExhausted,
                         why.message());
  e.retry_after_seconds = attempts_.Check().retry_after.count();
  if (*e.retry_after_seconds < 1) e.retry_after_seconds = 1;
  return call.Error(e);
}

Response PairingRoutes::Begin(Call& call) {
  Peer& peer = call.peer;
  // A new begin ends the attempt this connection had (it stays counted).
  peer.pairing.reset();
  auto paired = ctx_.store.IsPaired();
  if (!paired.ok()) return call.Error(paired.status());
  if (*paired && !ctx_.ConsentOpen()) {
    // An owner pairing again with the same key (say, after a crash lost
    // the device's reply) may prove the code again.
    auto mine = owners_.CertificateOwner(peer);
    if (!mine.ok()) return call.Error(mine.status());
    if (!*mine) return call.Error(AlreadyPaired());
  }
  if (!peer.exporter) return call.Error(InternalError("no TLS exporter"));
  auto exporter = peer.exporter();
  if (!exporter.ok()) return call.Error(exporter.status());
  auto attempt =
      attempts_.Begin(ctx_.facts.verifier, *exporter, ctx_.rng, peer.address);
  if (!attempt.ok()) {
    if (attempt.status().code() == Code::kResourceExhausted) {
      return Throttled(call, attempt.status());
    }
    return call.Error(attempt.status());
  }
  peer.pairing.emplace(std::move(*attempt));
  return call.Json(status::ok, peer.pairing->BeginResponse());
}

Response PairingRoutes::Exchange(Call& call) {
  Peer& peer = call.peer;
  if (!peer.pairing || peer.pairing->pending() || peer.pairing->over()) {
    return call.Error(Sequence("no pairing begun on this connection"));
  }
  pairing::MessageError message_error;
  auto share = pairing::ParseExchangeRequest(call.body, &message_error);
  if (!share.ok()) return call.Error(FromMessageError(message_error));
  auto reply = peer.pairing->Exchange(*share);
  if (reply.ok()) return call.Json(status::ok, *reply);
  peer.pairing.reset();
  switch (reply.status().code()) {
    case Code::kResourceExhausted:
      return Throttled(call, reply.status());
    case Code::kDeadlineExceeded:
      return call.Error(Sequence("the pairing attempt timed out; begin again"));
    case Code::kInvalidArgument:
      return call.Error(MakeError(status::bad_request, Code::kInvalidArgument,
                                  "share_p is not a valid point", "/share_p",
                                  "point"));
    default:
      return call.Error(reply.status());
  }
}

boost::asio::awaitable<Response> PairingRoutes::Confirm(Call& call) {
  Peer& peer = call.peer;
  if (!peer.pairing || !peer.pairing->pending()) {
    co_return call.Error(Sequence("no pairing exchange on this connection"));
  }
  pairing::MessageError message_error;
  auto confirm = pairing::ParseConfirmRequest(call.body, &message_error);
  if (!confirm.ok()) co_return call.Error(FromMessageError(message_error));

  // Pairing again with a key that is an owner's already, on a connection
  // that shows that key: proving the code again changes nothing.
  const std::string fingerprint = confirm->client_key.Fingerprint();
  auto registered = ctx_.store.FindOwner(fingerprint);
  if (!registered.ok()) co_return call.Error(registered.status());
  const bool again =
      registered->has_value() && peer.client_key_fingerprint == fingerprint;

  auto paired = ctx_.store.IsPaired();
  if (!paired.ok()) co_return call.Error(paired.status());
  if (!again && ((*paired && !ctx_.ConsentOpen()) || registered->has_value())) {
    peer.pairing.reset();
    co_return call.Error(AlreadyPaired());
  }
  // The name and the password are judged before the proof is spent, so a
  // refused one can be replaced without a new exchange.
  if (!again) {
    auto taken = ctx_.store.FindOwnerByName(confirm->name);
    if (!taken.ok()) co_return call.Error(taken.status());
    if (*taken) {
      co_return call.Error(
          MakeError(status::conflict, Code::kAlreadyExists,
                    "an owner named \"" + confirm->name +
                        "\" exists already; choose another name",
                    "/name", "name_taken"));
    }
  }
  if (confirm->password && !again) {
    Status policy =
        auth::CheckPassword(*confirm->password, ctx_.PasswordContext());
    if (!policy.ok()) {
      co_return call.Error(MakeError(status::bad_request,
                                     Code::kInvalidArgument,
                                     "password refused: " + policy.message(),
                                     "/password", "password_policy"));
    }
  }

  auto proven = peer.pairing->Confirm(std::move(*confirm));
  peer.pairing.reset();
  if (!proven.ok()) {
    co_return call.Error(
        MakeError(status::unauthorized, Code::kUnauthenticated,
                  "pairing failed: the setup code does not match"));
  }
  if (again) {
    const store::Owner& owner = **registered;
    ctx_.events.Publish(events::Event(events::kPairedAgain)
                            .Personal("owner", owner.name)
                            .Personal("peer", peer.address));
    co_return call.Json(
        status::ok,
        {{"owner", owner.name},
         {"role", std::string(store::RoleName(owner.role))},
         {"serial", ctx_.facts.info.serial},
         {"device_fingerprint", ctx_.facts.certificate_fingerprint}});
  }

  std::optional<std::string> password_hash;
  if (proven->password) {
    HashPasswordJob job(*proven->password, ctx_.options.password_hash);
    crypto::Wipe(*proven->password);
    auto hash = co_await ctx_.pool.Run(std::move(job));
    if (!hash.ok()) co_return call.Error(hash.status());
    password_hash = std::move(*hash);
  }
  // Things may have moved while the password was hashed.
  paired = ctx_.store.IsPaired();
  if (!paired.ok()) co_return call.Error(paired.status());
  if (*paired && !ctx_.ConsentOpen()) co_return call.Error(AlreadyPaired());

  store::Owner record;
  record.name = proven->name;
  record.spki_der = proven->key.ToDer();
  record.fingerprint = fingerprint;
  record.created_at = UnixSeconds(ctx_.clock.Now());
  record.role = *paired ? ctx_.consent->role : store::Role::kAdmin;
  auto stored = *paired ? ctx_.store.AddOwner(record, password_hash)
                        : ctx_.store.CompletePairing(record, password_hash);
  owners_.OwnersChanged();
  if (!stored.ok()) {
    const Status& st = stored.status();
    if (st.code() == Code::kFailedPrecondition ||
        st.code() == Code::kAlreadyExists) {
      co_return call.Error(MakeError(status::conflict,
                                     Code::kFailedPrecondition, st.message(),
                                     "", "already_paired"));
    }
    co_return call.Error(st);
  }
  record = std::move(*stored);
  if (*paired) {
    ctx_.consent.reset();  // one owner per consent
  } else {
    owners_.EndAllSessions();
  }
  ctx_.events.Publish(
      events::Event(*paired ? events::kOwnerAdded : events::kPaired)
          .Personal("owner", record.name)
          .Text("role", std::string(store::RoleName(record.role)))
          .Text("key", record.fingerprint.substr(0, 16))
          .Personal("peer", peer.address));
  co_return call.Json(
      status::ok, {{"owner", record.name},
                   {"role", std::string(store::RoleName(record.role))},
                   {"serial", ctx_.facts.info.serial},
                   {"device_fingerprint", ctx_.facts.certificate_fingerprint}});
}

Response PairingRoutes::Open(Call& call) {
  const int64_t minutes = call.body.value("minutes", int64_t{10});
  const store::Role role =
      call.body.value("role", std::string("member")) == "admin"
          ? store::Role::kAdmin
          : store::Role::kMember;
  ctx_.consent =
      Consent{ctx_.clock.Monotonic() + std::chrono::minutes(minutes), role};
  const int64_t until = UnixSeconds(ctx_.clock.Now()) + minutes * 60;
  ctx_.events.Publish(events::Event(events::kPairingOpened)
                          .Int("minutes", minutes)
                          .Text("role", std::string(store::RoleName(role)))
                          .Personal("by", call.owner().name));
  return call.Json(status::ok, {{"open_until", until},
                                {"role", std::string(store::RoleName(role))}});
}

}  // namespace warden::api
