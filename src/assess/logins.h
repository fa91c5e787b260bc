// Login surfaces beyond HTTP Basic and MQTT (guideline 1, EN 303 645 5.1-1
// and 5.1-5): telnet, FTP, HTTP Digest, HTTP login forms, and SSH (its
// banner and whether it offers password authentication).
//
// Each surface is tried with the shipped list through RunCredentials
// (credentials.h): one fresh connection per attempt, stopping at the first
// pair accepted and at the first sign of throttling. The parsers of what a
// device sends (telnet negotiation and prompts, FTP replies, Digest
// challenges, login pages) are pure functions over bytes, bounded in what
// they read and keep, and fuzzed (fuzz/fuzz_assess_logins.cc); every
// conversation is bounded in time (ProbeOptions::io_timeout per step) and
// in bytes (kMaxLoginConversationBytes). Passwords never reach the
// evidence: an attempt's `why` holds only what the device answered.
#ifndef WARDEN_ASSESS_LOGINS_H_
#define WARDEN_ASSESS_LOGINS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "assess/credentials.h"
#include "assess/probe.h"
#include "assess/report.h"
#include "base/bytes.h"
#include "base/status.h"

namespace warden::assess {

// What one login conversation (telnet, FTP) may read from the device.
inline constexpr size_t kMaxLoginConversationBytes = 16 * 1024;

// ---- telnet (RFC 854) ----

// Splits a telnet byte stream into its text and its commands, across
// reads. Every option the server asks for or offers is refused (DO and
// WILL answered with WONT and DONT), so the session stays a plain NVT;
// subnegotiations are skipped. Text beyond kMaxLoginConversationBytes is
// dropped.
class TelnetDecoder {
 public:
  // Appends the text in `data` to text() and the refusals owed to
  // `replies`.
  void Feed(ByteView data, Bytes* replies);
  const std::string& text() const { return text_; }
  // Forgets the text read so far (commands in progress are kept).
  void ClearText() { text_.clear(); }

 private:
  enum class State { kData, kIac, kOption, kSub, kSubIac };
  State state_ = State::kData;
  uint8_t command_ = 0;
  std::string text_;
};

enum class TelnetPrompt {
  kNone,      // nothing recognised yet: keep reading
  kLogin,     // asks for a login name
  kPassword,  // asks for a password
  kShell,     // a shell prompt: logged in
  kRefused,   // the login was refused
};

// What the text a device sent since our last line asks for. Before the
// login name is sent (`after_password` false): a trailing "login:",
// "username:" or "user:" is kLogin, "password:" kPassword. After the
// password: words of refusal ("incorrect", "invalid", "failed", "denied",
// "wrong") or another login or password prompt are kRefused, a trailing
// '$', '#', '>' or '%' is kShell. ASCII case-insensitive; trailing
// whitespace ignored.
TelnetPrompt ClassifyTelnetText(std::string_view text, bool after_password);

// ---- FTP (RFC 959) ----

struct FtpReply {
  int code = 0;      // 100..599
  std::string text;  // the reply's lines, printable, cut to 256 bytes
};

// Reads one complete reply from the start of `raw`: "ddd text" or the
// multi-line "ddd-" ... "ddd " form. Sets `*used` to the bytes it took.
// nullopt when the reply is not complete yet; kInvalidArgument when the
// bytes are not an FTP reply; kResourceExhausted for a reply over
// kMaxLoginConversationBytes.
Result<std::optional<FtpReply>> ParseFtpReply(std::string_view raw,
                                              size_t* used);

// The outcome of USER (`after_password` false) or PASS: 230 and 202
// accepted, 530 refused, 421 throttled, anything else no answer; nullopt
// for a 331 or 332 after USER, which asks for the password.
std::optional<AttemptOutcome> ClassifyFtpReply(const FtpReply& reply,
                                               bool after_password);

// ---- HTTP Digest (RFC 7616) ----

struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::string opaque;
  std::string algorithm;  // "MD5", "MD5-sess", "SHA-256", "SHA-256-sess"
  bool qop_auth = false;  // "auth" offered (the only qop used)
  bool has_opaque = false;
};

// Parses one WWW-Authenticate value that starts with "Digest". Each
// parameter at most 1 KiB. kInvalidArgument for another scheme, a missing
// realm or nonce, an algorithm other than the four above, or a qop list
// without "auth" (auth-int needs the body; it is not tried).
Result<DigestChallenge> ParseDigestChallenge(std::string_view value);

// The strongest Digest challenge among a reply's WWW-Authenticate headers
// (SHA-256 before MD5), or kInvalidArgument when the reply is not a 401
// with one.
Result<DigestChallenge> DigestChallengeOf(ByteView raw_reply);

// The Authorization header value answering `c` for `method` and `uri` with
// client nonce `cnonce` and nonce count 1. Requires `c` from
// ParseDigestChallenge.
std::string DigestAuthorization(const DigestChallenge& c, std::string_view user,
                                std::string_view password,
                                std::string_view method, std::string_view uri,
                                std::string_view cnonce);

// ---- HTTP login forms ----

struct LoginForm {
  std::string action;  // the path the form posts to, resolved
  std::string user_field;
  std::string password_field;
  // Hidden inputs and their values (a CSRF token, say), sent back as they
  // came; at most 32.
  std::vector<std::pair<std::string, std::string>> hidden;
};

// Finds the first <form method="post"> in `html` with exactly one password
// input and one text, email or unnamed-type input, among the first 16
// forms and 64 inputs of each. `page_path` (an absolute path) resolves a
// relative or empty action; an action naming another host is not followed.
// nullopt when there is none. Attribute values are kept up to 256 bytes.
std::optional<LoginForm> FindLoginForm(std::string_view html,
                                       std::string_view page_path);

// application/x-www-form-urlencoded body of `form` with the pair filled in.
std::string FormBody(const LoginForm& form, std::string_view user,
                     std::string_view password);

// Reads the reply to a form post: 429, 503 or Retry-After throttled; 401
// and 403 refused; a redirect refused when it leads back to a login page
// (a Location naming "login", "signin", "auth", "error" or "fail", or the
// form's own page), else accepted; 200 refused when the page still holds a
// login form or says the login failed, else accepted.
AttemptOutcome ClassifyFormAttempt(ByteView raw, std::string_view page_path,
                                   std::string* why);

// ---- SSH ----

struct SshFacts {
  bool answered = false;
  std::string banner;  // the server's identification string
  bool password_offered = false;
  bool keyboard_interactive = false;
  std::string methods;  // as the server listed them
  std::string error;    // why the probe stopped, empty when it did not
};

// The SSH identification line (RFC 4253 4.2) from the first bytes a server
// sent: "SSH-2.0-..." up to CR LF, at most 255 bytes; nullopt otherwise.
std::optional<std::string> ParseSshBanner(ByteView raw);

// Connects with libssh, reads the banner, completes key exchange (the host
// key is not checked: the assessor reports, it does not trust) and asks
// for the authentication methods with a "none" request for
// kThrottleProbeUser. Bounded by options.io_timeout.
SshFacts ProbeSsh(const boost::asio::ip::address& address, uint16_t port,
                  const ProbeOptions& options);

// One password attempt over SSH (libssh), on a fresh connection.
AttemptOutcome TrySshPassword(const boost::asio::ip::address& address,
                              uint16_t port, const CredentialPair& pair,
                              const ProbeOptions& options, std::string* why);

// ---- the network side of each surface ----

AttemptOutcome TryTelnetLogin(const boost::asio::ip::address& address,
                              uint16_t port, const CredentialPair& pair,
                              const ProbeOptions& options, std::string* why);
AttemptOutcome TryFtpLogin(const boost::asio::ip::address& address,
                           uint16_t port, const CredentialPair& pair,
                           const ProbeOptions& options, std::string* why);
// GETs `path` for a fresh challenge, then again with the answer.
AttemptOutcome TryDigestLogin(const boost::asio::ip::address& address,
                              uint16_t port, bool tls, const std::string& path,
                              const CredentialPair& pair,
                              const ProbeOptions& options, std::string* why);
// GETs the page at `page_path` (for fresh hidden fields), then posts its
// login form.
AttemptOutcome TryFormLogin(const boost::asio::ip::address& address,
                            uint16_t port, bool tls,
                            const std::string& page_path,
                            const CredentialPair& pair,
                            const ProbeOptions& options, std::string* why);

// The units for the login surfaces of one identified port, appended to
// `units`: for each surface found (telnet, FTP, a Digest challenge or a
// login form on the page at "/" or the one "/" redirects to, SSH offering
// passwords), the credential run's JudgeDefaultCredentials and
// JudgeThrottling; for SSH without password authentication one unit
// saying so (credentials.PORT.default). Nothing for other services.
void AddLoginUnits(const boost::asio::ip::address& address,
                   const PortFacts& facts, const ProbeOptions& options,
                   const std::vector<CredentialPair>& pairs,
                   std::vector<TestUnit>& units);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_LOGINS_H_
