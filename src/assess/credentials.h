// Default and botnet credentials tried on a device's login surfaces, and
// whether the device slows down or refuses after repeated failures.
//
// The pairs come from data/assess-credentials.txt (the Mirai botnet's
// table, its source recorded there), compiled in. Every run is bounded: at
// most the list's pairs (kMaxCredentialPairs) per surface, stopping at the
// first pair accepted and at the first sign of throttling (a refusal, HTTP
// 429 or 503, Retry-After, an MQTT "server busy" or "quota exceeded", a
// dropped connection, or an attempt that takes much longer than the first
// ones). No pair is tried again. The report never holds a password: a pair
// found is shown as its login name and "password found, N characters".
//
// So that an assessment never locks the owner out of a Warden device, the
// throttling check after the list uses a login name no owner has
// (kThrottleProbeUser); the list itself holds only makers' and botnets'
// names. A device that throttles per client address still blocks the
// assessor's address, not the owner's.
#ifndef WARDEN_ASSESS_CREDENTIALS_H_
#define WARDEN_ASSESS_CREDENTIALS_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "assess/probe.h"
#include "assess/report.h"
#include "base/status.h"

namespace warden::assess {

struct CredentialPair {
  std::string user;
  std::string password;
};

inline constexpr size_t kMaxCredentialPairs = 64;
// Failures after which a device is expected to have slowed down or refused.
inline constexpr size_t kThrottleBound = 10;
inline constexpr std::string_view kThrottleProbeUser = "warden-assess-probe";

// Parses the list's format (data/assess-credentials.txt: "user TAB
// password" lines, '#' comments). kInvalidArgument for a line without a
// TAB, a field over 64 bytes, or more than kMaxCredentialPairs pairs.
Result<std::vector<CredentialPair>> ParseCredentialList(std::string_view text);

// The shipped list, parsed once.
const std::vector<CredentialPair>& ShippedCredentials();

// The surfaces beyond HTTP Basic and MQTT are tried by assess/logins.h.
enum class LoginSurface {
  kHttpBasic,
  kMqtt,
  kTelnet,
  kFtp,
  kHttpDigest,
  kHttpForm,
  kSsh
};

// What the attempts showed.
struct CredentialRun {
  LoginSurface surface = LoginSurface::kHttpBasic;
  uint16_t port = 0;
  bool tls = false;
  size_t attempts = 0;  // pairs tried
  size_t failures = 0;  // of them refused as wrong
  std::optional<CredentialPair> accepted;
  std::string throttle_sign;          // empty when none was seen
  size_t throttled_after = 0;         // failures before the sign
  std::vector<std::string> sent;      // no password in clear
  std::vector<std::string> received;  // printable, cut
};

// One attempt's outcome, as the surface answered it. Exposed for tests.
enum class AttemptOutcome { kAccepted, kRefused, kThrottled, kNoAnswer };

// Reads an HTTP reply to a request with Basic credentials: 2xx and 3xx
// accepted, 401 and 403 refused, 429 and 503 (or Retry-After) throttled.
AttemptOutcome ClassifyHttpAttempt(ByteView raw, std::string* why);

// Reads a reply to an MQTT CONNECT: return code 0 accepted, 4 and 5
// refused (MQTT 3.1.1; 0x86, 0x87 in MQTT 5), 3 (server unavailable), 0x89
// (server busy), 0x97 (quota exceeded) throttled.
AttemptOutcome ClassifyMqttAttempt(ByteView raw, std::string* why);

// An MQTT 3.1.1 CONNECT with a user name and password (clean session,
// client id "warden-assess"). Requires each field at most 64 bytes.
Bytes MqttConnectWithCredentials(std::string_view user,
                                 std::string_view password);

// True when `exchange` (the MQTT CONNECT without credentials of service
// identification) was accepted: the broker takes anonymous clients.
bool MqttAcceptsAnonymous(const Exchange& exchange);

// True when the HTTP reply asks for Basic credentials (401 with a
// WWW-Authenticate: Basic challenge).
bool AsksForBasicAuth(ByteView raw);

// Tries `pairs` on the surface, then, if no pair was accepted and no sign
// of throttling was seen, up to kThrottleBound failures in all with
// kThrottleProbeUser, stopping at the first sign.
CredentialRun TryCredentials(const boost::asio::ip::address& address,
                             uint16_t port, LoginSurface surface, bool tls,
                             const std::vector<CredentialPair>& pairs,
                             const ProbeOptions& options);

// One login attempt with `pair` on some surface: its outcome, with `why`
// set to what the device answered (printable, never the password).
using LoginAttempt =
    std::function<AttemptOutcome(const CredentialPair& pair, std::string* why)>;

// The bounded run TryCredentials makes, over any surface: `attempt` is
// called once per pair, in order, then for the throttling probe, with the
// same stopping rules.
CredentialRun RunCredentials(LoginSurface surface, uint16_t port, bool tls,
                             const std::vector<CredentialPair>& pairs,
                             const LoginAttempt& attempt);

// Verdict rules (guideline 1): a pair accepted FAILs 5.1-1; the whole list
// refused PASSes it; cut short by throttling is INCONCLUSIVE.
TestUnit JudgeDefaultCredentials(const CredentialRun& run);
// 5.1-5: a sign of throttling within kThrottleBound failures PASSes;
// kThrottleBound failures or more without one FAILs; fewer failures (a pair
// accepted early, or no answer) is INCONCLUSIVE.
TestUnit JudgeThrottling(const CredentialRun& run);
// An MQTT broker that takes anonymous clients FAILs 5.1-1.
TestUnit JudgeMqttAnonymous(uint16_t port, const Exchange& exchange);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_CREDENTIALS_H_
