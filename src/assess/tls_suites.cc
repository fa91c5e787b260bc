#include "assess/tls_suites.h"
#include "assess/run_coroutine.h"

#include <algorithm>
#include <array>
#include <exception>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "base/rng.h"

namespace warden::assess {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::awaitable;

constexpr size_t kMaxServerBytes = 64 * 1024;

constexpr CipherSuite kTls13[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
    {0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"},
    {0x1304, "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_SHA256"},
    {0x1305, "TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_8_SHA256"},
};

constexpr CipherSuite kTls12[] = {
    {0x0001, "TLS_RSA_WITH_NULL_MD5", "NULL-MD5"},
    {0x0002, "TLS_RSA_WITH_NULL_SHA", "NULL-SHA"},
    {0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "EXP-RC4-MD5"},
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RC4-MD5"},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA"},
    {0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", "EXP-RC2-CBC-MD5"},
    {0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXP-DES-CBC-SHA"},
    {0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "DES-CBC-SHA"},
    {0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"},
    {0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA",
     "EXP-EDH-DSS-DES-CBC-SHA"},
    {0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "EDH-DSS-DES-CBC3-SHA"},
    {0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
     "EXP-EDH-RSA-DES-CBC-SHA"},
    {0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", "EDH-RSA-DES-CBC-SHA"},
    {0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "EDH-RSA-DES-CBC3-SHA"},
    {0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", "EXP-ADH-RC4-MD5"},
    {0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", "ADH-RC4-MD5"},
    {0x001A, "TLS_DH_anon_WITH_DES_CBC_SHA", "ADH-DES-CBC-SHA"},
    {0x001B, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", "ADH-DES-CBC3-SHA"},
    {0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE-DSS-AES128-SHA"},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA"},
    {0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", "ADH-AES128-SHA"},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE-DSS-AES256-SHA"},
    {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA"},
    {0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA", "ADH-AES256-SHA"},
    {0x003B, "TLS_RSA_WITH_NULL_SHA256", "NULL-SHA256"},
    {0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"},
    {0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256"},
    {0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA", "CAMELLIA128-SHA"},
    {0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",
     "DHE-RSA-CAMELLIA128-SHA"},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256"},
    {0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256"},
    {0x006C, "TLS_DH_anon_WITH_AES_128_CBC_SHA256", "ADH-AES128-SHA256"},
    {0x006D, "TLS_DH_anon_WITH_AES_256_CBC_SHA256", "ADH-AES256-SHA256"},
    {0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", "CAMELLIA256-SHA"},
    {0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
     "DHE-RSA-CAMELLIA256-SHA"},
    {0x008A, "TLS_PSK_WITH_RC4_128_SHA", "PSK-RC4-SHA"},
    {0x008C, "TLS_PSK_WITH_AES_128_CBC_SHA", "PSK-AES128-CBC-SHA"},
    {0x0096, "TLS_RSA_WITH_SEED_CBC_SHA", "SEED-SHA"},
    {0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
     "DHE-RSA-AES128-GCM-SHA256"},
    {0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
     "DHE-RSA-AES256-GCM-SHA384"},
    {0x00A6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", "ADH-AES128-GCM-SHA256"},
    {0x00A7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384", "ADH-AES256-GCM-SHA384"},
    {0xC002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA", "ECDH-ECDSA-RC4-SHA"},
    {0xC004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA", "ECDH-ECDSA-AES128-SHA"},
    {0xC006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", "ECDHE-ECDSA-NULL-SHA"},
    {0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA"},
    {0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
     "ECDHE-ECDSA-DES-CBC3-SHA"},
    {0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {0xC00E, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", "ECDH-RSA-AES128-SHA"},
    {0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA", "ECDHE-RSA-NULL-SHA"},
    {0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA"},
    {0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA"},
    {0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {0xC015, "TLS_ECDH_anon_WITH_NULL_SHA", "AECDH-NULL-SHA"},
    {0xC016, "TLS_ECDH_anon_WITH_RC4_128_SHA", "AECDH-RC4-SHA"},
    {0xC017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", "AECDH-DES-CBC3-SHA"},
    {0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", "AECDH-AES128-SHA"},
    {0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "AECDH-AES256-SHA"},
    {0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
     "ECDHE-ECDSA-AES128-SHA256"},
    {0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
     "ECDHE-ECDSA-AES256-SHA384"},
    {0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
     "ECDHE-RSA-AES128-SHA256"},
    {0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
     "ECDHE-RSA-AES256-SHA384"},
    {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
     "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
     "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
     "ECDHE-RSA-AES128-GCM-SHA256"},
    {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
     "ECDHE-RSA-AES256-GCM-SHA384"},
    {0xC09C, "TLS_RSA_WITH_AES_128_CCM", "AES128-CCM"},
    {0xC09E, "TLS_DHE_RSA_WITH_AES_128_CCM", "DHE-RSA-AES128-CCM"},
    {0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "ECDHE-ECDSA-AES128-CCM"},
    {0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "ECDHE-ECDSA-AES256-CCM"},
    {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
     "ECDHE-RSA-CHACHA20-POLY1305"},
    {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
     "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
     "DHE-RSA-CHACHA20-POLY1305"},
};

// SHA-256("HelloRetryRequest"), RFC 8446 4.1.3: the ServerHello random
// that marks a HelloRetryRequest.
constexpr std::array<uint8_t, 32> kHelloRetryRandom = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
    0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
    0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

bool Has(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

void Put16(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void Put24(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 16));
  Put16(out, v & 0xFFFF);
}

void PutExtension(Bytes& out, uint16_t type, const Bytes& body) {
  Put16(out, type);
  Put16(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
}

bool IsAddressText(const std::string& s) {
  if (s.find(':') != std::string::npos) return true;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// A cursor over bytes; every read checks the length first.
class Reader {
 public:
  explicit Reader(ByteView b) : b_(b) {}
  bool Read8(uint8_t& v) {
    if (b_.size() < 1) return false;
    v = b_[0];
    b_ = b_.subspan(1);
    return true;
  }
  bool Read16(uint16_t& v) {
    if (b_.size() < 2) return false;
    v = static_cast<uint16_t>(b_[0] << 8 | b_[1]);
    b_ = b_.subspan(2);
    return true;
  }
  bool Take(size_t n, ByteView& out) {
    if (b_.size() < n) return false;
    out = b_.first(n);
    b_ = b_.subspan(n);
    return true;
  }
  size_t left() const { return b_.size(); }

 private:
  ByteView b_;
};

ServerHelloFacts Malformed(std::string why) {
  ServerHelloFacts f;
  f.kind = ServerHelloFacts::Kind::kMalformed;
  f.problem = std::move(why);
  return f;
}

ServerHelloFacts ParseServerHelloBody(ByteView body) {
  Reader r(body);
  ServerHelloFacts f;
  uint16_t legacy = 0;
  ByteView random, session, ext_all;
  uint8_t session_len = 0;
  uint16_t ext_len = 0;
  if (!r.Read16(legacy) || !r.Take(32, random) || !r.Read8(session_len) ||
      !r.Take(session_len, session) || !r.Read16(f.suite) ||
      !r.Read8(f.compression)) {
    return Malformed("ServerHello too short");
  }
  f.version = legacy;
  f.kind = std::equal(random.begin(), random.end(), kHelloRetryRandom.begin())
               ? ServerHelloFacts::Kind::kHelloRetry
               : ServerHelloFacts::Kind::kServerHello;
  if (r.left() == 0) return f;  // no extensions (TLS 1.0 servers may omit)
  if (!r.Read16(ext_len) || !r.Take(ext_len, ext_all)) {
    return Malformed("ServerHello extensions cut short");
  }
  Reader ext(ext_all);
  while (ext.left() > 0) {
    uint16_t type = 0, len = 0;
    ByteView data;
    if (!ext.Read16(type) || !ext.Read16(len) || !ext.Take(len, data)) {
      return Malformed("ServerHello extension cut short");
    }
    if (type == 0xFF01) f.renegotiation_info = true;
    if (type == 0x002B) {
      Reader v(data);
      uint16_t selected = 0;
      if (!v.Read16(selected)) return Malformed("bad supported_versions");
      f.version = selected;
    }
  }
  return f;
}

struct HelloReply {
  ServerHelloFacts facts;
  std::string error;  // no reply: connect failure, timeout, reset
};

awaitable<HelloReply> SendHello(tcp::endpoint ep, Bytes hello, Millis timeout) {
  HelloReply out;
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  beast::error_code ec;
  stream.expires_after(timeout);
  co_await stream.async_connect(ep,
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = "connect: " + ec.message();
    co_return out;
  }
  co_await asio::async_write(stream, asio::buffer(hello),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = "write: " + ec.message();
    co_return out;
  }
  Bytes got;
  std::array<uint8_t, 4096> buf;
  while (got.size() < kMaxServerBytes) {
    const size_t n = co_await stream.async_read_some(
        asio::buffer(buf.data(),
                     std::min(buf.size(), kMaxServerBytes - got.size())),
        asio::redirect_error(asio::use_awaitable, ec));
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(n));
    out.facts = ParseServerHello(got);
    if (out.facts.kind != ServerHelloFacts::Kind::kIncomplete) break;
    if (ec) {
      // A server that closes on a hello it does not like without an alert
      // has answered too; a timeout has not.
      out.error = ec == beast::error::timeout ? "no reply within the deadline"
                                              : ec.message();
      break;
    }
  }
  stream.socket().close(ec);
  co_return out;
}

// Out of line: g++ 12 warns of a mismatched delete (a false positive) when
// the coroutine's frame is inlined into its caller.
[[gnu::noinline]] HelloReply SendHelloNow(const tcp::endpoint& ep, Bytes hello,
                                          Millis timeout) {
  return RunCoroutine(SendHello(ep, std::move(hello), timeout),
                      HelloReply{{}, "probe failed"});
}

std::string SuiteName(uint16_t id) {
  if (const CipherSuite* s = FindSuite(id)) return std::string(s->iana);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(id >> shift) & 15];
  return out;
}

std::string VersionName(uint16_t v) {
  switch (v) {
    case kWireTls10:
      return "TLS 1.0";
    case kWireTls11:
      return "TLS 1.1";
    case kWireTls12:
      return "TLS 1.2";
    case kWireTls13:
      return "TLS 1.3";
  }
  return SuiteName(v);
}

SuiteProbeResult ProbeVersion(const tcp::endpoint& ep, uint16_t version,
                              const ProbeOptions& options, size_t& budget) {
  SuiteProbeResult r;
  r.version = version;
  std::vector<uint16_t> remaining;
  for (const CipherSuite& s :
       version == kWireTls13 ? Tls13Suites() : Tls12Suites()) {
    remaining.push_back(s.id);
  }
  while (!remaining.empty() && budget > 0) {
    --budget;
    ClientHelloOptions hello;
    hello.version = version;
    hello.suites = remaining;
    hello.server_name = options.host;
    Result<Bytes> random = RandomBytes(SystemRng(), 32);
    if (!random.ok()) break;
    hello.random = std::move(*random);
    HelloReply reply =
        SendHelloNow(ep, BuildClientHello(hello), options.io_timeout);
    const ServerHelloFacts& f = reply.facts;
    const std::string offered = VersionName(version) + " hello with " +
                                std::to_string(remaining.size()) + " suites";
    const bool hello_kind = f.kind == ServerHelloFacts::Kind::kServerHello ||
                            f.kind == ServerHelloFacts::Kind::kHelloRetry;
    if (hello_kind || f.kind == ServerHelloFacts::Kind::kAlert) {
      r.answered = true;
    }
    const bool picked = hello_kind && f.version == version &&
                        std::find(remaining.begin(), remaining.end(),
                                  f.suite) != remaining.end();
    if (!picked) {
      std::string what;
      if (f.kind == ServerHelloFacts::Kind::kAlert) {
        what = "alert " + std::to_string(f.alert_description);
      } else if (hello_kind) {
        what = "ServerHello for " + VersionName(f.version) + " " +
               SuiteName(f.suite) + " (not what was offered)";
      } else if (f.kind == ServerHelloFacts::Kind::kMalformed) {
        what = "not TLS: " + f.problem;
      } else {
        what = "no ServerHello (" + reply.error + ")";
      }
      r.exchanges.push_back(offered + ": " + what);
      break;
    }
    if (r.accepted.empty()) r.renegotiation_info = f.renegotiation_info;
    r.accepted.push_back(f.suite);
    remaining.erase(std::find(remaining.begin(), remaining.end(), f.suite));
    r.exchanges.push_back(offered + ": picked " + SuiteName(f.suite) +
                          (f.kind == ServerHelloFacts::Kind::kHelloRetry
                               ? " (HelloRetryRequest)"
                               : ""));
  }
  return r;
}

}  // namespace

std::span<const CipherSuite> Tls12Suites() { return kTls12; }
std::span<const CipherSuite> Tls13Suites() { return kTls13; }

const CipherSuite* FindSuite(uint16_t id) {
  for (const CipherSuite& s : kTls12) {
    if (s.id == id) return &s;
  }
  for (const CipherSuite& s : kTls13) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::vector<std::string> SuiteWeaknesses(const CipherSuite& suite,
                                         uint16_t wire_version) {
  const std::string_view n = suite.iana;
  std::vector<std::string> out;
  if (Has(n, "_WITH_NULL_")) out.push_back("NULL encryption");
  if (Has(n, "EXPORT")) out.push_back("EXPORT");
  if (Has(n, "RC4")) out.push_back("RC4");
  if (Has(n, "_DES") || Has(n, "3DES")) out.push_back("DES or 3DES");
  if (Has(n, "_anon_")) {
    out.push_back("anonymous key exchange");
  } else if (wire_version != kWireTls13 && !Has(n, "_DHE_") &&
             !Has(n, "_ECDHE_")) {
    // Static RSA, static (EC)DH and plain PSK: a key stolen later opens
    // every recorded session.
    out.push_back("no forward secrecy");
  }
  if (Has(n, "_MD5")) out.push_back("MD5");
  if (wire_version == kWireTls10 && Has(n, "_CBC_") &&
      n.substr(n.size() - 4) == "_SHA") {
    out.push_back("CBC with SHA-1 under TLS 1.0");
  }
  return out;
}

Bytes BuildClientHello(const ClientHelloOptions& o) {
  const bool tls13 = o.version == kWireTls13;
  Bytes random = o.random;
  random.resize(32, 0);
  Bytes body;
  Put16(body, tls13 ? kWireTls12 : o.version);
  body.insert(body.end(), random.begin(), random.end());
  // A 32-byte session id, as TLS 1.3 clients send for middlebox
  // compatibility; derived from the random, it carries nothing.
  body.push_back(32);
  for (size_t i = 0; i < 32; ++i) body.push_back(random[31 - i]);
  std::vector<uint16_t> suites = o.suites;
  if (!tls13) suites.push_back(0x00FF);  // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
  Put16(body, suites.size() * 2);
  for (uint16_t s : suites) Put16(body, s);
  body.push_back(1);  // compression methods: null only
  body.push_back(0);

  Bytes ext;
  if (!o.server_name.empty() && o.server_name.size() < 256 &&
      !IsAddressText(o.server_name)) {
    Bytes sni;
    Put16(sni, o.server_name.size() + 3);
    sni.push_back(0);  // host_name
    Put16(sni, o.server_name.size());
    sni.insert(sni.end(), o.server_name.begin(), o.server_name.end());
    PutExtension(ext, 0x0000, sni);
  }
  // supported_groups: x25519, secp256r1, secp384r1, secp521r1, ffdhe2048.
  const uint16_t groups[] = {0x001D, 0x0017, 0x0018, 0x0019, 0x0100};
  Bytes g;
  Put16(g, sizeof(groups));
  for (uint16_t v : groups) Put16(g, v);
  PutExtension(ext, 0x000A, g);
  PutExtension(ext, 0x000B, Bytes{1, 0});  // ec_point_formats: uncompressed
  // signature_algorithms: ECDSA and RSA-PSS, PKCS#1, ed25519, SHA-1 last.
  const uint16_t sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805,
                              0x0806, 0x0401, 0x0501, 0x0601, 0x0807,
                              0x0203, 0x0201, 0x0202};
  Bytes sa;
  Put16(sa, sizeof(sigalgs));
  for (uint16_t v : sigalgs) Put16(sa, v);
  PutExtension(ext, 0x000D, sa);
  if (tls13) {
    PutExtension(ext, 0x002B, Bytes{2, 0x03, 0x04});  // supported_versions
    PutExtension(ext, 0x002D, Bytes{1, 1});           // psk_key_exchange_modes
    // key_share: x25519 with the random as its public value. The server's
    // reply to it is never read beyond the ServerHello.
    Bytes ks;
    Put16(ks, 2 + 2 + 32);
    Put16(ks, 0x001D);
    Put16(ks, 32);
    ks.insert(ks.end(), random.begin(), random.end());
    PutExtension(ext, 0x0033, ks);
  }
  Put16(body, ext.size());
  body.insert(body.end(), ext.begin(), ext.end());

  Bytes hs;
  hs.push_back(1);  // client_hello
  Put24(hs, body.size());
  hs.insert(hs.end(), body.begin(), body.end());
  Bytes record;
  record.push_back(22);  // handshake
  Put16(record, kWireTls10);
  Put16(record, hs.size());
  record.insert(record.end(), hs.begin(), hs.end());
  return record;
}

ServerHelloFacts ParseServerHello(ByteView bytes) {
  if (bytes.size() > kMaxServerBytes) bytes = bytes.first(kMaxServerBytes);
  if (!bytes.empty() && bytes[0] != 21 && bytes[0] != 22) {
    return Malformed("not a TLS record");
  }
  Bytes handshake;  // handshake record payloads, joined
  Reader r(bytes);
  while (r.left() > 0) {
    uint8_t type = 0;
    uint16_t version = 0, length = 0;
    ByteView payload;
    if (!r.Read8(type) || !r.Read16(version) || !r.Read16(length) ||
        !r.Take(length, payload)) {
      break;  // a record not complete yet
    }
    if ((version >> 8) != 0x03) return Malformed("not a TLS record");
    if (type == 21) {
      if (!handshake.empty()) return Malformed("alert inside a hello");
      if (payload.size() < 2) return Malformed("short alert");
      ServerHelloFacts f;
      f.kind = ServerHelloFacts::Kind::kAlert;
      f.alert_level = payload[0];
      f.alert_description = payload[1];
      return f;
    }
    if (type != 22) return Malformed("record type " + std::to_string(type));
    handshake.insert(handshake.end(), payload.begin(), payload.end());
    if (handshake.size() < 4) continue;
    if (handshake[0] != 2) return Malformed("not a ServerHello");
    const size_t len = static_cast<size_t>(handshake[1]) << 16 |
                       static_cast<size_t>(handshake[2]) << 8 | handshake[3];
    if (len > kMaxServerBytes) return Malformed("ServerHello too long");
    if (handshake.size() >= 4 + len) {
      return ParseServerHelloBody(ByteView(handshake).subspan(4, len));
    }
  }
  return ServerHelloFacts{};
}

SuiteFacts ProbeSuites(const asio::ip::address& address, uint16_t port,
                       const ProbeOptions& options) {
  SuiteFacts out;
  const tcp::endpoint ep(address, port);
  size_t budget = kMaxSuiteConnections;
  for (uint16_t v : {kWireTls10, kWireTls11, kWireTls12, kWireTls13}) {
    const size_t before = budget;
    out.versions.push_back(ProbeVersion(ep, v, options, budget));
    out.connections += before - budget;
  }
  out.cut_short = budget == 0;
  return out;
}

TestUnit JudgeCipherSuites(uint16_t port, const SuiteFacts& facts) {
  TestUnit u;
  u.id = "tls." + std::to_string(port) + ".suites";
  u.guideline = 5;
  u.provisions = {"5.5-1"};
  u.title = "only strong cipher suites are accepted";
  u.evidence.sent.push_back(
      "per version, ClientHellos offering the suites of the list not yet "
      "picked (" +
      std::to_string(Tls12Suites().size()) + " below TLS 1.3, " +
      std::to_string(Tls13Suites().size()) + " for TLS 1.3), " +
      std::to_string(facts.connections) + " connections" +
      (facts.cut_short ? ", cut short at the bound" : ""));
  std::string weak;
  size_t accepted = 0;
  for (const SuiteProbeResult& r : facts.versions) {
    for (const std::string& e : r.exchanges) u.evidence.received.push_back(e);
    std::string list;
    for (uint16_t id : r.accepted) {
      ++accepted;
      const CipherSuite* s = FindSuite(id);
      list += (list.empty() ? "" : ", ") + SuiteName(id);
      if (s == nullptr) continue;
      std::vector<std::string> why = SuiteWeaknesses(*s, r.version);
      if (why.empty()) continue;
      std::string reasons;
      for (const std::string& w : why) {
        reasons += (reasons.empty() ? "" : ", ") + w;
      }
      weak += (weak.empty() ? "" : "; ") + VersionName(r.version) + " " +
              std::string(s->iana) + " (" + reasons + ")";
    }
    if (!list.empty()) {
      u.evidence.received.push_back(VersionName(r.version) +
                                    " accepts: " + list);
    }
  }
  if (!weak.empty()) {
    u.verdict = Verdict::kFail;
    u.finding = "weak suites accepted: " + weak;
  } else if (accepted == 0) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "no ClientHello of the list got a ServerHello";
  } else {
    u.verdict = Verdict::kPass;
    std::string all;
    for (const SuiteProbeResult& r : facts.versions) {
      if (r.accepted.empty()) continue;
      std::string names;
      for (uint16_t id : r.accepted) {
        names += (names.empty() ? "" : ", ") + SuiteName(id);
      }
      all += (all.empty() ? "" : "; ") + VersionName(r.version) + ": " + names;
    }
    u.finding = "none weak; " + all;
  }
  return u;
}

TestUnit JudgeRenegotiation(uint16_t port, const SuiteFacts& facts) {
  TestUnit u;
  u.id = "tls." + std::to_string(port) + ".renegotiation";
  u.guideline = 5;
  u.provisions = {"5.5-1"};
  u.title = "secure renegotiation (RFC 5746) below TLS 1.3";
  u.evidence.sent.push_back(
      "TLS_EMPTY_RENEGOTIATION_INFO_SCSV in each hello below TLS 1.3");
  std::string without, with;
  bool tls13 = false;
  for (const SuiteProbeResult& r : facts.versions) {
    if (r.accepted.empty()) continue;
    if (r.version == kWireTls13) {
      tls13 = true;
      continue;
    }
    std::string& list = r.renegotiation_info ? with : without;
    list += (list.empty() ? "" : ", ") + VersionName(r.version);
    u.evidence.received.push_back(VersionName(r.version) + " ServerHello " +
                                  (r.renegotiation_info ? "with" : "without") +
                                  " renegotiation_info");
  }
  if (!without.empty()) {
    u.verdict = Verdict::kFail;
    u.finding = "no secure renegotiation under " + without +
                " (CVE-2009-3555: a man in the middle can prefix a session)";
  } else if (!with.empty()) {
    u.verdict = Verdict::kPass;
    u.finding = "secure renegotiation (RFC 5746) under " + with;
  } else if (tls13) {
    u.verdict = Verdict::kPass;
    u.finding = "TLS 1.3 only, which has no renegotiation";
  } else {
    u.verdict = Verdict::kInconclusive;
    u.finding = "no version accepted a suite";
  }
  return u;
}

}  // namespace warden::assess
