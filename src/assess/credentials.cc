#include "assess/credentials.h"

#include <chrono>

#include "assess/credential_list.h"
#include "assess/service_id.h"

namespace warden::assess {
namespace {

constexpr size_t kMaxField = 64;
constexpr std::string_view kClientId = "warden-assess";

std::string PortText(uint16_t port) { return std::to_string(port); }

std::string SurfaceName(const CredentialRun& run) {
  const std::string http = run.tls ? "HTTPS" : "HTTP";
  switch (run.surface) {
    case LoginSurface::kMqtt:
      return "MQTT CONNECT";
    case LoginSurface::kTelnet:
      return "telnet login";
    case LoginSurface::kFtp:
      return "FTP login";
    case LoginSurface::kSsh:
      return "SSH password login";
    case LoginSurface::kHttpDigest:
      return http + " Digest";
    case LoginSurface::kHttpForm:
      return http + " login form";
    case LoginSurface::kHttpBasic:
      break;
  }
  return http + " Basic";
}

std::string Hidden(const CredentialPair& p) {
  return "login \"" + Printable(AsBytes(p.user), 64) + "\", " +
         (p.password.empty()
              ? std::string("empty password")
              : "password of " + std::to_string(p.password.size()) +
                    " characters");
}

void PutString(Bytes& out, std::string_view s) {
  out.push_back(static_cast<uint8_t>(s.size() >> 8));
  out.push_back(static_cast<uint8_t>(s.size() & 0xff));
  out.insert(out.end(), s.begin(), s.end());
}

struct Attempt {
  AttemptOutcome outcome;
  std::string why;
  double millis;
};

Attempt TryOne(const boost::asio::ip::address& address, uint16_t port,
               LoginSurface surface, bool tls, const CredentialPair& pair,
               const ProbeOptions& options) {
  Attempt a{AttemptOutcome::kNoAnswer, "", 0};
  if (surface == LoginSurface::kHttpBasic) {
    const std::string token =
        Base64Encode(AsBytes(pair.user + ":" + pair.password));
    Fetch f = HttpGet(address, port, tls, "/", options,
                      "Authorization: Basic " + token + "\r\n");
    a.outcome = ClassifyHttpAttempt(f.raw, &a.why);
    if (a.outcome == AttemptOutcome::kNoAnswer && !f.error.empty()) {
      a.why = f.error;
    }
  } else {
    Exchange x = SendRaw(address, port, "MQTT CONNECT",
                         MqttConnectWithCredentials(pair.user, pair.password),
                         64, options);
    a.outcome = ClassifyMqttAttempt(x.received, &a.why);
    if (a.outcome == AttemptOutcome::kNoAnswer && !x.outcome.empty()) {
      a.why = x.outcome;
    }
  }
  return a;
}

}  // namespace

Result<std::vector<CredentialPair>> ParseCredentialList(std::string_view text) {
  std::vector<CredentialPair> out;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? "" : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      return InvalidArgumentError("credential list line " +
                                  std::to_string(line_no) + ": no TAB");
    }
    CredentialPair p{std::string(line.substr(0, tab)),
                     std::string(line.substr(tab + 1))};
    if (p.user.empty() || p.user.size() > kMaxField ||
        p.password.size() > kMaxField) {
      return InvalidArgumentError("credential list line " +
                                  std::to_string(line_no) +
                                  ": a field is empty or too long");
    }
    if (out.size() == kMaxCredentialPairs) {
      return InvalidArgumentError("credential list: more than " +
                                  std::to_string(kMaxCredentialPairs) +
                                  " pairs");
    }
    out.push_back(std::move(p));
  }
  return out;
}

const std::vector<CredentialPair>& ShippedCredentials() {
  static const std::vector<CredentialPair> list = [] {
    Result<std::vector<CredentialPair>> parsed =
        ParseCredentialList(internal::AssessCredentialListText());
    return parsed.ok() ? *parsed : std::vector<CredentialPair>{};
  }();
  return list;
}

AttemptOutcome ClassifyHttpAttempt(ByteView raw, std::string* why) {
  Result<HttpReply> reply = ParseHttpReply(raw);
  if (!reply.ok()) {
    *why = raw.empty() ? "no reply" : "not an HTTP reply";
    return AttemptOutcome::kNoAnswer;
  }
  *why = "HTTP " + std::to_string(reply->status);
  if (!reply->Header("Retry-After").empty()) {
    *why += " with Retry-After " +
            Printable(AsBytes(reply->Header("Retry-After")), 40);
    return AttemptOutcome::kThrottled;
  }
  if (reply->status == 429 || reply->status == 503) {
    return AttemptOutcome::kThrottled;
  }
  if (reply->status == 401 || reply->status == 403) {
    return AttemptOutcome::kRefused;
  }
  if (reply->status >= 200 && reply->status < 400) {
    return AttemptOutcome::kAccepted;
  }
  return AttemptOutcome::kNoAnswer;
}

AttemptOutcome ClassifyMqttAttempt(ByteView raw, std::string* why) {
  if (!IsMqttConnack(raw)) {
    *why = raw.empty() ? "no CONNACK (connection closed)" : "not a CONNACK";
    return AttemptOutcome::kNoAnswer;
  }
  const uint8_t code = raw[3];
  *why = "CONNACK return code " + std::to_string(code);
  switch (code) {
    case 0x00:
      return AttemptOutcome::kAccepted;
    case 0x04:
    case 0x05:
    case 0x86:
    case 0x87:
      return AttemptOutcome::kRefused;
    case 0x03:
    case 0x89:
    case 0x97:
      return AttemptOutcome::kThrottled;
    default:
      return AttemptOutcome::kNoAnswer;
  }
}

Bytes MqttConnectWithCredentials(std::string_view user,
                                 std::string_view password) {
  user = user.substr(0, kMaxField);
  password = password.substr(0, kMaxField);
  Bytes body;
  PutString(body, "MQTT");
  body.push_back(0x04);                // protocol level 3.1.1
  body.push_back(0x80 | 0x40 | 0x02);  // user name, password, clean
  body.push_back(0x00);
  body.push_back(0x0a);  // keep-alive 10 s
  PutString(body, kClientId);
  PutString(body, user);
  PutString(body, password);
  // At most 2 + 4 + 4 + 15 + 66 + 66 bytes: one length byte (< 128).
  body.insert(body.begin(), {0x10, static_cast<uint8_t>(body.size())});
  return body;
}

bool MqttAcceptsAnonymous(const Exchange& exchange) {
  std::string why;
  return ClassifyMqttAttempt(exchange.received, &why) ==
         AttemptOutcome::kAccepted;
}

bool AsksForBasicAuth(ByteView raw) {
  Result<HttpReply> reply = ParseHttpReply(raw);
  if (!reply.ok() || reply->status != 401) return false;
  std::string challenge = reply->Header("WWW-Authenticate");
  for (char& c : challenge) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return challenge.rfind("basic", 0) == 0;
}

CredentialRun TryCredentials(const boost::asio::ip::address& address,
                             uint16_t port, LoginSurface surface, bool tls,
                             const std::vector<CredentialPair>& pairs,
                             const ProbeOptions& options) {
  return RunCredentials(surface, port, tls, pairs,
                        [&](const CredentialPair& pair, std::string* why) {
                          Attempt a = TryOne(address, port, surface, tls, pair,
                                             options);
                          *why = std::move(a.why);
                          return a.outcome;
                        });
}

CredentialRun RunCredentials(LoginSurface surface, uint16_t port, bool tls,
                             const std::vector<CredentialPair>& pairs,
                             const LoginAttempt& attempt) {
  CredentialRun run;
  run.surface = surface;
  run.port = port;
  run.tls = tls;
  double baseline = 0;
  bool answered = false;
  auto step = [&](const CredentialPair& pair, std::string_view phase) {
    const auto start = std::chrono::steady_clock::now();
    Attempt a{AttemptOutcome::kNoAnswer, "", 0};
    a.outcome = attempt(pair, &a.why);
    a.millis = std::chrono::duration<double, std::milli>(
                   std::chrono::steady_clock::now() - start)
                   .count();
    ++run.attempts;
    const std::string n = std::to_string(run.attempts);
    run.sent.push_back(n + " (" + std::string(phase) + "): " + Hidden(pair));
    run.received.push_back(n + ": " + Printable(AsBytes(a.why), 120));
    if (a.outcome == AttemptOutcome::kAccepted) {
      run.accepted = pair;
      return false;
    }
    if (a.outcome == AttemptOutcome::kThrottled) {
      run.throttle_sign = a.why;
    } else if (a.outcome == AttemptOutcome::kNoAnswer) {
      // A device that answered and then stops is refusing us.
      if (answered) run.throttle_sign = "stopped answering (" + a.why + ")";
      if (!answered) return false;
    } else {
      answered = true;
      // The first three failures set the pace; a much slower answer later
      // is the device slowing down.
      if (run.failures < 3) {
        baseline = std::max(baseline, a.millis);
      } else if (a.millis > 1000 && a.millis > 5 * baseline) {
        run.throttle_sign =
            "answer slowed from " + std::to_string(static_cast<int>(baseline)) +
            " ms to " + std::to_string(static_cast<int>(a.millis)) + " ms";
      }
      ++run.failures;
    }
    if (!run.throttle_sign.empty()) {
      run.throttled_after = run.failures;
      return false;
    }
    return true;
  };
  for (const CredentialPair& p : pairs) {
    if (!step(p, "default")) break;
  }
  if (!run.accepted && run.throttle_sign.empty() && answered) {
    // Wrong passwords for a name no owner has, until the bound.
    size_t i = 0;
    while (
        run.failures < kThrottleBound &&
        step({std::string(kThrottleProbeUser), "wrong-" + std::to_string(i++)},
             "throttle")) {
    }
  }
  return run;
}

TestUnit JudgeDefaultCredentials(const CredentialRun& run) {
  TestUnit u;
  u.id = "credentials." + PortText(run.port) + ".default";
  u.guideline = 1;
  u.provisions = {"5.1-1"};
  u.title = SurfaceName(run) + " on port " + PortText(run.port) +
            " refuses default and botnet credentials";
  u.evidence.sent = run.sent;
  u.evidence.received = run.received;
  if (run.accepted) {
    u.verdict = Verdict::kFail;
    u.finding =
        "accepted login \"" + Printable(AsBytes(run.accepted->user), 64) +
        "\" (password found, " + std::to_string(run.accepted->password.size()) +
        " characters) at attempt " + std::to_string(run.attempts);
  } else if (!run.throttle_sign.empty()) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "throttled after " + std::to_string(run.throttled_after) +
                " failures (" + run.throttle_sign +
                "); not every pair was tried";
  } else if (run.failures == 0) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "no attempt was answered";
  } else {
    u.verdict = Verdict::kPass;
    u.finding = "refused all " + std::to_string(run.attempts) +
                " attempts (the shipped default and botnet list)";
  }
  return u;
}

TestUnit JudgeThrottling(const CredentialRun& run) {
  TestUnit u;
  u.id = "credentials." + PortText(run.port) + ".throttle";
  u.guideline = 1;
  u.provisions = {"5.1-5"};
  u.title = SurfaceName(run) + " on port " + PortText(run.port) +
            " slows down or refuses after repeated failed logins";
  u.evidence.sent.push_back("failed logins (the default list, then login \"" +
                            std::string(kThrottleProbeUser) + "\"), up to " +
                            std::to_string(kThrottleBound) +
                            ", stopping at the first sign");
  u.evidence.received.push_back(std::to_string(run.failures) +
                                " failures answered");
  if (!run.throttle_sign.empty()) {
    u.verdict = Verdict::kPass;
    u.finding = "after " + std::to_string(run.throttled_after) +
                " failures: " + run.throttle_sign;
  } else if (run.failures >= kThrottleBound) {
    u.verdict = Verdict::kFail;
    u.finding = std::to_string(run.failures) +
                " failed logins answered without delay or refusal";
  } else {
    u.verdict = Verdict::kInconclusive;
    u.finding = "only " + std::to_string(run.failures) +
                " failures before the attempts ended";
  }
  return u;
}

TestUnit JudgeMqttAnonymous(uint16_t port, const Exchange& exchange) {
  TestUnit u;
  u.id = "credentials." + PortText(port) + ".anonymous";
  u.guideline = 1;
  u.provisions = {"5.1-1"};
  u.title =
      "the MQTT broker on port " + PortText(port) + " requires credentials";
  u.evidence.sent.push_back(exchange.probe + ": " + exchange.sent);
  u.evidence.received.push_back(exchange.probe + ": " +
                                Printable(exchange.received, 64));
  if (MqttAcceptsAnonymous(exchange)) {
    u.verdict = Verdict::kFail;
    u.finding = "accepts a CONNECT without user name or password";
  } else {
    std::string why;
    ClassifyMqttAttempt(exchange.received, &why);
    u.verdict = Verdict::kPass;
    u.finding = "refuses anonymous clients (" + why + ")";
  }
  return u;
}

}  // namespace warden::assess
