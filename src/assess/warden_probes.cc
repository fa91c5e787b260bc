#include "assess/warden_probes.h"
#include "assess/run_coroutine.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <exception>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <nlohmann/json.hpp>

#include "assess/service_id.h"
#include "base/bytes.h"
#include "base/rng.h"
#include "crypto/ec.h"

namespace warden::assess {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;

constexpr std::array<std::string_view, 4> kPublicPaths = {
    "/v1/info", "/.well-known/security.txt", "/", "/v1/data/inventory"};
constexpr std::string_view kInventoryPath = "/v1/data/inventory";
// The personal-data categories docs/PROTOCOLS.md names.
constexpr std::array<std::string_view, 8> kDataCategories = {
    "identity", "contact", "location",     "usage",
    "sensor",   "health",  "audio_visual", "other"};
// Kinds listed in the finding; the rest are counted.
constexpr size_t kKindsNamed = 8;
constexpr std::array<std::string_view, 3> kOwnerPaths = {
    "/v1/state", "/v1/owners", "/v1/capabilities"};
// Deeper JSON than this is not walked (a reply is at most 64 KiB, so a
// hostile one could nest thousands deep).
constexpr int kMaxJsonDepth = 32;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Nesting depth of `text` as JSON brackets outside strings, counted before
// parsing so that a deep document is never built.
int BracketDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') deepest = std::max(deepest, ++depth);
    if (c == '}' || c == ']') --depth;
  }
  return deepest;
}

std::optional<nlohmann::json> ParseJson(std::string_view text) {
  if (text.empty() || text.size() > kMaxHttpBodyBytes ||
      BracketDepth(text) > kMaxJsonDepth) {
    return std::nullopt;
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// Member names (lowercase, '-' as '_') that name a secret or personal data.
bool IsSecretName(const std::string& n) {
  static constexpr std::string_view kExact[] = {
      "token",       "access_token",  "refresh_token",
      "bearer",      "session",       "session_id",
      "cookie",      "device_cookie", "setup_code",
      "manual_code", "passcode",      "pin",
      "qr_payload",  "verifier",      "w0",
      "w1",          "private_key",   "privatekey",
      "key_pem",     "api_key",       "apikey",
      "credentials", "psk",           "wifi_password"};
  for (std::string_view e : kExact) {
    if (n == e) return true;
  }
  for (std::string_view part :
       {"password", "passwd", "secret", "token", "private_key"}) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

bool IsPersonalName(const std::string& n) {
  static constexpr std::string_view kExact[] = {
      "owner",        "owners",    "owner_name", "user",      "users",
      "username",     "user_name", "email",      "e_mail",    "phone",
      "location",     "latitude",  "longitude",  "gps",       "home_address",
      "address_line", "full_name", "first_name", "last_name", "birthday"};
  for (std::string_view e : kExact) {
    if (n == e) return true;
  }
  return false;
}

bool Empty(const nlohmann::json& v) {
  return v.is_null() || (v.is_string() && v.get<std::string>().empty()) ||
         (v.is_array() && v.empty()) || (v.is_object() && v.empty()) ||
         (v.is_boolean());
}

bool HasPem(std::string_view text) {
  return text.find("-----BEGIN ") != std::string_view::npos;
}

std::string PemKind(std::string_view text) {
  return text.find("PRIVATE KEY") != std::string_view::npos
             ? "a PEM private key"
             : "a PEM block";
}

void Walk(const nlohmann::json& j, int depth, std::vector<Exposure>& out) {
  if (depth > kMaxJsonDepth || out.size() >= 16) return;
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (HasPem(s)) out.push_back({Exposure::Kind::kSecret, PemKind(s)});
    return;
  }
  if (j.is_array()) {
    for (const auto& v : j) Walk(v, depth + 1, out);
    return;
  }
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string name = Lower(it.key());
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    const std::string shown = Printable(AsBytes(it.key()), 40);
    if (!Empty(it.value())) {
      if (IsSecretName(name)) {
        out.push_back({Exposure::Kind::kSecret, "member \"" + shown + "\""});
      } else if (IsPersonalName(name)) {
        out.push_back({Exposure::Kind::kPersonal, "member \"" + shown + "\""});
      }
    }
    Walk(it.value(), depth + 1, out);
  }
}

// One request on an open connection, the reply read with Beast's parser
// within the head and body limits the assessor keeps. False when the
// connection is no longer usable.
template <typename Stream>
awaitable<bool> Exchange(Stream& stream, beast::tcp_stream& lowest,
                         beast::flat_buffer& buffer, const std::string& host,
                         Millis timeout, WardenCall& call) {
  http::request<http::string_body> req(
      call.method == "POST" ? http::verb::post : http::verb::get, call.path,
      11);
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "warden-assess");
  req.set(http::field::accept, "application/json");
  if (!call.body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = call.body;
  }
  req.prepare_payload();
  beast::error_code ec;
  lowest.expires_after(timeout);
  co_await http::async_write(stream, req,
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    call.error = "write: " + ec.message();
    co_return false;
  }
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxHttpHeadBytes);
  parser.body_limit(kMaxHttpBodyBytes);
  lowest.expires_after(timeout);
  co_await http::async_read(stream, buffer, parser,
                            asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    call.error = ec == beast::error::timeout ? "no reply within the deadline"
                                             : "read: " + ec.message();
    co_return false;
  }
  const auto& res = parser.get();
  call.status = static_cast<int>(res.result_int());
  call.retry_after = std::string(res[http::field::retry_after]);
  call.reply_body = res.body();
  if (auto j = ParseJson(call.reply_body);
      j && j->is_object() && j->contains("error") &&
      (*j)["error"].is_object() && (*j)["error"].contains("rule") &&
      (*j)["error"]["rule"].is_string()) {
    call.error_rule =
        Printable(AsBytes((*j)["error"]["rule"].get<std::string>()), 64);
  }
  co_return res.keep_alive();
}

// What to send next on a connection, given the calls made so far; nullopt
// ends the connection.
using NextCall =
    std::function<std::optional<WardenCall>(const std::vector<WardenCall>&)>;

struct Session {
  tcp::endpoint ep;
  bool tls = false;
  std::string host;
  Millis timeout{3000};
};

// Runs the calls `next` asks for on one connection (TLS or not).
awaitable<std::vector<WardenCall>> RunSession(Session s, NextCall next) {
  std::vector<WardenCall> calls;
  auto executor = co_await asio::this_coro::executor;
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_verify(ctx.native_handle(), SSL_VERIFY_NONE, nullptr);
  beast::ssl_stream<beast::tcp_stream> tls_stream(executor, ctx);
  beast::tcp_stream plain(executor);
  beast::tcp_stream& lowest =
      s.tls ? beast::get_lowest_layer(tls_stream) : plain;
  auto fail_first = [&](std::string why) {
    std::optional<WardenCall> first = next(calls);
    if (first) {
      first->error = std::move(why);
      calls.push_back(std::move(*first));
    }
    return calls;
  };
  beast::error_code ec;
  lowest.expires_after(s.timeout);
  co_await lowest.async_connect(s.ep,
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail_first("connect: " + ec.message());
  if (s.tls) {
    if (!s.host.empty() && s.host.find(':') == std::string::npos) {
      SSL_set_tlsext_host_name(tls_stream.native_handle(), s.host.c_str());
    }
    lowest.expires_after(s.timeout);
    co_await tls_stream.async_handshake(
        ssl::stream_base::client,
        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail_first("TLS handshake: " + ec.message());
  }
  const std::string host =
      (s.host.empty()
           ? (s.ep.address().is_v6() ? "[" + s.ep.address().to_string() + "]"
                                     : s.ep.address().to_string())
           : s.host) +
      ":" + std::to_string(s.ep.port());
  beast::flat_buffer buffer(kMaxHttpHeadBytes + kMaxHttpBodyBytes);
  while (std::optional<WardenCall> call = next(calls)) {
    const bool usable = s.tls ? co_await Exchange(tls_stream, lowest, buffer,
                                                  host, s.timeout, *call)
                              : co_await Exchange(plain, lowest, buffer, host,
                                                  s.timeout, *call);
    calls.push_back(std::move(*call));
    if (!usable) break;
  }
  lowest.close();
  co_return calls;
}

std::vector<WardenCall> RunCalls(const Session& s, NextCall next) {
  return RunCoroutine(RunSession(s, std::move(next)),
                      std::vector<WardenCall>{});
}

WardenCall Get(std::string_view path) {
  WardenCall c;
  c.method = "GET";
  c.path = std::string(path);
  return c;
}

WardenCall Post(std::string path, std::string body) {
  WardenCall c;
  c.method = "POST";
  c.path = std::move(path);
  c.body = std::move(body);
  return c;
}

// A fresh random P-256 point: a valid share the device must answer (and
// count), from a secret the probe forgets, so it never proves a code.
std::string RandomShare() {
  Result<crypto::p256::Scalar> k = crypto::p256::Scalar::Random(SystemRng());
  if (!k.ok()) return "";
  Result<crypto::p256::Point> p = crypto::p256::Point::Generator().Mul(*k);
  if (!p.ok()) return "";
  return Base64Encode(p->ToUncompressed());
}

std::optional<WardenCall> NextPairing(const std::vector<WardenCall>& done,
                                      bool paired) {
  if (paired) {
    if (!done.empty()) return std::nullopt;
    return Post("/v1/pair/begin", "{}");
  }
  if (!done.empty()) {
    const WardenCall& last = done.back();
    if (last.status != 200) return std::nullopt;
    if (last.path == "/v1/pair/begin") {
      const std::string share = RandomShare();
      if (share.empty()) return std::nullopt;
      return Post("/v1/pair/exchange", "{\"share_p\":\"" + share + "\"}");
    }
    if (static_cast<int>(done.size()) >= 2 * kMaxPairingProbes) {
      return std::nullopt;
    }
  }
  return Post("/v1/pair/begin", "{}");
}

template <size_t N>
std::vector<WardenCall> GetEach(const Session& s,
                                const std::array<std::string_view, N>& paths) {
  std::vector<WardenCall> out;
  // Each path on its own connection: a device that closes after one reply
  // still answers the next.
  for (std::string_view path : paths) {
    std::vector<WardenCall> one = RunCalls(
        s,
        [path](
            const std::vector<WardenCall>& done) -> std::optional<WardenCall> {
          if (!done.empty()) return std::nullopt;
          return Get(path);
        });
    if (one.empty()) {
      WardenCall c = Get(path);
      c.error = "probe failed";
      one.push_back(std::move(c));
    }
    out.push_back(std::move(one.front()));
  }
  return out;
}

std::string Describe(const WardenCall& c) {
  return c.method + " " + c.path + (c.body.empty() ? "" : " " + c.body);
}

std::string Outcome(const WardenCall& c) {
  if (c.status == 0) return c.path + ": no reply (" + c.error + ")";
  std::string s = c.path + ": HTTP " + std::to_string(c.status);
  if (!c.error_rule.empty()) s += ", rule " + c.error_rule;
  if (!c.retry_after.empty()) {
    s += ", Retry-After " + Printable(AsBytes(c.retry_after), 16);
  }
  if (c.reply_body.empty()) return s;
  // A reply that exposes something is not copied into the report, which
  // would pass the secret or the owner's data on to every reader of it:
  // the finding names what it holds, and its hash is an artefact.
  if (!FindExposures(c.reply_body).empty()) {
    return s + ": (body of " + std::to_string(c.reply_body.size()) +
           " bytes withheld; its SHA-256 is an artefact)";
  }
  return s + ": " + Printable(AsBytes(c.reply_body), 300);
}

void AddCall(Evidence& e, const WardenCall& c) {
  e.sent.push_back(Printable(AsBytes(Describe(c)), 300));
  e.received.push_back(Outcome(c));
  if (!c.reply_body.empty() && !FindExposures(c.reply_body).empty()) {
    e.artefacts.push_back(
        MakeArtefact("reply to GET " + c.path, AsBytes(c.reply_body)));
  }
}

TestUnit MakeUnit(const WardenProbeFacts& f, std::string_view name,
                  int guideline, std::vector<std::string> provisions,
                  std::string title) {
  TestUnit u;
  u.id = "warden." + std::to_string(f.port) + "." + std::string(name);
  u.guideline = guideline;
  u.provisions = std::move(provisions);
  u.title = std::move(title);
  return u;
}

TestUnit JudgePairingClosed(const WardenProbeFacts& f) {
  TestUnit u = MakeUnit(f, "pairing_closed", 1, {"5.1-1"},
                        "an owned device refuses to start a pairing");
  u.evidence.received.push_back("/v1/info: \"paired\": true");
  for (const WardenCall& c : f.pairing) AddCall(u.evidence, c);
  const WardenCall* begin = f.pairing.empty() ? nullptr : &f.pairing.front();
  if (begin == nullptr || begin->status == 0) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "no reply to a pairing begin" +
                (begin ? " (" + begin->error + ")" : std::string());
  } else if (begin->status == 409 && begin->error_rule == "already_paired") {
    u.verdict = Verdict::kPass;
    u.finding = "owned: a pairing begin is refused (409, already_paired)";
  } else if (begin->status >= 200 && begin->status < 300) {
    u.verdict = Verdict::kFail;
    u.finding =
        "owned, yet a pairing begin without credentials is "
        "answered (HTTP " +
        std::to_string(begin->status) +
        "): the label's code still admits a stranger (unless an "
        "administrator opened pairing)";
  } else {
    u.verdict = Verdict::kInconclusive;
    u.finding =
        "owned; a pairing begin got HTTP " + std::to_string(begin->status) +
        (begin->error_rule.empty() ? "" : " (" + begin->error_rule + ")") +
        ", not the documented 409 already_paired";
  }
  return u;
}

TestUnit JudgePairingAttempts(const WardenProbeFacts& f) {
  TestUnit u = MakeUnit(
      f, "pairing_attempts", 1, {"5.1-5"},
      "pairing attempts are counted and delayed even when never confirmed");
  if (f.paired) {
    u.verdict = Verdict::kNotApplicable;
    u.finding = "owned: pairing is closed, no attempt can be made";
    return u;
  }
  for (const WardenCall& c : f.pairing) AddCall(u.evidence, c);
  int answered = 0;
  for (const WardenCall& c : f.pairing) {
    if (c.status == 429) {
      const std::string when =
          " (HTTP 429" +
          (c.retry_after.empty()
               ? std::string()
               : ", Retry-After " + Printable(AsBytes(c.retry_after), 16)) +
          " at " + c.path + ")";
      if (answered == 0) {
        u.verdict = Verdict::kInconclusive;
        u.finding = "pairing was already delayed before this probe" + when;
      } else {
        u.verdict = Verdict::kPass;
        u.finding = "after " + std::to_string(answered) +
                    " unconfirmed attempt" + (answered == 1 ? "" : "s") +
                    " the device delayed pairing" + when;
      }
      return u;
    }
    if (c.path == "/v1/pair/exchange" && c.status == 200) {
      ++answered;
      continue;
    }
    if (c.status != 200) {
      u.verdict = Verdict::kInconclusive;
      u.finding =
          "after " + std::to_string(answered) + " attempts: " + Outcome(c);
      if (c.status == 409 && c.error_rule == "already_paired") {
        u.finding += " (the device says it is owned)";
      }
      return u;
    }
  }
  if (answered >= kMaxPairingProbes) {
    u.verdict = Verdict::kFail;
    u.finding = std::to_string(answered) +
                " pairing exchanges answered, never confirmed, without delay "
                "or refusal: the setup code can be guessed offline at the "
                "rate the device answers";
  } else {
    u.verdict = Verdict::kInconclusive;
    u.finding = "the probe ended after " + std::to_string(answered) +
                " answered exchanges without a sign either way";
  }
  return u;
}

std::vector<std::pair<std::string, Exposure>> AllExposures(
    const WardenProbeFacts& f) {
  std::vector<std::pair<std::string, Exposure>> out;
  auto scan = [&](const WardenCall& c) {
    if (c.status < 200 || c.status >= 300) return;
    for (Exposure& e : FindExposures(c.reply_body)) {
      out.emplace_back(c.path, std::move(e));
    }
  };
  for (const WardenCall& c : f.public_calls) scan(c);
  for (const WardenCall& c : f.owner_calls) scan(c);
  return out;
}

TestUnit JudgeExposure(const WardenProbeFacts& f, Exposure::Kind kind) {
  const bool secret = kind == Exposure::Kind::kSecret;
  TestUnit u =
      secret ? MakeUnit(f, "public_secrets", 4, {"5.4-1"},
                        "replies without a session carry no secret (keys, "
                        "tokens, codes, passwords)")
             : MakeUnit(f, "public_personal", 8, {"5.8-1", "5.8-2"},
                        "replies without a session carry no personal data "
                        "(owner names, contact details, location)");
  // Nothing shown to a stranger says little of how the device stores its
  // secrets or handles personal data.
  u.partial = true;
  int answered = 0;
  for (const WardenCall& c : f.public_calls) {
    AddCall(u.evidence, c);
    if (c.status != 0) ++answered;
  }
  std::string found;
  for (const auto& [path, e] : AllExposures(f)) {
    if (e.kind != kind) continue;
    found += (found.empty() ? "" : "; ") + path + ": " + e.what;
  }
  if (!found.empty()) {
    u.verdict = Verdict::kFail;
    u.finding = "without a session: " + found;
  } else if (answered == 0) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "no public path answered";
  } else {
    u.verdict = Verdict::kPass;
    u.finding = std::string("none in the replies of ") +
                std::to_string(answered) + " public paths";
  }
  return u;
}

TestUnit JudgeOwnerRoutes(const WardenProbeFacts& f) {
  TestUnit u = MakeUnit(f, "owner_routes", 5, {"5.5-5"},
                        "the owner's routes refuse requests without "
                        "credentials");
  std::string served, refused;
  int answered = 0;
  for (const WardenCall& c : f.owner_calls) {
    AddCall(u.evidence, c);
    if (c.status == 0) continue;
    ++answered;
    if (c.status >= 200 && c.status < 300) {
      served += (served.empty() ? "" : ", ") + c.path;
    } else {
      refused += (refused.empty() ? "" : ", ") + c.path + " " +
                 std::to_string(c.status);
    }
  }
  if (!served.empty()) {
    u.verdict = Verdict::kFail;
    u.finding = "served without credentials: " + served;
  } else if (answered < static_cast<int>(f.owner_calls.size()) ||
             answered == 0) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "not every owner route answered" +
                (refused.empty() ? "" : " (refused: " + refused + ")");
  } else {
    u.verdict = Verdict::kPass;
    u.finding = "refused without credentials: " + refused;
  }
  return u;
}

// Why kind `k` of an inventory is not well formed, or "" when it is.
std::string KindProblem(const nlohmann::json& k) {
  if (!k.is_object()) return "a kind that is not an object";
  auto str = [&](const char* m) {
    auto it = k.find(m);
    return it != k.end() && it->is_string() && !it->get<std::string>().empty();
  };
  if (!str("name")) return "a kind without a name";
  if (!str("purpose")) return "a kind without a purpose";
  if (!str("category")) return "a kind without a category";
  const std::string category = k["category"].get<std::string>();
  if (std::find(kDataCategories.begin(), kDataCategories.end(), category) ==
      kDataCategories.end()) {
    return "a kind of unknown category";
  }
  auto r = k.find("retention_seconds");
  if (r == k.end() || !r->is_number_integer() || r->get<int64_t>() <= 0) {
    return "a kind without a retention period";
  }
  auto leave = k.find("may_leave_device");
  if (leave == k.end() || !leave->is_boolean()) {
    return "a kind that does not say whether it may leave the device";
  }
  return "";
}

TestUnit JudgeDataInventory(const WardenProbeFacts& f) {
  TestUnit u = MakeUnit(f, "data_inventory", 8, {"5.8-3", "6-1"},
                        "the device publishes what personal data it keeps, "
                        "why, and for how long");
  // What is declared is shown; that it is also encrypted and kept no
  // longer is not visible from outside.
  u.partial = true;
  const WardenCall* call = nullptr;
  for (const WardenCall& c : f.public_calls) {
    if (c.path == kInventoryPath) call = &c;
  }
  if (call == nullptr || call->status == 0) {
    if (call != nullptr) AddCall(u.evidence, *call);
    u.verdict = Verdict::kInconclusive;
    u.finding = "GET " + std::string(kInventoryPath) + " was not answered";
    return u;
  }
  AddCall(u.evidence, *call);
  std::optional<nlohmann::json> j = ParseJson(call->reply_body);
  const nlohmann::json* kinds = nullptr;
  if (call->status == 200 && j && j->is_object()) {
    auto it = j->find("kinds");
    if (it != j->end() && it->is_array()) kinds = &*it;
  }
  if (kinds == nullptr) {
    u.verdict = Verdict::kFail;
    u.finding = call->status == 200
                    ? "the inventory is not a JSON object with \"kinds\""
                    : "no inventory of personal data (status " +
                          std::to_string(call->status) + ")";
    return u;
  }
  std::string named;
  for (size_t i = 0; i < kinds->size(); ++i) {
    const nlohmann::json& k = (*kinds)[i];
    if (std::string problem = KindProblem(k); !problem.empty()) {
      u.verdict = Verdict::kFail;
      u.finding = "the inventory lists " + problem;
      return u;
    }
    if (i < kKindsNamed) {
      named += (named.empty() ? "" : ", ") +
               Printable(AsBytes(k["name"].get<std::string>()), 40) + " (" +
               k["category"].get<std::string>() + ")";
    }
  }
  u.verdict = Verdict::kPass;
  if (kinds->empty()) {
    u.finding = "keeps no personal data, and says so";
  } else {
    u.finding = "declares " + std::to_string(kinds->size()) + " kind" +
                (kinds->size() == 1 ? "" : "s") + ": " + named +
                (kinds->size() > kKindsNamed ? ", ..." : "");
  }
  return u;
}

}  // namespace

std::vector<Exposure> FindExposures(std::string_view body) {
  std::vector<Exposure> out;
  if (std::optional<nlohmann::json> j = ParseJson(body); j.has_value()) {
    Walk(*j, 0, out);
  } else if (HasPem(body)) {
    out.push_back({Exposure::Kind::kSecret, PemKind(body)});
  }
  return out;
}

WardenProbeFacts ProbeWarden(const asio::ip::address& address, uint16_t port,
                             bool tls, const ProbeOptions& options) {
  WardenProbeFacts f;
  f.port = port;
  f.tls = tls;
  const Session s{tcp::endpoint(address, port), tls, options.host,
                  options.io_timeout};
  f.public_calls = GetEach(s, kPublicPaths);
  f.info = f.public_calls.front();
  if (auto j = ParseJson(f.info.reply_body);
      f.info.status == 200 && j && j->is_object() && j->contains("paired") &&
      (*j)["paired"].is_boolean()) {
    f.paired_known = true;
    f.paired = (*j)["paired"].get<bool>();
  }
  f.owner_calls = GetEach(s, kOwnerPaths);
  if (f.paired_known) {
    const bool paired = f.paired;
    f.pairing = RunCalls(s, [paired](const std::vector<WardenCall>& done) {
      return NextPairing(done, paired);
    });
  }
  return f;
}

TestGroup JudgeWarden(const WardenProbeFacts& facts) {
  TestGroup g{"warden." + std::to_string(facts.port),
              "Warden device on port " + std::to_string(facts.port),
              {}};
  if (facts.paired_known) {
    if (facts.paired) g.units.push_back(JudgePairingClosed(facts));
    g.units.push_back(JudgePairingAttempts(facts));
  } else {
    TestUnit u = MakeUnit(facts, "pairing_attempts", 1, {"5.1-5"},
                          "pairing attempts are counted and delayed even "
                          "when never confirmed");
    AddCall(u.evidence, facts.info);
    u.verdict = Verdict::kInconclusive;
    u.finding = "/v1/info does not say whether the device is paired";
    g.units.push_back(std::move(u));
  }
  g.units.push_back(JudgeExposure(facts, Exposure::Kind::kSecret));
  g.units.push_back(JudgeExposure(facts, Exposure::Kind::kPersonal));
  g.units.push_back(JudgeOwnerRoutes(facts));
  g.units.push_back(JudgeDataInventory(facts));
  return g;
}

}  // namespace warden::assess
