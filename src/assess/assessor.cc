#include "assess/assessor.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "assess/credentials.h"
#include "assess/input_probes.h"
#include "assess/logins.h"
#include "assess/parallel.h"
#include "assess/robustness.h"
#include "assess/security_txt.h"
#include "assess/tls_suites.h"
#include "assess/udp.h"
#include "assess/warden_probes.h"
#include "base/time_format.h"

namespace warden::assess {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string PortText(uint16_t port) { return std::to_string(port); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void AddExchanges(Evidence& e, const std::vector<Exchange>& exchanges) {
  for (const Exchange& x : exchanges) {
    e.sent.push_back(x.probe + ": " + x.sent);
    e.received.push_back(
        x.probe + ": " +
        (x.received.empty() ? "(no bytes)" : Printable(x.received, 300)) +
        (x.outcome.empty() ? "" : " [" + x.outcome + "]"));
  }
}

bool IsTls(Service s) { return s == Service::kTls || s == Service::kHttps; }
bool IsWeb(Service s) { return s == Service::kHttp || s == Service::kHttps; }

// A plaintext HTTP service that only redirects to https serves nothing in
// the clear but the redirect.
bool RedirectsToHttps(const PortFacts& facts) {
  for (const Exchange& x : facts.exchanges) {
    if (x.probe != "HTTP GET /") continue;
    Result<HttpReply> reply = ParseHttpReply(x.received);
    if (!reply.ok()) return false;
    const bool redirect = reply->status == 301 || reply->status == 302 ||
                          reply->status == 307 || reply->status == 308;
    return redirect &&
           Lower(reply->Header("Location")).rfind("https://", 0) == 0;
  }
  return false;
}

Result<asio::ip::address> Resolve(const Target& target) {
  boost::system::error_code ec;
  asio::ip::address direct = asio::ip::make_address(target.host, ec);
  if (!ec) return direct;
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(target.host, "", ec);
    if (ec || results.empty()) {
      return UnavailableError("cannot resolve " + target.host + ": " +
                              (ec ? ec.message() : "no address"));
    }
    return results.begin()->endpoint().address();
  } catch (const std::exception& e) {
    return UnavailableError("cannot resolve " + target.host + ": " + e.what());
  }
}

// The Contact and Policy values of a security.txt the device served,
// Contacts first.
std::vector<std::string> DisclosureValues(const Fetch& fetch) {
  std::vector<std::string> contacts, policies;
  Result<HttpReply> reply = ParseHttpReply(fetch.raw);
  if (!reply.ok()) return {};
  Result<SecurityTxt> parsed = ParseSecurityTxt(reply->body);
  if (!parsed.ok()) return {};
  for (const SecurityTxtField& f : parsed->fields) {
    const std::string name = Lower(f.name);
    if (name == "contact") contacts.push_back(Printable(AsBytes(f.value), 200));
    if (name == "policy") policies.push_back(Printable(AsBytes(f.value), 200));
  }
  contacts.insert(contacts.end(), policies.begin(), policies.end());
  return contacts;
}

}  // namespace

Result<Target> ParseTarget(std::string_view text) {
  Target out;
  out.text = std::string(text);
  std::string_view rest = text;
  if (size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    rest.remove_prefix(scheme + 3);
    if (size_t end = rest.find_first_of("/?#"); end != std::string_view::npos) {
      rest = rest.substr(0, end);
    }
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
      rest.remove_prefix(at + 1);
    }
  }
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgumentError("target: unclosed '[' in " +
                                  std::string(text));
    }
    out.host = std::string(rest.substr(1, close - 1));
  } else if (std::count(rest.begin(), rest.end(), ':') == 1) {
    out.host = std::string(rest.substr(0, rest.find(':')));
  } else {
    out.host = std::string(rest);
  }
  if (out.host.empty() || out.host.size() > 253) {
    return InvalidArgumentError("target: no host in \"" + std::string(text) +
                                "\"");
  }
  for (char c : out.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                    c == ':' || c == '%' || c == '_';
    if (!ok) {
      return InvalidArgumentError("target: bad character in host \"" +
                                  out.host + "\"");
    }
  }
  boost::system::error_code ec;
  asio::ip::make_address(out.host, ec);
  out.is_name = static_cast<bool>(ec);
  return out;
}

Result<Declaration> ParseDeclaration(std::string_view text) {
  if (text.size() > kMaxDeclarationBytes) {
    return InvalidArgumentError("declaration larger than " +
                                std::to_string(kMaxDeclarationBytes) +
                                " bytes");
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError("declaration is not a JSON object");
  }
  Declaration out;
  auto it = j.find("services");
  if (it == j.end() || !it->is_array()) {
    return InvalidArgumentError("declaration: \"services\" must be an array");
  }
  for (const auto& s : *it) {
    if (!s.is_object() || !s.contains("port") ||
        !s["port"].is_number_integer()) {
      return InvalidArgumentError(
          "declaration: each service needs an integer \"port\"");
    }
    const auto port = s["port"].get<int64_t>();
    if (port < 1 || port > 65535) {
      return InvalidArgumentError("declaration: port " + std::to_string(port) +
                                  " out of range");
    }
    DeclaredService d;
    d.port = static_cast<uint16_t>(port);
    if (s.contains("protocol") && s["protocol"].is_string()) {
      d.protocol = Lower(s["protocol"].get<std::string>());
    }
    if (s.contains("purpose") && s["purpose"].is_string()) {
      d.purpose = s["purpose"].get<std::string>();
    }
    out.services.push_back(std::move(d));
  }
  auto read_text = [&](const char* key, std::string& into) -> Status {
    auto m = j.find(key);
    if (m == j.end()) return Status::Ok();
    if (!m->is_string() || m->get<std::string>().size() > 256) {
      return InvalidArgumentError(std::string("declaration: \"") + key +
                                  "\" must be text of at most 256 bytes");
    }
    into = m->get<std::string>();
    return Status::Ok();
  };
  WARDEN_TRY(read_text("product", out.product));
  WARDEN_TRY(read_text("disclosure_url", out.disclosure_url));
  WARDEN_TRY(read_text("support_until", out.support_until));
  if (!out.support_until.empty()) {
    if (!IsIsoDate(out.support_until)) {
      return InvalidArgumentError(
          "declaration: \"support_until\" must be a date YYYY-MM-DD");
    }
  }
  if (auto m = j.find("updates"); m != j.end()) {
    auto mech = m->is_object() ? m->find("mechanism") : m->end();
    auto url = m->is_object() ? m->find("metadata_url") : m->end();
    if (!m->is_object() || mech == m->end() || !mech->is_string() ||
        mech->get<std::string>().size() > 32 || url == m->end() ||
        !url->is_string()) {
      return InvalidArgumentError(
          "declaration: \"updates\" must be an object with text "
          "\"mechanism\" and \"metadata_url\"");
    }
    DeclaredUpdates d;
    d.mechanism = Lower(mech->get<std::string>());
    d.metadata_url = url->get<std::string>();
    Result<MetadataUrl> parsed = ParseMetadataUrl(d.metadata_url);
    if (!parsed.ok()) {
      return InvalidArgumentError("declaration: " + parsed.status().message());
    }
    out.updates = std::move(d);
  }
  return out;
}

bool IsIsoDate(std::string_view d) {
  bool ok = d.size() == 10 && d[4] == '-' && d[7] == '-';
  for (size_t i = 0; ok && i < d.size(); ++i) {
    if (i != 4 && i != 7) ok = d[i] >= '0' && d[i] <= '9';
  }
  return ok;
}

Result<WardenInfo> ParseWardenInfo(std::string_view body) {
  if (body.size() > kMaxHttpBodyBytes) {
    return InvalidArgumentError("/v1/info: body too large");
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("api") ||
      j["api"] != "warden/1") {
    return InvalidArgumentError("/v1/info: not a Warden device's info");
  }
  WardenInfo out;
  const std::pair<const char*, std::string*> fields[] = {
      {"maker", &out.maker},
      {"model", &out.model},
      {"serial", &out.serial},
      {"firmware_version", &out.firmware_version},
      {"support_end", &out.support_end}};
  for (const auto& [key, into] : fields) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_string() || it->get<std::string>().size() > 256) {
      return InvalidArgumentError(std::string("/v1/info: bad \"") + key + "\"");
    }
    *into = it->get<std::string>();
  }
  if (!out.support_end.empty() && !IsIsoDate(out.support_end)) {
    return InvalidArgumentError("/v1/info: support_end is not a date");
  }
  return out;
}

TestUnit JudgeSupportPeriod(const std::optional<Declaration>& declaration,
                            const std::optional<WardenInfo>& shown,
                            uint16_t port, WallTime now) {
  TestUnit u;
  u.id = "support.period";
  u.guideline = 3;
  u.provisions = {"5.3-13"};
  u.title = "the support period end date is published and not past";
  const std::string today = FormatTimestamp(now).substr(0, 10);
  const std::string declared =
      declaration.has_value() ? declaration->support_until : "";
  const std::string device =
      shown.has_value() ? shown->support_end : std::string();
  if (!declared.empty()) {
    u.evidence.sent.push_back("declaration: support_until " + declared);
  }
  if (shown.has_value()) {
    u.evidence.sent.push_back("GET /v1/info on port " + PortText(port));
    u.evidence.received.push_back(
        "support_end " + (device.empty() ? std::string("(none)") : device));
  }
  if (!device.empty()) {
    if (device < today) {
      u.verdict = Verdict::kFail;
      u.finding = "support ended on " + device + " (shown by the device)";
    } else if (!declared.empty() && declared != device) {
      u.verdict = Verdict::kFail;
      u.finding =
          "the device shows " + device + ", the declaration says " + declared;
    } else {
      u.verdict = Verdict::kPass;
      u.finding = "supported until " + device + " (shown by the device" +
                  (declared.empty() ? ")" : ", as declared)");
    }
  } else if (!declared.empty()) {
    u.verdict = declared < today ? Verdict::kFail : Verdict::kInconclusive;
    u.finding = declared < today
                    ? "support ended on " + declared + " (declared)"
                    : "declared until " + declared +
                          "; the device does not show it, and a "
                          "declaration alone never makes a PASS";
  } else {
    u.verdict = Verdict::kInconclusive;
    u.finding = "no support period declared or shown by the device";
  }
  return u;
}

TestUnit JudgeDeclaredDisclosure(const std::string& declared,
                                 const std::vector<std::string>& shown) {
  TestUnit u;
  u.id = "disclosure.declared";
  u.guideline = 2;
  u.provisions = {"5.2-1"};
  u.title = "the declared disclosure contact is the one the device publishes";
  u.evidence.sent.push_back("declaration: disclosure_url " +
                            Printable(AsBytes(declared), 200));
  std::string all;
  for (const std::string& v : shown) all += (all.empty() ? "" : ", ") + v;
  if (shown.empty()) {
    u.verdict = Verdict::kInconclusive;
    u.finding =
        "declared; the device serves no valid security.txt to "
        "compare it with";
    return u;
  }
  u.evidence.received.push_back("security.txt Contact and Policy: " + all);
  for (const std::string& v : shown) {
    if (v == declared) {
      u.verdict = Verdict::kPass;
      u.finding = "security.txt names the declared " + v;
      return u;
    }
  }
  u.verdict = Verdict::kFail;
  u.finding = "declared " + Printable(AsBytes(declared), 200) +
              ", but security.txt names " + all;
  return u;
}

TestUnit JudgePlaintext(const PortFacts& facts) {
  TestUnit u;
  u.id = "services." + PortText(facts.port) + ".encryption";
  u.guideline = 5;
  u.provisions = {"5.5-1"};
  u.title = "the service on port " + PortText(facts.port) +
            " protects its traffic with cryptography";
  AddExchanges(u.evidence, facts.exchanges);
  const std::string name(ServiceName(facts.service));
  if (facts.service == Service::kUnknown) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "service not identified (no banner, TLS, HTTP or MQTT reply)";
  } else if (facts.service == Service::kHttp && RedirectsToHttps(facts)) {
    u.verdict = Verdict::kPass;
    u.finding = "plain HTTP that only redirects to https";
  } else if (IsPlaintext(facts.service)) {
    u.verdict = Verdict::kFail;
    u.finding = name + " in plaintext";
  } else {
    u.verdict = Verdict::kPass;
    u.finding = name + " (encrypted)";
  }
  return u;
}

TestUnit JudgeDeclared(uint16_t port, Service service,
                       const std::optional<Declaration>& declaration) {
  TestUnit u;
  u.id = "services." + PortText(port) + ".declared";
  u.guideline = 6;
  u.provisions = {"5.6-1", "5.6-2"};
  u.title = "port " + PortText(port) + " is a service the maker declared";
  const std::string name(ServiceName(service));
  if (!declaration.has_value()) {
    u.verdict = Verdict::kInconclusive;
    u.finding = name + " open; no declaration given to compare with";
    return u;
  }
  for (const DeclaredService& d : declaration->services) {
    if (d.port != port) continue;
    u.evidence.sent.push_back(
        "declaration: port " + PortText(port) + " " + d.protocol +
        (d.purpose.empty() ? "" : " (" + d.purpose + ")"));
    // A declared protocol that the device contradicts is not the service
    // the maker declared.
    const bool matches = d.protocol.empty() || d.protocol == name ||
                         (d.protocol == "tls" && service == Service::kHttps) ||
                         (d.protocol == "https" && service == Service::kTls);
    u.verdict = matches ? Verdict::kPass : Verdict::kFail;
    u.finding = matches
                    ? "declared as " + (d.protocol.empty() ? name : d.protocol)
                    : "declared as " + d.protocol + ", found " + name;
    return u;
  }
  u.verdict = Verdict::kFail;
  u.finding = name + " open but not declared";
  return u;
}

TestUnit JudgeTlsVersions(uint16_t port, const TlsFacts& tls) {
  TestUnit u;
  u.id = "tls." + PortText(port) + ".versions";
  u.guideline = 5;
  u.provisions = {"5.5-1"};
  u.title = "only TLS 1.2 and 1.3 are accepted";
  u.evidence.sent = {tls.sent.begin(),
                     tls.sent.begin() + std::min<size_t>(4, tls.sent.size())};
  std::vector<std::string> accepted, old, unanswered;
  for (const auto& [v, outcome] : tls.versions) {
    if (!outcome.answered) unanswered.push_back(std::string(TlsVersionName(v)));
    u.evidence.received.push_back(std::string(TlsVersionName(v)) + ": " +
                                  (outcome.completed ? "accepted, " : "") +
                                  outcome.detail);
    if (!outcome.completed) continue;
    accepted.push_back(std::string(TlsVersionName(v)));
    if (v == TlsVersion::kTls10 || v == TlsVersion::kTls11) {
      old.push_back(std::string(TlsVersionName(v)));
    }
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (!old.empty()) {
    u.verdict = Verdict::kFail;
    u.finding = "accepts " + join(old) + " (accepted: " + join(accepted) + ")";
  } else if (accepted.empty()) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "no TLS version completed a handshake";
  } else if (!unanswered.empty()) {
    // A version that got no answer may be accepted: no PASS on a timeout.
    u.verdict = Verdict::kInconclusive;
    u.finding = "no answer to " + join(unanswered) +
                " (accepted: " + join(accepted) + ")";
  } else {
    u.verdict = Verdict::kPass;
    u.finding = "accepts " + join(accepted);
  }
  return u;
}

TestUnit JudgeFfdhe(uint16_t port, const TlsFacts& tls) {
  TestUnit u;
  u.id = "tls." + PortText(port) + ".ffdhe";
  u.guideline = 5;
  u.provisions = {"5.5-1"};
  u.title =
      "no finite-field Diffie-Hellman key exchange (a few handshakes a "
      "second would exhaust a small CPU)";
  if (tls.sent.size() >= 6) u.evidence.sent = {tls.sent[4], tls.sent[5]};
  u.evidence.received = {
      "TLS 1.3 ffdhe only: " +
          std::string(tls.ffdhe_tls13.completed ? "accepted, " : "") +
          tls.ffdhe_tls13.detail,
      "TLS 1.2 DHE only: " +
          std::string(tls.dhe_tls12.completed ? "accepted, " : "") +
          tls.dhe_tls12.detail};
  std::vector<std::string> hit;
  if (tls.ffdhe_tls13.completed) hit.push_back("TLS 1.3 ffdhe groups");
  if (tls.dhe_tls12.completed) hit.push_back("TLS 1.2 DHE suites");
  if (hit.empty() && (!tls.ffdhe_tls13.answered || !tls.dhe_tls12.answered)) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "no answer to a finite-field-only ClientHello";
  } else if (hit.empty()) {
    u.verdict = Verdict::kPass;
    u.finding = "finite-field key exchange refused";
  } else {
    u.verdict = Verdict::kFail;
    u.finding = "accepts " + hit[0] + (hit.size() > 1 ? " and " + hit[1] : "");
  }
  return u;
}

TestUnit JudgeCertificate(uint16_t port, const TlsFacts& tls, WallTime now) {
  TestUnit u;
  u.id = "tls." + PortText(port) + ".certificate";
  u.guideline = 5;
  u.provisions = {"5.5-1"};
  u.title = "the certificate has a strong key and is within its validity";
  const CertificateFacts& c = tls.certificate;
  if (!c.present) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "no certificate received";
    return u;
  }
  u.evidence.sent.push_back("read the certificate of the first handshake");
  u.evidence.artefacts.push_back(
      MakeArtefact("certificate port " + PortText(port) + " (DER)", c.der));
  const std::string nb = c.not_before ? FormatTimestamp(*c.not_before) : "?";
  const std::string na = c.not_after ? FormatTimestamp(*c.not_after) : "?";
  u.evidence.received.push_back(
      "subject " + c.subject + "; issuer " + c.issuer + "; key " + c.key_type +
      " " + std::to_string(c.key_bits) + " bits; valid " + nb + " to " + na +
      "; " + (c.self_signed ? "self-signed" : "issued by " + c.issuer) +
      "; chain of " + std::to_string(c.chain_length) + " sent");
  std::vector<std::string> problems;
  if ((c.key_type == "RSA" && c.key_bits < 2048) ||
      (c.key_type == "EC" && c.key_bits < 256) || c.key_type == "DSA") {
    problems.push_back("weak key (" + c.key_type + " " +
                       std::to_string(c.key_bits) + " bits)");
  }
  if (!c.not_after || !c.not_before) {
    problems.push_back("unreadable validity dates");
  } else if (*c.not_after < now) {
    problems.push_back("expired on " + na);
  } else if (*c.not_before > now) {
    problems.push_back("not valid before " + nb);
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
    return s;
  };
  const std::string who =
      c.self_signed ? "self-signed" : "issued by " + c.issuer;
  if (!problems.empty()) {
    u.verdict = Verdict::kFail;
    u.finding = join(problems) + " (" + who + ")";
  } else if (c.self_signed) {
    // A self-signed certificate can be trusted only by pinning it; that is
    // a judgement about the onboarding, which the network alone cannot see.
    u.verdict = Verdict::kInconclusive;
    u.finding = c.key_type + " " + std::to_string(c.key_bits) +
                " bits, valid to " + na +
                ", self-signed: trusted only if the owner pins it";
  } else {
    // A device certificate from the maker's own CA is what a device on a
    // home network should have: no public CA is expected.
    u.verdict = Verdict::kPass;
    u.finding = c.key_type + " " + std::to_string(c.key_bits) +
                " bits, valid to " + na + ", " + who;
  }
  return u;
}

TestUnit JudgeCompression(uint16_t port, const TlsFacts& tls) {
  TestUnit u;
  u.id = "tls." + PortText(port) + ".compression";
  u.guideline = 5;
  u.provisions = {"5.5-1"};
  u.title = "no TLS compression (CRIME)";
  bool below_13 = false;
  for (const auto& [v, outcome] : tls.versions) {
    if (outcome.completed && v != TlsVersion::kTls13) below_13 = true;
  }
  if (tls.compression_negotiated) {
    u.verdict = Verdict::kFail;
    u.finding = "the server negotiated TLS compression";
  } else if (!below_13) {
    u.verdict = Verdict::kPass;
    u.finding = "TLS 1.3 only, which has no compression";
  } else if (tls.compression_offerable) {
    u.verdict = Verdict::kPass;
    u.finding = "compression offered and refused";
  } else {
    u.verdict = Verdict::kInconclusive;
    u.finding =
        "accepts TLS below 1.3 and this OpenSSL cannot offer compression";
  }
  u.evidence.sent.push_back(tls.compression_offerable
                                ? "compression offered in each ClientHello"
                                : "no compression method could be offered");
  return u;
}

TestUnit JudgeSecurityTxt(uint16_t port, bool tls, const Fetch& fetch,
                          WallTime now, const std::string& url) {
  TestUnit u;
  u.id = "disclosure." + PortText(port) + ".security_txt";
  u.guideline = 2;
  u.provisions = {"5.2-1"};
  u.title = "RFC 9116 security.txt at " + url;
  u.evidence.sent.push_back(Printable(AsBytes(fetch.request), 300));
  u.evidence.received.push_back(fetch.raw.empty() ? "(no bytes)"
                                                  : Printable(fetch.raw, 600));
  Result<HttpReply> reply = ParseHttpReply(fetch.raw);
  if (!reply.ok() && fetch.raw.empty() && !fetch.error.empty()) {
    // Nothing came back (a timeout, a reset): no finding either way.
    u.verdict = Verdict::kInconclusive;
    u.finding =
        "no reply to the request for security.txt (" + fetch.error + ")";
    return u;
  }
  if (!reply.ok()) {
    u.verdict = Verdict::kFail;
    u.finding = "no HTTP reply to the request for security.txt" +
                (fetch.error.empty() ? "" : " (" + fetch.error + ")");
    return u;
  }
  const bool redirect = reply->status == 301 || reply->status == 302 ||
                        reply->status == 307 || reply->status == 308;
  if (!tls && redirect &&
      Lower(reply->Header("Location")).rfind("https://", 0) == 0) {
    // RFC 9116 lets plain HTTP redirect to the HTTPS file, judged there.
    u.verdict = Verdict::kNotApplicable;
    u.finding = "redirects to " + reply->Header("Location");
    return u;
  }
  if (reply->status != 200) {
    u.verdict = Verdict::kFail;
    u.finding =
        "security.txt not served (HTTP " + std::to_string(reply->status) + ")";
    return u;
  }
  u.evidence.artefacts.push_back(MakeArtefact(
      "security.txt port " + PortText(port), AsBytes(reply->body)));
  std::vector<std::string> problems;
  if (!reply->complete) problems.push_back("reply cut short");
  if (!tls) problems.push_back("served over plain HTTP (RFC 9116: HTTPS)");
  const std::string type = Lower(reply->Header("Content-Type"));
  if (type.rfind("text/plain", 0) != 0) {
    problems.push_back("Content-Type \"" + type + "\" is not text/plain");
  }
  Result<SecurityTxt> parsed = ParseSecurityTxt(reply->body);
  std::string contacts, expires;
  if (!parsed.ok()) {
    problems.push_back(parsed.status().message());
  } else {
    SecurityTxtCheck check = CheckSecurityTxt(*parsed, now, url);
    problems.insert(problems.end(), check.problems.begin(),
                    check.problems.end());
    for (const auto& c : check.contacts) {
      contacts += (contacts.empty() ? "" : ", ") + c;
    }
    if (check.expires) expires = FormatTimestamp(*check.expires);
    for (const auto& n : check.notes)
      u.evidence.received.push_back("note: " + n);
  }
  if (problems.empty()) {
    u.verdict = Verdict::kPass;
    u.finding = "valid; Contact " + contacts + "; Expires " + expires;
  } else {
    u.verdict = Verdict::kFail;
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    u.finding = "invalid: " + all;
  }
  return u;
}

Result<Report> Assess(const Target& target,
                      const std::optional<Declaration>& declaration,
                      const AssessOptions& options) {
  Clock& clock = options.clock ? *options.clock : SystemClock();
  const auto start = std::chrono::steady_clock::now();
  Report report;
  report.target = target.text;
  report.started_at = FormatTimestamp(clock.Now());
  WARDEN_ASSIGN_OR_RETURN(asio::ip::address address, Resolve(target));
  report.address = address.to_string();

  WARDEN_ASSIGN_OR_RETURN(ScanResult scan, ScanPorts(address, options.scan));
  const std::string range = PortText(options.scan.first_port) + "-" +
                            PortText(options.scan.last_port);
  if (scan.open.empty() && scan.errors > 0) {
    return UnavailableError("cannot scan " + report.address + ": " +
                            std::to_string(scan.errors) + " connects failed (" +
                            scan.first_error + ")");
  }
  if (scan.open.empty()) {
    return UnavailableError("nothing listening on " + report.address +
                            " (TCP ports " + range +
                            (scan.complete ? "" : ", scan cut short") + ")");
  }
  ProbeOptions probe = options.probe;
  if (target.is_name && probe.host.empty()) probe.host = target.host;

  TestGroup services{"services", "Exposed services (TCP " + range + ")", {}};
  {
    TestUnit u;
    u.id = "services.scan";
    u.guideline = 6;
    u.provisions = {"5.6-1"};
    u.title = "every TCP port in " + range + " was tried";
    u.evidence.sent.push_back("TCP connect to each port of " + range + ", " +
                              std::to_string(options.scan.concurrency) +
                              " at a time");
    std::string open;
    for (uint16_t p : scan.open)
      open += (open.empty() ? "" : " ") + PortText(p);
    u.evidence.received.push_back("open: " + open);
    u.evidence.received.push_back(
        std::to_string(scan.probed) + " tried, " +
        std::to_string(scan.filtered) + " did not answer, " +
        std::to_string(scan.errors) + " failed here" +
        (scan.errors ? " (" + scan.first_error + ")" : ""));
    u.verdict = scan.complete && scan.filtered == 0 ? Verdict::kPass
                                                    : Verdict::kInconclusive;
    u.finding =
        std::to_string(scan.open.size()) + " open (" + open + ")" +
        (scan.errors ? "; " + std::to_string(scan.errors) +
                           " ports not reached (" + scan.first_error + ")"
                     : "") +
        (scan.complete || scan.errors ? ""
                                      : "; scan cut short by its time budget") +
        (scan.filtered
             ? "; " + std::to_string(scan.filtered) + " ports filtered"
             : "");
    services.units.push_back(std::move(u));
  }
  const std::vector<PortFacts> ports = ParallelMap<PortFacts>(
      scan.open.size(),
      [&](size_t i) { return IdentifyPort(address, scan.open[i], probe); });
  for (const PortFacts& f : ports) {
    services.units.push_back(JudgePlaintext(f));
    services.units.push_back(JudgeDeclared(f.port, f.service, declaration));
  }
  report.groups.push_back(std::move(services));
  report.groups.push_back(JudgeUdp(ProbeUdp(address, probe), declaration));

  // The logins of logins.h, every port at once: a device's delay after a
  // failed login (lighttpd's and dropbear's are about half a second) then
  // costs once, not once per port.
  const std::vector<std::vector<TestUnit>> more_logins =
      ParallelMap<std::vector<TestUnit>>(ports.size(), [&](size_t i) {
        std::vector<TestUnit> units;
        AddLoginUnits(address, ports[i], probe, ShippedCredentials(), units);
        return units;
      });
  for (const PortFacts& f : ports) {
    TestGroup group{"credentials." + PortText(f.port),
                    "Login on port " + PortText(f.port),
                    {}};
    if (f.service == Service::kMqtt) {
      for (const Exchange& x : f.exchanges) {
        if (x.probe != "MQTT CONNECT") continue;
        group.units.push_back(JudgeMqttAnonymous(f.port, x));
        // A broker open to anyone takes any name and password too: there
        // is no login to try.
        if (!MqttAcceptsAnonymous(x)) {
          CredentialRun run =
              TryCredentials(address, f.port, LoginSurface::kMqtt, false,
                             ShippedCredentials(), probe);
          group.units.push_back(JudgeDefaultCredentials(run));
          group.units.push_back(JudgeThrottling(run));
        }
      }
    }
    if (IsWeb(f.service)) {
      for (const Exchange& x : f.exchanges) {
        if (x.probe.rfind("HTTP GET /", 0) != 0) continue;
        if (!AsksForBasicAuth(x.received)) continue;
        CredentialRun run = TryCredentials(
            address, f.port, LoginSurface::kHttpBasic,
            f.service == Service::kHttps, ShippedCredentials(), probe);
        group.units.push_back(JudgeDefaultCredentials(run));
        group.units.push_back(JudgeThrottling(run));
      }
    }
    const std::vector<TestUnit>& more = more_logins[&f - ports.data()];
    group.units.insert(group.units.end(), more.begin(), more.end());
    if (!group.units.empty()) report.groups.push_back(std::move(group));
  }
  for (const PortFacts& f : ports) {
    if (!IsTls(f.service)) continue;
    TlsFacts tls = ProbeTls(address, f.port, probe);
    const WallTime now = clock.Now();
    report.groups.push_back(
        {"tls." + PortText(f.port),
         "TLS on port " + PortText(f.port),
         {JudgeTlsVersions(f.port, tls), JudgeFfdhe(f.port, tls),
          JudgeCertificate(f.port, tls, now), JudgeCompression(f.port, tls)}});
    const SuiteFacts suites = ProbeSuites(address, f.port, probe);
    report.groups.back().units.push_back(JudgeCipherSuites(f.port, suites));
    report.groups.back().units.push_back(JudgeRenegotiation(f.port, suites));
  }
  // Contact and Policy values of the first valid security.txt.
  std::vector<std::string> shown_disclosure;
  for (const PortFacts& f : ports) {
    if (!IsWeb(f.service)) continue;
    const bool tls = f.service == Service::kHttps;
    const std::string host =
        target.is_name
            ? target.host
            : (address.is_v6() ? "[" + report.address + "]" : report.address);
    const std::string url = std::string(tls ? "https://" : "http://") + host +
                            ":" + PortText(f.port) +
                            "/.well-known/security.txt";
    Fetch fetch =
        HttpGet(address, f.port, tls, "/.well-known/security.txt", probe);
    TestUnit unit = JudgeSecurityTxt(f.port, tls, fetch, clock.Now(), url);
    if (unit.verdict == Verdict::kPass && shown_disclosure.empty()) {
      shown_disclosure = DisclosureValues(fetch);
    }
    report.groups.push_back(
        {"disclosure." + PortText(f.port),
         "Vulnerability disclosure on port " + PortText(f.port),
         {std::move(unit)}});
  }
  // A Warden device shows its facts at /v1/info on its web port.
  std::optional<WardenInfo> shown;
  uint16_t info_port = 0;
  for (const PortFacts& f : ports) {
    if (!IsWeb(f.service) || shown.has_value()) continue;
    Fetch fetch = HttpGet(address, f.port, f.service == Service::kHttps,
                          "/v1/info", probe);
    Result<HttpReply> reply = ParseHttpReply(fetch.raw);
    if (!reply.ok() || reply->status != 200) continue;
    Result<WardenInfo> info = ParseWardenInfo(reply->body);
    if (info.ok()) {
      shown = std::move(*info);
      info_port = f.port;
    }
  }
  if (shown.has_value()) {
    bool info_tls = false;
    for (const PortFacts& f : ports) {
      if (f.port == info_port) info_tls = f.service == Service::kHttps;
    }
    report.groups.push_back(
        JudgeWarden(ProbeWarden(address, info_port, info_tls, probe)));
  }
  report.groups.push_back(
      {"support",
       "Support period and updates",
       {JudgeSupportPeriod(declaration, shown, info_port, clock.Now())}});
  if (declaration.has_value() && declaration->updates.has_value()) {
    const DeclaredUpdates& declared = *declaration->updates;
    UpdateFacts facts;
    facts.mechanism = declared.mechanism;
    facts.url = declared.metadata_url;
    Result<MetadataUrl> url = ParseMetadataUrl(declared.metadata_url);
    if (declared.mechanism == "tuf" && url.ok()) {
      Target host;
      host.host = url->host;
      Result<asio::ip::address> where = Resolve(host);
      if (where.ok()) {
        facts = ProbeUpdateMetadata(*where, *url, declared, probe);
      } else {
        facts.resolve_error = where.status().message();
      }
    }
    report.groups.back().units.push_back(
        JudgeUpdateMetadata(facts, clock.Now()));
  }
  if (declaration.has_value()) {
    report.device.product = declaration->product;
    report.device.support_until = declaration->support_until;
    if (!report.device.support_until.empty()) {
      report.device.support_until_source = "declared";
    }
    if (!declaration->disclosure_url.empty()) {
      report.device.contact = declaration->disclosure_url;
      report.device.contact_source = "declared";
    }
  }
  if (shown.has_value()) {
    if (report.device.product.empty()) {
      report.device.product =
          Printable(AsBytes(shown->maker + " " + shown->model), 120);
    }
    if (!shown->support_end.empty()) {
      report.device.support_until = shown->support_end;
      report.device.support_until_source = "shown by the device";
    }
  }
  if (!shown_disclosure.empty()) {
    report.device.contact = shown_disclosure.front();
    report.device.contact_source = "security.txt";
  }
  if (declaration.has_value() && !declaration->disclosure_url.empty()) {
    report.groups.push_back(
        {"disclosure.declared",
         "The declared disclosure contact",
         {JudgeDeclaredDisclosure(declaration->disclosure_url,
                                  shown_disclosure)}});
  }
  // Last, so that a device a broken message takes down has given every
  // other unit its answer first.
  for (const PortFacts& f : ports) {
    const std::string json_path =
        shown.has_value() && f.port == info_port ? "/v1/pair/begin" : "/";
    std::vector<InputProtocol> protocols;
    if (f.service == Service::kHttp) protocols = {InputProtocol::kHttp};
    if (f.service == Service::kHttps) {
      protocols = {InputProtocol::kHttps, InputProtocol::kTls};
    }
    if (f.service == Service::kTls) protocols = {InputProtocol::kTls};
    if (f.service == Service::kMqtt) protocols = {InputProtocol::kMqtt};
    TestGroup group{"input." + PortText(f.port),
                    "Malformed input on port " + PortText(f.port),
                    {}};
    for (InputProtocol p : protocols) {
      group.units.push_back(
          JudgeInput(ProbeInput(address, f.port, p, json_path, probe)));
    }
    if (!group.units.empty()) report.groups.push_back(std::move(group));
    if (!protocols.empty()) {
      report.groups.push_back(
          {"robustness." + PortText(f.port),
           "Robustness on port " + PortText(f.port),
           {JudgeHeldConnections(ProbeHeldConnections(
               address, f.port, protocols.front(), probe))}});
    }
  }
  report.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return report;
}

}  // namespace warden::assess
