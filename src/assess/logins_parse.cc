// The pure half of logins.h: parsers of what devices send on their login
// surfaces, and the answers computed from it. No network here, so every
// function is fuzzed and tested alone.
#include <openssl/evp.h>

#include <algorithm>

#include "assess/logins.h"
#include "assess/service_id.h"

namespace warden::assess {
namespace {

constexpr uint8_t kIac = 255, kDont = 254, kDo = 253, kWont = 252, kWill = 251,
                  kSb = 250, kSe = 240;
constexpr size_t kMaxParam = 1024;
constexpr size_t kMaxAttr = 256;
constexpr size_t kMaxForms = 16;
constexpr size_t kMaxInputs = 64;
constexpr size_t kMaxHidden = 32;

char LowerChar(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerChar(c);
  return out;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
         c == '\v' || c == '\0';
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view Trim(std::string_view s) {
  s = TrimRight(s);
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

bool SaysFailure(std::string_view lower) {
  for (std::string_view w : {"incorrect", "invalid", "failed", "denied",
                             "wrong", "unauthorized", "not authorized"}) {
    if (Contains(lower, w)) return true;
  }
  return false;
}

std::string HashHex(std::string_view alg, std::string_view data) {
  const EVP_MD* md = alg.rfind("SHA-256", 0) == 0 ? EVP_sha256() : EVP_md5();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
    return "";
  }
  return HexEncode(ByteView(out, len));
}

// Escapes `"` and `\` for a quoted-string.
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// An HTML tag's attributes: name (lowercase) and value, entities left as
// they are except &amp;.
std::vector<std::pair<std::string, std::string>> Attributes(
    std::string_view tag) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  while (i < tag.size() && !IsSpace(tag[i])) ++i;  // the tag's name
  while (i < tag.size() && out.size() < kMaxInputs) {
    while (i < tag.size() && (IsSpace(tag[i]) || tag[i] == '/')) ++i;
    const size_t start = i;
    while (i < tag.size() && !IsSpace(tag[i]) && tag[i] != '=' &&
           tag[i] != '/') {
      ++i;
    }
    if (i == start) break;
    std::string name = Lower(tag.substr(start, std::min(i - start, kMaxAttr)));
    while (i < tag.size() && IsSpace(tag[i])) ++i;
    std::string value;
    if (i < tag.size() && tag[i] == '=') {
      ++i;
      while (i < tag.size() && IsSpace(tag[i])) ++i;
      std::string_view raw;
      if (i < tag.size() && (tag[i] == '"' || tag[i] == '\'')) {
        const char q = tag[i++];
        const size_t end = tag.find(q, i);
        const size_t stop = end == std::string_view::npos ? tag.size() : end;
        raw = tag.substr(i, stop - i);
        i = stop == tag.size() ? stop : stop + 1;
      } else {
        const size_t v = i;
        while (i < tag.size() && !IsSpace(tag[i])) ++i;
        raw = tag.substr(v, i - v);
      }
      raw = raw.substr(0, kMaxAttr);
      for (size_t k = 0; k < raw.size(); ++k) {
        if (raw.substr(k, 5) == "&amp;") {
          value += '&';
          k += 4;
        } else {
          value += raw[k];
        }
      }
    }
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::string Attr(const std::vector<std::pair<std::string, std::string>>& attrs,
                 std::string_view name) {
  for (const auto& [k, v] : attrs) {
    if (k == name) return v;
  }
  return "";
}

bool IsPathChar(char c) {
  return static_cast<unsigned char>(c) > 0x20 &&
         static_cast<unsigned char>(c) < 0x7f && c != '#';
}

// The path an action resolves to from `page_path`, or "" for one that
// leaves the device or is not a path.
std::string ResolveAction(std::string_view action, std::string_view page_path) {
  action = Trim(action);
  const size_t hash = action.find('#');
  if (hash != std::string_view::npos) action = action.substr(0, hash);
  if (action.empty()) return std::string(page_path);
  // A scheme (http:, javascript:) or a network path ("//host") leaves the
  // device, or leaves HTTP.
  const size_t colon = action.find(':');
  if ((colon != std::string_view::npos && colon < action.find('/')) ||
      action.rfind("//", 0) == 0) {
    return "";
  }
  std::string path;
  if (action.front() == '/') {
    path = std::string(action);
  } else {
    const size_t slash = page_path.rfind('/');
    path = std::string(page_path.substr(0, slash + 1)) + std::string(action);
  }
  if (!std::all_of(path.begin(), path.end(), IsPathChar)) return "";
  return path;
}

void UrlEncode(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
        (b >= '0' && b <= '9') || b == '-' || b == '_' || b == '.' ||
        b == '~') {
      out += c;
    } else if (b == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
}

}  // namespace

void TelnetDecoder::Feed(ByteView data, Bytes* replies) {
  for (uint8_t b : data) {
    switch (state_) {
      case State::kData:
        if (b == kIac) {
          state_ = State::kIac;
        } else if (text_.size() < kMaxLoginConversationBytes) {
          text_ += static_cast<char>(b);
        }
        break;
      case State::kIac:
        if (b == kIac) {  // an escaped 255 in the data
          if (text_.size() < kMaxLoginConversationBytes) text_ += '\xff';
          state_ = State::kData;
        } else if (b >= kWill && b <= kDont) {
          command_ = b;
          state_ = State::kOption;
        } else if (b == kSb) {
          state_ = State::kSub;
        } else {
          state_ = State::kData;  // a two-byte command: NOP, GA, ...
        }
        break;
      case State::kOption:
        if (command_ == kDo || command_ == kWill) {
          replies->insert(replies->end(),
                          {kIac, command_ == kDo ? kWont : kDont, b});
        }
        state_ = State::kData;
        break;
      case State::kSub:
        if (b == kIac) state_ = State::kSubIac;
        break;
      case State::kSubIac:
        state_ = b == kSe ? State::kData : State::kSub;
        break;
    }
  }
}

TelnetPrompt ClassifyTelnetText(std::string_view text, bool after_password) {
  // Only the text's tail decides: a banner may say anything.
  const std::string lower = Lower(
      TrimRight(text.size() > 512 ? text.substr(text.size() - 512) : text));
  const bool asks_login =
      EndsWith(lower, "login:") || EndsWith(lower, "username:") ||
      EndsWith(lower, "user name:") || EndsWith(lower, "user:");
  const bool asks_password = EndsWith(lower, "password:");
  if (!after_password) {
    if (asks_login) return TelnetPrompt::kLogin;
    if (asks_password) return TelnetPrompt::kPassword;
    return TelnetPrompt::kNone;
  }
  if (SaysFailure(lower) || asks_login || asks_password) {
    return TelnetPrompt::kRefused;
  }
  if (!lower.empty()) {
    const char last = lower.back();
    if (last == '$' || last == '#' || last == '>' || last == '%') {
      return TelnetPrompt::kShell;
    }
  }
  return TelnetPrompt::kNone;
}

Result<std::optional<FtpReply>> ParseFtpReply(std::string_view raw,
                                              size_t* used) {
  *used = 0;
  auto digits = [](std::string_view s) {
    return s.size() >= 3 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' &&
           s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
  };
  if (raw.size() >= 3 && !digits(raw)) {
    return InvalidArgumentError("not an FTP reply");
  }
  size_t pos = 0;
  bool multi = false;
  std::string code;
  FtpReply reply;
  while (true) {
    const size_t nl = raw.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (raw.size() > kMaxLoginConversationBytes) {
        return ResourceExhaustedError("FTP reply too long");
      }
      return std::optional<FtpReply>();
    }
    std::string_view line = raw.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool first = pos == 0;
    pos = nl + 1;
    if (pos > kMaxLoginConversationBytes) {
      return ResourceExhaustedError("FTP reply too long");
    }
    if (first) {
      if (!digits(line) ||
          (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
        return InvalidArgumentError("not an FTP reply");
      }
      code = std::string(line.substr(0, 3));
      reply.code =
          (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
      multi = line.size() > 3 && line[3] == '-';
    }
    if (reply.text.size() < 256) {
      if (!reply.text.empty()) reply.text += " | ";
      reply.text += Printable(AsBytes(line), 256);
      if (reply.text.size() > 256) reply.text.resize(256);
    }
    // A multi-line reply ends at a line starting with its code and a space.
    const bool ends = !multi || (!first && line.substr(0, 3) == code &&
                                 (line.size() == 3 || line[3] == ' '));
    if (ends) {
      *used = pos;
      return std::optional<FtpReply>(std::move(reply));
    }
  }
}

std::optional<AttemptOutcome> ClassifyFtpReply(const FtpReply& reply,
                                               bool after_password) {
  switch (reply.code) {
    case 230:
    case 202:
      return AttemptOutcome::kAccepted;
    case 331:
    case 332:
      if (!after_password) return std::nullopt;
      return AttemptOutcome::kRefused;
    case 530:
      return AttemptOutcome::kRefused;
    case 421:
      return AttemptOutcome::kThrottled;
    default:
      return AttemptOutcome::kNoAnswer;
  }
}

Result<DigestChallenge> ParseDigestChallenge(std::string_view value) {
  value = Trim(value);
  if (Lower(value.substr(0, 7)) != "digest " &&
      Lower(value.substr(0, 7)) != "digest\t") {
    return InvalidArgumentError("not a Digest challenge");
  }
  value.remove_prefix(7);
  DigestChallenge c;
  bool qop_listed = false;
  std::string qop;
  size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (IsSpace(value[i]) || value[i] == ',')) ++i;
    const size_t name_start = i;
    while (i < value.size() && value[i] != '=' && !IsSpace(value[i]) &&
           value[i] != ',') {
      ++i;
    }
    if (i == name_start) break;
    const std::string name =
        Lower(value.substr(name_start, std::min(i - name_start, kMaxParam)));
    while (i < value.size() && IsSpace(value[i])) ++i;
    if (i >= value.size() || value[i] != '=') {
      return InvalidArgumentError("Digest parameter without a value");
    }
    ++i;
    while (i < value.size() && IsSpace(value[i])) ++i;
    std::string v;
    if (i < value.size() && value[i] == '"') {
      ++i;
      bool closed = false;
      while (i < value.size()) {
        char ch = value[i++];
        if (ch == '\\' && i < value.size()) {
          ch = value[i++];
        } else if (ch == '"') {
          closed = true;
          break;
        }
        if (v.size() >= kMaxParam) {
          return InvalidArgumentError("Digest parameter too long");
        }
        v += ch;
      }
      if (!closed) return InvalidArgumentError("unterminated quoted string");
    } else {
      const size_t start = i;
      while (i < value.size() && value[i] != ',' && !IsSpace(value[i])) ++i;
      if (i - start > kMaxParam) {
        return InvalidArgumentError("Digest parameter too long");
      }
      v = std::string(value.substr(start, i - start));
    }
    if (name == "realm") {
      c.realm = v;
    } else if (name == "nonce") {
      c.nonce = v;
    } else if (name == "opaque") {
      c.opaque = v;
      c.has_opaque = true;
    } else if (name == "algorithm") {
      c.algorithm = v;
    } else if (name == "qop") {
      qop_listed = true;
      qop = Lower(v);
    }
  }
  if (c.nonce.empty()) return InvalidArgumentError("Digest without a nonce");
  if (c.realm.empty()) return InvalidArgumentError("Digest without a realm");
  if (c.algorithm.empty()) c.algorithm = "MD5";
  const std::string alg = Lower(c.algorithm);
  if (alg == "md5") {
    c.algorithm = "MD5";
  } else if (alg == "md5-sess") {
    c.algorithm = "MD5-sess";
  } else if (alg == "sha-256") {
    c.algorithm = "SHA-256";
  } else if (alg == "sha-256-sess") {
    c.algorithm = "SHA-256-sess";
  } else {
    return InvalidArgumentError("Digest algorithm not supported");
  }
  if (qop_listed) {
    for (size_t p = 0; p < qop.size();) {
      size_t comma = qop.find(',', p);
      if (comma == std::string::npos) comma = qop.size();
      if (Trim(std::string_view(qop).substr(p, comma - p)) == "auth") {
        c.qop_auth = true;
      }
      p = comma + 1;
    }
    if (!c.qop_auth) return InvalidArgumentError("Digest qop without auth");
  }
  return c;
}

Result<DigestChallenge> DigestChallengeOf(ByteView raw_reply) {
  Result<HttpReply> reply = ParseHttpReply(raw_reply);
  if (!reply.ok() || reply->status != 401) {
    return InvalidArgumentError("not a 401 reply");
  }
  std::optional<DigestChallenge> best;
  for (const auto& [name, value] : reply->headers) {
    if (Lower(name) != "www-authenticate") continue;
    Result<DigestChallenge> c = ParseDigestChallenge(value);
    if (!c.ok()) continue;
    if (!best || (best->algorithm.rfind("MD5", 0) == 0 &&
                  c->algorithm.rfind("SHA-256", 0) == 0)) {
      best = std::move(*c);
    }
  }
  if (!best) return InvalidArgumentError("no Digest challenge");
  return std::move(*best);
}

std::string DigestAuthorization(const DigestChallenge& c, std::string_view user,
                                std::string_view password,
                                std::string_view method, std::string_view uri,
                                std::string_view cnonce) {
  const std::string& alg = c.algorithm;
  const std::string nc = "00000001";
  std::string ha1 = HashHex(
      alg, std::string(user) + ":" + c.realm + ":" + std::string(password));
  if (EndsWith(alg, "-sess")) {
    ha1 = HashHex(alg, ha1 + ":" + c.nonce + ":" + std::string(cnonce));
  }
  const std::string ha2 =
      HashHex(alg, std::string(method) + ":" + std::string(uri));
  const std::string response =
      c.qop_auth ? HashHex(alg, ha1 + ":" + c.nonce + ":" + nc + ":" +
                                    std::string(cnonce) + ":auth:" + ha2)
                 : HashHex(alg, ha1 + ":" + c.nonce + ":" + ha2);
  std::string out = "Digest username=" + Quoted(user) +
                    ", realm=" + Quoted(c.realm) +
                    ", nonce=" + Quoted(c.nonce) + ", uri=" + Quoted(uri) +
                    ", algorithm=" + alg + ", response=" + Quoted(response);
  if (c.qop_auth) {
    out += ", qop=auth, nc=" + nc + ", cnonce=" + Quoted(cnonce);
  }
  if (c.has_opaque) out += ", opaque=" + Quoted(c.opaque);
  return out;
}

std::optional<LoginForm> FindLoginForm(std::string_view html,
                                       std::string_view page_path) {
  const std::string lower = Lower(html);
  size_t pos = 0;
  for (size_t forms = 0; forms < kMaxForms; ++forms) {
    const size_t open = lower.find("<form", pos);
    if (open == std::string::npos) return std::nullopt;
    const size_t open_end = lower.find('>', open);
    if (open_end == std::string::npos) return std::nullopt;
    size_t close = lower.find("</form", open_end);
    if (close == std::string::npos) close = lower.size();
    pos = close;
    const auto form_attrs =
        Attributes(html.substr(open + 1, open_end - open - 1));
    if (Lower(Attr(form_attrs, "method")) != "post") continue;
    LoginForm form;
    form.action = ResolveAction(Attr(form_attrs, "action"), page_path);
    if (form.action.empty()) continue;
    size_t passwords = 0, users = 0;
    size_t in = open_end;
    for (size_t inputs = 0; inputs < kMaxInputs; ++inputs) {
      const size_t tag = lower.find("<input", in);
      if (tag == std::string::npos || tag >= close) break;
      const size_t tag_end = lower.find('>', tag);
      if (tag_end == std::string::npos || tag_end > close) break;
      in = tag_end;
      const auto attrs = Attributes(html.substr(tag + 1, tag_end - tag - 1));
      const std::string type = Lower(Attr(attrs, "type"));
      const std::string name = Attr(attrs, "name");
      if (name.empty()) continue;
      if (type == "password") {
        ++passwords;
        form.password_field = name;
      } else if (type.empty() || type == "text" || type == "email") {
        ++users;
        form.user_field = name;
      } else if (type == "hidden" && form.hidden.size() < kMaxHidden) {
        form.hidden.emplace_back(name, Attr(attrs, "value"));
      }
    }
    if (passwords == 1 && users == 1) return form;
  }
  return std::nullopt;
}

std::string FormBody(const LoginForm& form, std::string_view user,
                     std::string_view password) {
  std::string out;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!out.empty()) out += '&';
    UrlEncode(out, k);
    out += '=';
    UrlEncode(out, v);
  };
  for (const auto& [k, v] : form.hidden) add(k, v);
  add(form.user_field, user);
  add(form.password_field, password);
  return out;
}

AttemptOutcome ClassifyFormAttempt(ByteView raw, std::string_view page_path,
                                   std::string* why) {
  Result<HttpReply> reply = ParseHttpReply(raw);
  if (!reply.ok()) {
    *why = raw.empty() ? "no reply" : "not an HTTP reply";
    return AttemptOutcome::kNoAnswer;
  }
  *why = "HTTP " + std::to_string(reply->status);
  if (!reply->Header("Retry-After").empty() || reply->status == 429 ||
      reply->status == 503) {
    return AttemptOutcome::kThrottled;
  }
  if (reply->status == 401 || reply->status == 403) {
    return AttemptOutcome::kRefused;
  }
  if (reply->status == 301 || reply->status == 302 || reply->status == 303 ||
      reply->status == 307 || reply->status == 308) {
    const std::string location = reply->Header("Location");
    *why += " to " + Printable(AsBytes(location), 80);
    const std::string l = Lower(location);
    for (std::string_view w : {"login", "signin", "sign-in", "logon", "auth",
                               "error", "fail", "denied"}) {
      if (Contains(l, w)) return AttemptOutcome::kRefused;
    }
    // Back to the page the form was on (with or without its host).
    std::string_view path = location;
    if (const size_t scheme = path.find("://"); scheme != path.npos) {
      const size_t slash = path.find('/', scheme + 3);
      path = slash == path.npos ? "/" : path.substr(slash);
    }
    path = path.substr(0, path.find('?'));
    if (path == page_path) return AttemptOutcome::kRefused;
    return AttemptOutcome::kAccepted;
  }
  if (reply->status >= 200 && reply->status < 300) {
    if (FindLoginForm(reply->body, page_path).has_value()) {
      *why += ", the login form again";
      return AttemptOutcome::kRefused;
    }
    if (SaysFailure(Lower(reply->body))) {
      *why += ", a page saying the login failed";
      return AttemptOutcome::kRefused;
    }
    *why += ", a page without the login form";
    return AttemptOutcome::kAccepted;
  }
  return AttemptOutcome::kNoAnswer;
}

std::optional<std::string> ParseSshBanner(ByteView raw) {
  std::string_view text(reinterpret_cast<const char*>(raw.data()),
                        std::min<size_t>(raw.size(), 255));
  if (text.rfind("SSH-", 0) != 0) return std::nullopt;
  const size_t end = text.find_first_of("\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  return Printable(AsBytes(text.substr(0, end)), 255);
}

}  // namespace warden::assess
