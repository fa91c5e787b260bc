// Probes for a Warden device: a target whose public GET /v1/info says
// "api": "warden/1". They check what docs/PROTOCOLS.md promises from the
// outside, with no code and no credentials:
//   - an owned device refuses to start a pairing (409, rule
//     "already_paired"), so the label's code admits nobody once it has an
//     owner (guideline 1);
//   - an unowned device counts a pairing attempt whose exchange was
//     answered even when the client never confirms, and delays pairing
//     after a few (guideline 1, 5.1-5): the probe begins and exchanges with
//     a random point, never confirms, and stops at the first 429, after at
//     most kMaxPairingProbes attempts (the lock engages at 20, so the
//     future owner is never locked out);
//   - what answers without a session (/v1/info, security.txt, /) carries no
//     secret (keys, tokens, codes) and no personal data (owner names,
//     addresses), and the owner's routes refuse a request without
//     credentials (guidelines 4, 8 and 5);
//   - the device publishes its inventory of personal data: each kind, its
//     category, purpose and retention (guideline 8).
// Probing (ProbeWarden) is separate from judging (JudgeWarden) so that the
// verdict rules are tested without a device; FindExposures is a pure
// function over bytes a device sent, and fuzzed.
#ifndef WARDEN_ASSESS_WARDEN_PROBES_H_
#define WARDEN_ASSESS_WARDEN_PROBES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "assess/probe.h"
#include "assess/report.h"

namespace warden::assess {

// Pairing attempts the probe makes at most; below the device's lock (20)
// with room for several assessments before an owner pairs.
inline constexpr int kMaxPairingProbes = 6;

// One HTTP request of a Warden probe and what came back.
struct WardenCall {
  std::string method;  // "GET", "POST"
  std::string path;
  std::string body;  // the request body sent ("" for none)
  int status = 0;    // 0: no reply
  std::string retry_after;
  std::string error_rule;  // the reply's error.rule, when JSON says one
  std::string reply_body;  // at most kMaxHttpBodyBytes
  std::string error;       // why there was no reply
};

struct WardenProbeFacts {
  uint16_t port = 0;
  bool tls = false;
  WardenCall info;            // GET /v1/info
  bool paired_known = false;  // /v1/info had a boolean "paired"
  bool paired = false;
  // On an owned device: one POST /v1/pair/begin. On an unowned one:
  // begin, exchange, begin, exchange... on one connection, until the first
  // refusal or kMaxPairingProbes exchanges answered.
  std::vector<WardenCall> pairing;
  std::vector<WardenCall> public_calls;  // GET of the public paths
  std::vector<WardenCall> owner_calls;   // owner routes, no credentials
};

// Runs the probes above against `port` (TLS or plain HTTP). Each request is
// bounded by `options` (io_timeout per step, replies cut at the body and
// head limits of service_id.h); the whole probe sends at most
// 2 * kMaxPairingProbes + 8 requests.
WardenProbeFacts ProbeWarden(const boost::asio::ip::address& address,
                             uint16_t port, bool tls,
                             const ProbeOptions& options);

// Something a public reply should not carry.
struct Exposure {
  enum class Kind { kSecret, kPersonal };
  Kind kind;
  std::string what;  // "member \"token\"", "a PEM private key", ...
};

// Secrets and personal data in one reply body: a PEM block, a JSON member
// whose name says secret (token, password, secret, private key, setup or
// manual code, session, cookie, verifier) or personal (owner, owners, user,
// email, phone, location, latitude, longitude), at any depth up to the
// JSON limits. Members with an empty or null value expose nothing. Never
// fails: bytes that are not JSON are searched only for PEM blocks.
std::vector<Exposure> FindExposures(std::string_view body);

// The group "warden.PORT": pairing_closed (only when the device says it is
// paired), pairing_attempts, public_secrets, public_personal, owner_routes,
// data_inventory (the public GET /v1/data/inventory: every kind with a
// name, a known category, a purpose, a retention period and whether it may
// leave the device; partial, since encryption at rest and retention kept
// are not visible from outside).
TestGroup JudgeWarden(const WardenProbeFacts& facts);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_WARDEN_PROBES_H_
