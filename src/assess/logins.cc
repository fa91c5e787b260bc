// The network half of logins.h: one bounded conversation per attempt,
// each on a private io_context on the calling thread.
#include "assess/logins.h"

#include <openssl/rand.h>

#include <array>
#include <exception>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "assess/service_id.h"

namespace warden::assess {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::awaitable;

std::string PortText(uint16_t port) { return std::to_string(port); }

constexpr std::string_view kNoAnswerInTime = "no answer within the deadline";

// What a device answered, fit for the evidence: the password blanked in
// case the device echoed it, control characters as spaces, cut.
std::string Redacted(std::string_view text, std::string_view password,
                     size_t limit = 120) {
  std::string out(text.substr(0, 4 * limit));
  if (password.size() >= 3) {
    for (size_t at = out.find(password); at != std::string::npos;
         at = out.find(password, at)) {
      out.replace(at, password.size(), "(password)");
    }
  }
  std::string clean;
  for (char c : out) {
    const auto b = static_cast<unsigned char>(c);
    const char shown = b < 0x20 || b == 0x7f ? ' ' : c;
    if (shown == ' ' && (clean.empty() || clean.back() == ' ')) continue;
    clean += shown;
  }
  while (!clean.empty() && clean.back() == ' ') clean.pop_back();
  return Printable(AsBytes(clean), limit);
}

bool HasLineBreak(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

struct Outcome {
  AttemptOutcome outcome = AttemptOutcome::kNoAnswer;
  std::string why;
};

Outcome RunConversation(awaitable<Outcome> work) {
  Outcome out{AttemptOutcome::kNoAnswer, "probe failed"};
  try {
    asio::io_context io;
    asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, Outcome o) {
      if (!e) out = std::move(o);
    });
    io.run();
  } catch (const std::exception&) {
  }
  return out;
}

// A plain TCP conversation with one deadline per step and one byte budget
// for all of it.
class Session {
 public:
  explicit Session(asio::any_io_executor executor, const ProbeOptions& options)
      : stream_(executor), options_(options) {}

  awaitable<std::string> Connect(const tcp::endpoint& ep) {
    stream_.expires_after(options_.io_timeout);
    beast::error_code ec;
    co_await stream_.async_connect(
        ep, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == beast::error::timeout) co_return "connect timed out";
    if (ec) co_return "connect: " + ec.message();
    co_return "";
  }

  // Starts the deadline of the next step.
  void Step() { stream_.expires_after(options_.io_timeout); }

  // Some bytes, appended to `out`; "" or why none came.
  awaitable<std::string> Read(Bytes& out) {
    if (read_ >= kMaxLoginConversationBytes) co_return "reply too long";
    std::array<uint8_t, 2048> buf;
    const size_t want =
        std::min(buf.size(), kMaxLoginConversationBytes - read_);
    beast::error_code ec;
    const size_t n = co_await stream_.async_read_some(
        asio::buffer(buf.data(), want),
        asio::redirect_error(asio::use_awaitable, ec));
    read_ += n;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(n));
    if (n > 0) co_return "";
    if (ec == beast::error::timeout) co_return std::string(kNoAnswerInTime);
    if (ec == asio::error::eof) co_return "connection closed";
    co_return ec ? ec.message() : "no bytes";
  }

  awaitable<std::string> Write(std::string_view data) {
    beast::error_code ec;
    co_await asio::async_write(stream_, asio::buffer(data),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return ec ? "write: " + ec.message() : "";
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  beast::tcp_stream stream_;
  const ProbeOptions& options_;
  size_t read_ = 0;
};

// ---- telnet ----

awaitable<Outcome> TelnetConversation(tcp::endpoint ep, CredentialPair pair,
                                      ProbeOptions options) {
  Session s(co_await asio::this_coro::executor, options);
  if (std::string err = co_await s.Connect(ep); !err.empty()) {
    co_return Outcome{AttemptOutcome::kNoAnswer, err};
  }
  TelnetDecoder decoder;
  // Reads until the text asks for something or the step's deadline passes.
  auto wait = [&](bool after_password) -> awaitable<TelnetPrompt> {
    s.Step();
    while (true) {
      TelnetPrompt p = ClassifyTelnetText(decoder.text(), after_password);
      if (p != TelnetPrompt::kNone) co_return p;
      Bytes got, replies;
      if (!(co_await s.Read(got)).empty()) co_return TelnetPrompt::kNone;
      decoder.Feed(got, &replies);
      if (!replies.empty()) {
        co_await s.Write(std::string_view(
            reinterpret_cast<const char*>(replies.data()), replies.size()));
      }
    }
  };
  TelnetPrompt p = co_await wait(false);
  std::string seen = decoder.text();
  if (p == TelnetPrompt::kLogin) {
    decoder.ClearText();
    co_await s.Write(pair.user + "\r\n");
    p = co_await wait(false);
  }
  if (p != TelnetPrompt::kPassword) {
    s.Close();
    co_return Outcome{
        AttemptOutcome::kNoAnswer,
        "no password prompt (last: \"" +
            Redacted(decoder.text().empty() ? seen : decoder.text(),
                     pair.password, 80) +
            "\")"};
  }
  decoder.ClearText();
  co_await s.Write(pair.password + "\r\n");
  p = co_await wait(true);
  const std::string answer =
      "after the password: \"" + Redacted(decoder.text(), pair.password) + "\"";
  s.Close();
  switch (p) {
    case TelnetPrompt::kShell:
      co_return Outcome{AttemptOutcome::kAccepted, "shell prompt " + answer};
    case TelnetPrompt::kRefused:
      co_return Outcome{AttemptOutcome::kRefused, "refused " + answer};
    default:
      co_return Outcome{AttemptOutcome::kNoAnswer, "no verdict " + answer};
  }
}

// ---- FTP ----

awaitable<Outcome> FtpConversation(tcp::endpoint ep, CredentialPair pair,
                                   ProbeOptions options) {
  Session s(co_await asio::this_coro::executor, options);
  if (std::string err = co_await s.Connect(ep); !err.empty()) {
    co_return Outcome{AttemptOutcome::kNoAnswer, err};
  }
  Bytes buffer;
  std::string error;
  auto reply = [&]() -> awaitable<std::optional<FtpReply>> {
    s.Step();
    while (true) {
      size_t used = 0;
      Result<std::optional<FtpReply>> r = ParseFtpReply(
          std::string_view(reinterpret_cast<const char*>(buffer.data()),
                           buffer.size()),
          &used);
      if (!r.ok()) {
        error = r.status().message();
        co_return std::nullopt;
      }
      if (r->has_value()) {
        buffer.erase(buffer.begin(), buffer.begin() + static_cast<long>(used));
        co_return std::move(*r);
      }
      if (error = co_await s.Read(buffer); !error.empty()) {
        co_return std::nullopt;
      }
    }
  };
  std::optional<FtpReply> greeting = co_await reply();
  if (!greeting || greeting->code != 220) {
    s.Close();
    if (greeting && greeting->code == 421) {
      co_return Outcome{AttemptOutcome::kThrottled,
                        "greeting " + Redacted(greeting->text, "")};
    }
    co_return Outcome{AttemptOutcome::kNoAnswer,
                      greeting ? "greeting " + Redacted(greeting->text, "")
                               : "no greeting (" + error + ")"};
  }
  co_await s.Write("USER " + pair.user + "\r\n");
  std::optional<FtpReply> user = co_await reply();
  if (!user) {
    s.Close();
    co_return Outcome{AttemptOutcome::kNoAnswer,
                      "no reply to USER (" + error + ")"};
  }
  std::optional<AttemptOutcome> after_user = ClassifyFtpReply(*user, false);
  if (after_user) {
    s.Close();
    co_return Outcome{*after_user,
                      "USER: " + Redacted(user->text, pair.password)};
  }
  co_await s.Write("PASS " + pair.password + "\r\n");
  std::optional<FtpReply> pass = co_await reply();
  if (pass) co_await s.Write("QUIT\r\n");
  s.Close();
  if (!pass && error == kNoAnswerInTime) {
    // USER was answered within the deadline and PASS was not: the server
    // holds back its answer to a wrong password (pyftpdlib waits 3 s), which
    // is the slowing down 5.1-5 asks for.
    co_return Outcome{AttemptOutcome::kThrottled,
                      "no reply to PASS within " +
                          std::to_string(options.io_timeout.count()) +
                          " ms though USER was answered: a delay after a "
                          "failed login"};
  }
  if (!pass) {
    co_return Outcome{AttemptOutcome::kNoAnswer,
                      "no reply to PASS (" + error + ")"};
  }
  co_return Outcome{*ClassifyFtpReply(*pass, true),
                    "PASS: " + Redacted(pass->text, pair.password)};
}

std::string ClientNonce() {
  std::array<uint8_t, 12> bytes{};
  if (RAND_bytes(bytes.data(), bytes.size()) != 1) return "warden-assess";
  return HexEncode(bytes);
}

// name=value of each Set-Cookie, for a Cookie header (at most 8, 512 bytes).
std::string CookiesOf(const HttpReply& reply) {
  std::string out;
  size_t n = 0;
  for (const auto& [name, value] : reply.headers) {
    if (n == 8) break;
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(c));
    if (lower != "set-cookie") continue;
    const std::string pair = value.substr(0, value.find(';'));
    if (pair.find('=') == std::string::npos || HasLineBreak(pair) ||
        out.size() + pair.size() > 512) {
      continue;
    }
    out += (out.empty() ? "" : "; ") + pair;
    ++n;
  }
  return out.empty() ? "" : "Cookie: " + out + "\r\n";
}

// The reply's login form, or nullopt.
std::optional<LoginForm> FormOn(ByteView raw, const std::string& path) {
  Result<HttpReply> reply = ParseHttpReply(raw);
  if (!reply.ok() || reply->status != 200) return std::nullopt;
  return FindLoginForm(reply->body, path);
}

// A same-device redirect's path ("/login.html"), or "".
std::string RedirectPath(ByteView raw) {
  Result<HttpReply> reply = ParseHttpReply(raw);
  if (!reply.ok() || reply->status < 301 || reply->status > 308) return "";
  const std::string location = reply->Header("Location");
  if (location.empty() || location[0] != '/' ||
      (location.size() > 1 && location[1] == '/') || location.size() > 256 ||
      HasLineBreak(location)) {
    return "";
  }
  return location;
}

void PrependSent(TestUnit& unit, std::string line) {
  unit.evidence.sent.insert(unit.evidence.sent.begin(), std::move(line));
}

}  // namespace

AttemptOutcome TryTelnetLogin(const asio::ip::address& address, uint16_t port,
                              const CredentialPair& pair,
                              const ProbeOptions& options, std::string* why) {
  if (HasLineBreak(pair.user) || HasLineBreak(pair.password)) {
    *why = "a field holds a line break: not sent";
    return AttemptOutcome::kNoAnswer;
  }
  Outcome o = RunConversation(
      TelnetConversation(tcp::endpoint(address, port), pair, options));
  *why = std::move(o.why);
  return o.outcome;
}

AttemptOutcome TryFtpLogin(const asio::ip::address& address, uint16_t port,
                           const CredentialPair& pair,
                           const ProbeOptions& options, std::string* why) {
  if (HasLineBreak(pair.user) || HasLineBreak(pair.password)) {
    *why = "a field holds a line break: not sent";
    return AttemptOutcome::kNoAnswer;
  }
  Outcome o = RunConversation(
      FtpConversation(tcp::endpoint(address, port), pair, options));
  *why = std::move(o.why);
  return o.outcome;
}

AttemptOutcome TryDigestLogin(const asio::ip::address& address, uint16_t port,
                              bool tls, const std::string& path,
                              const CredentialPair& pair,
                              const ProbeOptions& options, std::string* why) {
  Fetch first = HttpGet(address, port, tls, path, options);
  Result<DigestChallenge> challenge = DigestChallengeOf(first.raw);
  if (!challenge.ok()) {
    // A device that stops challenging and says "slow down" is throttling.
    AttemptOutcome o = ClassifyHttpAttempt(first.raw, why);
    if (o == AttemptOutcome::kThrottled) return o;
    *why = "no Digest challenge (" +
           (first.error.empty() ? *why : first.error) + ")";
    return AttemptOutcome::kNoAnswer;
  }
  const std::string auth = DigestAuthorization(
      *challenge, pair.user, pair.password, "GET", path, ClientNonce());
  Fetch second = HttpGet(address, port, tls, path, options,
                         "Authorization: " + auth + "\r\n");
  AttemptOutcome o = ClassifyHttpAttempt(second.raw, why);
  *why += " (Digest " + challenge->algorithm + ")";
  if (o == AttemptOutcome::kNoAnswer && !second.error.empty()) {
    *why = second.error;
  }
  return o;
}

AttemptOutcome TryFormLogin(const asio::ip::address& address, uint16_t port,
                            bool tls, const std::string& page_path,
                            const CredentialPair& pair,
                            const ProbeOptions& options, std::string* why) {
  Fetch page = HttpGet(address, port, tls, page_path, options);
  Result<HttpReply> reply = ParseHttpReply(page.raw);
  if (reply.ok() && (reply->status == 429 || reply->status == 503)) {
    return ClassifyHttpAttempt(page.raw, why);
  }
  std::optional<LoginForm> form = reply.ok() && reply->status == 200
                                      ? FindLoginForm(reply->body, page_path)
                                      : std::nullopt;
  if (!form) {
    *why = "no login form at " + page_path +
           (page.error.empty() ? "" : " (" + page.error + ")");
    return AttemptOutcome::kNoAnswer;
  }
  Fetch post = HttpRequest(
      address, port, tls, "POST", form->action, options,
      "Content-Type: application/x-www-form-urlencoded\r\n" + CookiesOf(*reply),
      FormBody(*form, pair.user, pair.password));
  AttemptOutcome o = ClassifyFormAttempt(post.raw, page_path, why);
  *why = Redacted(*why, pair.password);
  if (o == AttemptOutcome::kNoAnswer && !post.error.empty()) {
    *why = post.error;
  }
  return o;
}

void AddLoginUnits(const asio::ip::address& address, const PortFacts& facts,
                   const ProbeOptions& options,
                   const std::vector<CredentialPair>& pairs,
                   std::vector<TestUnit>& units) {
  const uint16_t port = facts.port;
  auto judge = [&](const CredentialRun& run, std::string what) {
    units.push_back(JudgeDefaultCredentials(run));
    PrependSent(units.back(), what);
    units.push_back(JudgeThrottling(run));
  };
  switch (facts.service) {
    case Service::kTelnet: {
      CredentialRun run = RunCredentials(
          LoginSurface::kTelnet, port, false, pairs,
          [&](const CredentialPair& p, std::string* why) {
            return TryTelnetLogin(address, port, p, options, why);
          });
      judge(run,
            "telnet: each pair on a fresh connection, options refused, "
            "login and password prompts answered");
      return;
    }
    case Service::kFtp: {
      CredentialRun run =
          RunCredentials(LoginSurface::kFtp, port, false, pairs,
                         [&](const CredentialPair& p, std::string* why) {
                           return TryFtpLogin(address, port, p, options, why);
                         });
      judge(run, "FTP: USER and PASS, each pair on a fresh connection");
      return;
    }
    case Service::kSsh: {
      SshFacts ssh = ProbeSsh(address, port, options);
      const std::string learnt =
          "SSH banner " + (ssh.banner.empty() ? "(none)" : ssh.banner) +
          "; methods offered to \"" + std::string(kThrottleProbeUser) +
          "\": " + (ssh.methods.empty() ? "(none)" : ssh.methods);
      if (ssh.password_offered) {
        CredentialRun run = RunCredentials(
            LoginSurface::kSsh, port, false, pairs,
            [&](const CredentialPair& p, std::string* why) {
              return TrySshPassword(address, port, p, options, why);
            });
        judge(run, learnt +
                       "; then password authentication, each pair on a "
                       "fresh connection");
        return;
      }
      // No password to guess: the unit says so instead of a run.
      TestUnit u;
      u.id = "credentials." + PortText(port) + ".default";
      u.guideline = 1;
      u.provisions = {"5.1-1"};
      u.title = "the SSH server on port " + PortText(port) +
                " takes no default or guessable password";
      u.evidence.sent.push_back(
          "SSH key exchange (host key not checked), then a \"none\" "
          "authentication request");
      u.evidence.received.push_back(learnt);
      if (!ssh.answered || !ssh.error.empty()) {
        u.verdict = Verdict::kInconclusive;
        u.finding = "authentication methods not learnt (" + ssh.error + ")";
      } else {
        u.verdict = Verdict::kPass;
        u.finding = "offers no password authentication (" + ssh.methods + ")";
      }
      units.push_back(std::move(u));
      return;
    }
    case Service::kHttp:
    case Service::kHttps:
      break;
    default:
      return;
  }
  const bool tls = facts.service == Service::kHttps;
  for (const Exchange& x : facts.exchanges) {
    if (x.probe.rfind("HTTP GET /", 0) != 0) continue;
    if (Result<DigestChallenge> c = DigestChallengeOf(x.received); c.ok()) {
      CredentialRun run = RunCredentials(
          LoginSurface::kHttpDigest, port, tls, pairs,
          [&](const CredentialPair& p, std::string* why) {
            return TryDigestLogin(address, port, tls, "/", p, options, why);
          });
      judge(run, "HTTP Digest on /: realm \"" +
                     Printable(AsBytes(c->realm), 80) + "\", " + c->algorithm +
                     (c->qop_auth ? ", qop auth" : "") +
                     "; a fresh challenge for each pair");
      return;
    }
    std::string page = "/";
    std::optional<LoginForm> form = FormOn(x.received, page);
    if (!form) {
      // A device that sends "/" on to its login page: one redirect.
      page = RedirectPath(x.received);
      if (page.empty()) return;
      Fetch f = HttpGet(address, port, tls, page, options);
      form = FormOn(f.raw, page);
    }
    if (!form) return;
    CredentialRun run = RunCredentials(
        LoginSurface::kHttpForm, port, tls, pairs,
        [&](const CredentialPair& p, std::string* why) {
          return TryFormLogin(address, port, tls, page, p, options, why);
        });
    judge(run, "login form on " + Printable(AsBytes(page), 80) +
                   " posting to " + Printable(AsBytes(form->action), 80) +
                   " (fields \"" + Printable(AsBytes(form->user_field), 40) +
                   "\" and \"" + Printable(AsBytes(form->password_field), 40) +
                   "\"); the page fetched again before each pair");
    return;
  }
}

}  // namespace warden::assess
