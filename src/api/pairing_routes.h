// Pairing (docs/PROTOCOLS.md, "Pairing"): begin, exchange and confirm on
// one TLS connection, and an administrator's consent to one more owner.
// The attempts are counted by pairing::PairingAttempts, where the guess is
// tested; this group only maps them to HTTP.
#ifndef WARDEN_API_PAIRING_ROUTES_H_
#define WARDEN_API_PAIRING_ROUTES_H_

#include "api/owner_directory.h"
#include "api/router.h"
#include "api/service_context.h"
#include "pairing/attempts.h"

namespace warden::api {

class PairingRoutes {
 public:
  // `context` and `owners` must outlive the group.
  PairingRoutes(ServiceContext& context, OwnerDirectory& owners);
  Status Register(Router& router);

 private:
  Response Begin(Call& call);
  Response Exchange(Call& call);
  boost::asio::awaitable<Response> Confirm(Call& call);
  Response Open(Call& call);
  // A 429 saying how long to wait.
  Response Throttled(Call& call, const Status& why);

  ServiceContext& ctx_;
  OwnerDirectory& owners_;
  pairing::PairingAttempts attempts_;
};

}  // namespace warden::api

#endif  // WARDEN_API_PAIRING_ROUTES_H_
