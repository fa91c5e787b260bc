// Who the owners are, and how a request proves it is one of them: a TLS
// client certificate whose key was registered at pairing, or a bearer
// token from a password login. The directory caches, per connection, the
// owner a certificate belongs to (invalidated whenever the owners change)
// and holds the login sessions, each bound to the owner who logged in.
#ifndef WARDEN_API_OWNER_DIRECTORY_H_
#define WARDEN_API_OWNER_DIRECTORY_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "api/peer.h"
#include "api/router.h"
#include "api/service_context.h"
#include "auth/session.h"

namespace warden::api {

class OwnerDirectory : public Authenticator {
 public:
  // `context` must outlive the directory.
  explicit OwnerDirectory(ServiceContext& context);

  // Restores the login sessions an earlier run saved.
  Status Init();

  // The owner of the client certificate, else of the bearer token.
  // kUnauthenticated when neither belongs to an owner.
  Result<Principal> Authenticate(const Request& request, Peer& peer) override;

  // The owner whose key the connection's client certificate carries, or
  // nullopt (no certificate, or not an owner's).
  Result<std::optional<store::Owner>> CertificateOwner(Peer& peer);

  // True when the client certificate is an owner's or the session that
  // last authenticated a request on the connection is live. A store error
  // counts as false.
  bool ConnectionIsAnOwners(Peer& peer);

  // Call after every change to the owners or their roles: connections
  // look their owner up again.
  void OwnersChanged() { ++generation_; }

  // Login sessions. Start and end them; every change is saved.
  Result<auth::Session> StartSession(const store::Owner& owner);
  void EndSession(std::string_view token);
  void EndSessionsOf(int64_t owner_id);
  void EndAllSessions();

 private:
  void SaveSessions();

  ServiceContext& ctx_;
  auth::SessionTable sessions_;
  // Moves whenever the set of owners changes, so connections re-check the
  // owner they cached.
  uint64_t generation_ = 1;
};

}  // namespace warden::api

#endif  // WARDEN_API_OWNER_DIRECTORY_H_
