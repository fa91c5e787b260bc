// Owners and their credentials: password login (with device cookies),
// logout, passwords, the list of owners, removing one, and reset. Roles:
// any owner controls the device and their own credentials; only an
// administrator resets it, removes owners or changes another owner's
// password (admitting owners is POST /v1/pair/open, in the pairing group).
//
// Login follows OWASP's "device cookie" defence against online guessing.
// A successful login hands the client a device cookie: a random token the
// device keeps only as a hash, bound to the owner. A login that presents a
// valid device cookie for the owner it names is throttled per cookie only,
// so guesses from strangers, however many addresses they use, cannot make
// the owner wait; a cookie that keeps failing is revoked. A login without
// one is throttled per source address and, all such logins together, to
// at most 30 failures a minute. Every attempt is counted before its
// password is checked (on the worker pool), and a success gives its
// address's count back.
#ifndef WARDEN_API_OWNER_ROUTES_H_
#define WARDEN_API_OWNER_ROUTES_H_

#include <optional>
#include <string>
#include <string_view>

#include "api/owner_directory.h"
#include "api/router.h"
#include "api/service_context.h"
#include "auth/throttle.h"

namespace warden::api {

// The name of the device cookie for browsers (the __Host- prefix: only
// over HTTPS, only for this host and path /).
inline constexpr std::string_view kDeviceCookieName = "__Host-warden_device";

class OwnerRoutes {
 public:
  // `context` and `owners` must outlive the group.
  OwnerRoutes(ServiceContext& context, OwnerDirectory& owners);
  Status Register(Router& router);

 private:
  // One login on its way through the throttles and the password check.
  struct LoginAttempt {
    std::string name;
    std::optional<store::Owner> owner;
    std::optional<std::string> presented;   // the device cookie shown
    std::optional<std::string> cookie_key;  // its hash, when it is valid
    std::optional<std::string> stored_hash;
  };

  boost::asio::awaitable<Response> Login(Call& call);
  // Picks the throttle and counts the attempt; a reply when it is refused.
  std::optional<Response> StartLogin(Call& call, LoginAttempt* attempt);
  // Answers once the password has been checked.
  Response FinishLogin(Call& call, const LoginAttempt& attempt, bool good);
  Response Logout(Call& call);
  boost::asio::awaitable<Response> SetOwnPassword(Call& call);
  boost::asio::awaitable<Response> SetPassword(Call& call);
  Response List(Call& call);
  Response Remove(Call& call);
  Response Reset(Call& call);
  // Reset with {"transfer": true}: all personal data deleted and the
  // device unpaired in one durable intent, with the signed receipt.
  Response Transfer(Call& call);

  // Sets the password of `target`, after the policy; ends their sessions.
  boost::asio::awaitable<Response> ChangePassword(Call& call,
                                                  const store::Owner& target);
  // The device cookie the login presents (body, else Cookie header).
  std::optional<std::string> PresentedCookie(const Call& call) const;
  Response Throttled(Call& call, std::chrono::seconds retry_after,
                     std::string_view why);

  ServiceContext& ctx_;
  OwnerDirectory& owners_;
  auth::Throttle strangers_;       // logins without a valid device cookie
  auth::Throttle cookies_;         // logins with one, keyed by its hash
  size_t strangers_checking_ = 0;  // their password checks running now
};

}  // namespace warden::api

#endif  // WARDEN_API_OWNER_ROUTES_H_
