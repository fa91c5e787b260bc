#include "api/owner_directory.h"

#include <boost/beast/core/string.hpp>

#include "events/catalog.h"

namespace warden::api {
namespace {

constexpr std::string_view kBearer = "Bearer ";

}  // namespace

OwnerDirectory::OwnerDirectory(ServiceContext& context)
    : ctx_(context),
      sessions_(context.clock, context.rng, context.options.session_lifetime) {}

Status OwnerDirectory::Init() {
  WARDEN_ASSIGN_OR_RETURN(auto stored, ctx_.store.Sessions());
  std::vector<auth::ExportedSession> sessions;
  for (const auto& s : stored) {
    sessions.push_back({s.token_hash, s.expires_at, s.owner_id});
  }
  return sessions_.Import(sessions);
}

void OwnerDirectory::SaveSessions() {
  std::vector<store::StoredSession> out;
  for (const auto& s : sessions_.Export()) {
    out.push_back({.token_hash = s.token_hash,
                   .owner_id = s.owner_id,
                   .expires_at = s.expires_at});
  }
  Status st = ctx_.store.ReplaceSessions(out);
  if (!st.ok()) {
    ctx_.events.Publish(events::Event(events::kStoreError)
                            .Text("operation", "save sessions")
                            .Text("error", st.ToString()));
  }
}

Result<std::optional<store::Owner>> OwnerDirectory::CertificateOwner(
    Peer& peer) {
  if (!peer.client_key_fingerprint) return std::optional<store::Owner>();
  if (peer.owner && peer.owner_generation == generation_) return peer.owner;
  peer.owner.reset();
  WARDEN_ASSIGN_OR_RETURN(auto owner,
                          ctx_.store.FindOwner(*peer.client_key_fingerprint));
  if (owner) {
    peer.owner = *owner;
    peer.owner_generation = generation_;
  }
  return owner;
}

bool OwnerDirectory::ConnectionIsAnOwners(Peer& peer) {
  auto by_certificate = CertificateOwner(peer);
  if (by_certificate.ok() && by_certificate->has_value()) return true;
  if (peer.session_token.empty()) return false;
  if (sessions_.Validate(peer.session_token)) return true;
  peer.session_token.clear();  // ended: logout, expiry, reset, removal
  return false;
}

Result<Principal> OwnerDirectory::Authenticate(const Request& request,
                                               Peer& peer) {
  WARDEN_ASSIGN_OR_RETURN(auto by_certificate, CertificateOwner(peer));
  if (by_certificate) return Principal{std::move(*by_certificate), ""};
  std::string_view auth = request[http::field::authorization];
  if (auth.size() > kBearer.size() &&
      boost::beast::iequals(auth.substr(0, kBearer.size()), kBearer)) {
    std::string_view token = auth.substr(kBearer.size());
    if (auto owner_id = sessions_.Validate(token)) {
      WARDEN_ASSIGN_OR_RETURN(auto owner, ctx_.store.FindOwnerById(*owner_id));
      if (owner) {
        peer.session_token = std::string(token);
        return Principal{std::move(*owner), std::string(token)};
      }
      // The owner is gone; so is the session.
      sessions_.RevokeOwner(*owner_id);
      SaveSessions();
    }
  }
  return UnauthenticatedError("owner authentication required");
}

Result<auth::Session> OwnerDirectory::StartSession(const store::Owner& owner) {
  WARDEN_ASSIGN_OR_RETURN(auth::Session session, sessions_.Create(owner.id));
  SaveSessions();
  return session;
}

void OwnerDirectory::EndSession(std::string_view token) {
  sessions_.Revoke(token);
  SaveSessions();
}

void OwnerDirectory::EndSessionsOf(int64_t owner_id) {
  sessions_.RevokeOwner(owner_id);
  SaveSessions();
}

void OwnerDirectory::EndAllSessions() {
  sessions_.RevokeAll();
  SaveSessions();
}

}  // namespace warden::api
