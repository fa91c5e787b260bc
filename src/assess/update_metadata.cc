#include "assess/update_metadata.h"

#include <optional>
#include <utility>

#include "assess/service_id.h"
#include "base/time_format.h"
#include "tuf/metadata.h"

namespace warden::assess {
namespace {

// What one fetched file came to: its bytes when HTTP served it whole, or
// why not, and whether that "why not" is the server's answer (FAIL) or
// no answer at all (INCONCLUSIVE).
struct Served {
  std::optional<std::string> body;
  bool answered = false;
  std::string problem;
};

Served ServedBody(const std::string& url, const Fetch& fetch) {
  Served s;
  if (fetch.raw.empty()) {
    s.problem =
        url + ": no reply" +
        (fetch.error.empty() ? std::string() : " (" + fetch.error + ")");
    return s;
  }
  Result<HttpReply> reply = ParseHttpReply(fetch.raw);
  if (!reply.ok()) {
    // Bytes that are not HTTP, or over the size limit, are the server's
    // answer; a reply the deadline cut is not.
    s.answered = fetch.error.empty() ||
                 reply.status().code() == Code::kResourceExhausted;
    s.problem = url + ": " + reply.status().message();
    return s;
  }
  if (!reply->complete) {
    s.problem =
        url + ": reply cut short" +
        (fetch.error.empty() ? std::string() : " (" + fetch.error + ")");
    return s;
  }
  s.answered = true;
  if (reply->status != 200) {
    s.problem = url + ": HTTP " + std::to_string(reply->status);
    return s;
  }
  s.body = std::move(reply->body);
  return s;
}

std::string Describe(const tuf::Common& c, const std::string& name) {
  return name + ": version " + std::to_string(c.version) + ", expires " +
         tuf::FormatExpires(c.expires);
}

}  // namespace

Result<MetadataUrl> ParseMetadataUrl(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError("metadata_url: " + why);
  };
  if (text.size() > 256) return bad("longer than 256 bytes");
  MetadataUrl out;
  std::string_view rest;
  if (text.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = text.substr(8);
  } else if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else {
    return bad("must start with http:// or https://");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos
                              ? std::string_view("/")
                              : rest.substr(slash);
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after the address");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("empty port");
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad("empty port");
    }
  }
  if (out.host.empty()) return bad("no host");
  for (char c : out.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                    c == ':' || c == '_';
    if (!ok) return bad("bad character in the host");
  }
  uint32_t port = out.tls ? 443 : 80;
  if (!port_text.empty()) {
    if (port_text.size() > 5) return bad("port out of range");
    port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return bad("port is not a number");
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port < 1 || port > 65535) return bad("port out of range");
  }
  out.port = static_cast<uint16_t>(port);
  for (char c : path) {
    if (c <= ' ' || c > '~' || c == '?' || c == '#') {
      return bad("path must be printable ASCII without spaces, '?' or '#'");
    }
  }
  out.path = std::string(path);
  if (out.path.back() != '/') out.path += '/';
  return out;
}

UpdateFacts ProbeUpdateMetadata(const boost::asio::ip::address& address,
                                const MetadataUrl& url,
                                const DeclaredUpdates& declared,
                                const ProbeOptions& options) {
  UpdateFacts facts;
  facts.mechanism = declared.mechanism;
  facts.url = declared.metadata_url;
  const std::string base = declared.metadata_url.back() == '/'
                               ? declared.metadata_url
                               : declared.metadata_url + "/";
  facts.root_url = base + "root.json";
  facts.timestamp_url = base + "timestamp.json";
  ProbeOptions probe = options;
  probe.host = url.host;
  facts.root =
      HttpGet(address, url.port, url.tls, url.path + "root.json", probe);
  facts.timestamp =
      HttpGet(address, url.port, url.tls, url.path + "timestamp.json", probe);
  return facts;
}

TestUnit JudgeUpdateMetadata(const UpdateFacts& facts, WallTime now) {
  TestUnit u;
  u.id = "updates.metadata";
  u.guideline = 3;
  u.provisions = {"5.3-2", "5.3-7", "5.3-10"};
  u.title = "the declared update metadata is served, signed and fresh";
  u.evidence.sent.push_back("declaration: updates " + facts.mechanism + " " +
                            Printable(AsBytes(facts.url), 260));
  if (facts.mechanism != "tuf") {
    u.verdict = Verdict::kInconclusive;
    u.finding = "update mechanism \"" +
                Printable(AsBytes(facts.mechanism), 40) +
                "\" declared; only TUF metadata is judged";
    return u;
  }
  if (!facts.resolve_error.empty()) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "could not fetch the update metadata: " + facts.resolve_error;
    return u;
  }
  u.evidence.sent.push_back("GET " + facts.root_url);
  u.evidence.sent.push_back("GET " + facts.timestamp_url);
  const Served root_served = ServedBody(facts.root_url, facts.root);
  const Served ts_served = ServedBody(facts.timestamp_url, facts.timestamp);
  for (const Served* s : {&root_served, &ts_served}) {
    if (s->body.has_value()) continue;
    u.evidence.received.push_back(s->problem);
  }
  if (root_served.body.has_value()) {
    u.evidence.artefacts.push_back(
        MakeArtefact("root.json", AsBytes(*root_served.body)));
  }
  if (ts_served.body.has_value()) {
    u.evidence.artefacts.push_back(
        MakeArtefact("timestamp.json", AsBytes(*ts_served.body)));
  }
  // A server that answered wrongly is a FAIL even when the other file got
  // no answer.
  for (const Served* s : {&root_served, &ts_served}) {
    if (!s->body.has_value() && s->answered) {
      u.verdict = Verdict::kFail;
      u.finding = "the declared URL does not serve the metadata: " + s->problem;
      return u;
    }
  }
  for (const Served* s : {&root_served, &ts_served}) {
    if (!s->body.has_value()) {
      u.verdict = Verdict::kInconclusive;
      u.finding = "could not fetch the update metadata: " + s->problem;
      return u;
    }
  }
  tuf::ParseLimits limits;
  limits.max_bytes = kMaxHttpBodyBytes;
  auto fail = [&](const std::string& why) {
    u.verdict = Verdict::kFail;
    u.finding = why;
    return u;
  };
  Result<tuf::Metadata<tuf::Root>> root =
      tuf::Parse<tuf::Root>(*root_served.body, limits);
  if (!root.ok()) {
    return fail("root.json is not TUF root metadata: " +
                root.status().message());
  }
  u.evidence.received.push_back(Describe(root->signed_, "root.json"));
  Result<tuf::Metadata<tuf::Timestamp>> ts =
      tuf::Parse<tuf::Timestamp>(*ts_served.body, limits);
  if (!ts.ok()) {
    return fail("timestamp.json is not TUF timestamp metadata: " +
                ts.status().message());
  }
  u.evidence.received.push_back(Describe(ts->signed_, "timestamp.json"));
  const tuf::Root& r = root->signed_;
  Status root_signed = tuf::VerifyThreshold(root->signed_json, root->signatures,
                                            r.keys, r.roles.at("root"), "root");
  if (!root_signed.ok()) {
    return fail("root.json is not signed by its own root keys: " +
                root_signed.message());
  }
  Status ts_signed =
      tuf::VerifyThreshold(ts->signed_json, ts->signatures, r.keys,
                           r.roles.at("timestamp"), "timestamp");
  if (!ts_signed.ok()) {
    return fail("timestamp.json is not signed by root's timestamp keys: " +
                ts_signed.message());
  }
  u.evidence.received.push_back(
      "signatures: root " + std::to_string(r.roles.at("root").threshold) +
      " of its keys needed, timestamp " +
      std::to_string(r.roles.at("timestamp").threshold) + " needed; both met");
  if (r.IsExpired(now)) {
    return fail("root.json expired on " + tuf::FormatExpires(r.expires));
  }
  if (ts->signed_.IsExpired(now)) {
    return fail("timestamp.json expired on " +
                tuf::FormatExpires(ts->signed_.expires));
  }
  u.verdict = Verdict::kPass;
  u.finding = "TUF root version " + std::to_string(r.version) + " (expires " +
              tuf::FormatExpires(r.expires) + ") and timestamp version " +
              std::to_string(ts->signed_.version) + " (expires " +
              tuf::FormatExpires(ts->signed_.expires) +
              "), both signed by their thresholds";
  return u;
}

}  // namespace warden::assess
