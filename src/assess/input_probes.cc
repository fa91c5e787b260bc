#include "assess/input_probes.h"
#include "assess/run_coroutine.h"

#include <openssl/ssl.h>

#include <array>
#include <exception>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "assess/service_id.h"
#include "assess/tls_suites.h"

namespace warden::assess {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;

constexpr size_t kMaxKept = 16 * 1024;
constexpr size_t kOversized = 16 * 1024;

struct Probe {
  std::string name;
  Bytes data;
  bool half_close = false;  // end the stream after sending
};

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string HostHeader(const tcp::endpoint& ep, const ProbeOptions& o) {
  std::string host = o.host;
  if (host.empty()) {
    host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]"
                                : ep.address().to_string();
  }
  return host + ":" + std::to_string(ep.port());
}

std::vector<Probe> HttpProbes(const tcp::endpoint& ep,
                              const std::string& json_path,
                              const ProbeOptions& o) {
  const std::string host = "Host: " + HostHeader(ep, o) + "\r\n";
  const std::string common =
      host + "User-Agent: warden-assess\r\nConnection: close\r\n";
  const std::string broken = "{\"a\": [1, 2,";
  return {
      {"oversized header field",
       B("GET / HTTP/1.1\r\n" + common +
         "X-Warden-Assess: " + std::string(kOversized, 'a') + "\r\n\r\n")},
      {"oversized request line", B("GET /" + std::string(kOversized, 'a') +
                                   " HTTP/1.1\r\n" + common + "\r\n")},
      {"JSON body that does not parse",
       B("POST " + json_path + " HTTP/1.1\r\n" + common +
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(broken.size()) + "\r\n\r\n" + broken)},
      {"chunk size that is not hex",
       B("POST " + json_path + " HTTP/1.1\r\n" + common +
         "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
         "\r\nzz\r\n{}\r\n0\r\n\r\n")},
  };
}

Bytes Hello(const ProbeOptions& o) {
  ClientHelloOptions h;
  h.version = kWireTls12;
  for (const CipherSuite& s : Tls12Suites()) h.suites.push_back(s.id);
  h.server_name = o.host;
  h.random = Bytes(32, 0x5a);
  return BuildClientHello(h);
}

std::vector<Probe> TlsProbes(const ProbeOptions& o) {
  const Bytes hello = Hello(o);
  Bytes truncated = {22, 3, 1, 0x02, 0x00};  // says 512 bytes follow
  truncated.insert(truncated.end(), hello.begin() + 5, hello.begin() + 69);
  Bytes overlong = {22, 3, 1, 0xFF, 0xFF};  // over 2^14 + 2048
  overlong.insert(overlong.end(), hello.begin() + 5, hello.end());
  // The extensions' length field follows the session id, the suites and
  // the compression methods; made to claim 200 bytes more than there are.
  Bytes bad_ext = hello;
  const size_t suites_at = 5 + 4 + 2 + 32 + 1 + 32;
  const size_t suites_len = bad_ext[suites_at] << 8 | bad_ext[suites_at + 1];
  const size_t ext_at = suites_at + 2 + suites_len + 2;
  const size_t ext_len = (bad_ext[ext_at] << 8 | bad_ext[ext_at + 1]) + 200;
  bad_ext[ext_at] = static_cast<uint8_t>(ext_len >> 8);
  bad_ext[ext_at + 1] = static_cast<uint8_t>(ext_len);
  return {{"truncated record, then the end of the stream", truncated, true},
          {"record longer than TLS allows", overlong, true},
          {"ClientHello whose extensions overrun it", bad_ext, false}};
}

std::vector<Probe> MqttProbes() {
  return {{"packet of the reserved type 0", Bytes{0x00, 0x00}, false},
          {"remaining length over four bytes",
           Bytes{0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00}, false}};
}

bool IsClose(const beast::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

// Writes, then reads until the peer closes, the deadline passes or
// kMaxKept bytes arrive. A write the peer cut short by closing is a close.
template <typename Stream>
awaitable<void> WriteRead(Stream& stream, beast::tcp_stream& lowest,
                          const Probe& p, Millis timeout,
                          MalformedOutcome& out) {
  beast::error_code ec;
  lowest.expires_after(timeout);
  co_await asio::async_write(stream, asio::buffer(p.data),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec && !IsClose(ec)) {
    if (ec == beast::error::timeout) out.timed_out = true;
    out.error = ec == beast::error::timeout ? "" : "write: " + ec.message();
    co_return;
  }
  if (!ec && p.half_close) {
    beast::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
  std::array<uint8_t, 4096> buf;
  lowest.expires_after(timeout);
  while (out.received.size() < kMaxKept) {
    const size_t n = co_await stream.async_read_some(
        asio::buffer(buf.data(),
                     std::min(buf.size(), kMaxKept - out.received.size())),
        asio::redirect_error(asio::use_awaitable, ec));
    out.received.insert(out.received.end(), buf.begin(),
                        buf.begin() + static_cast<long>(n));
    if (ec == beast::error::timeout) {
      out.timed_out = out.received.empty();
      co_return;
    }
    if (ec) {
      out.closed = true;
      co_return;
    }
  }
}

awaitable<MalformedOutcome> SendProbe(tcp::endpoint ep, Probe p, bool tls,
                                      ProbeOptions o) {
  MalformedOutcome out;
  out.name = p.name;
  out.sent = Printable(p.data, 200);
  auto executor = co_await asio::this_coro::executor;
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_verify(ctx.native_handle(), SSL_VERIFY_NONE, nullptr);
  beast::ssl_stream<beast::tcp_stream> tls_stream(executor, ctx);
  beast::tcp_stream plain(executor);
  beast::tcp_stream& lowest = tls ? beast::get_lowest_layer(tls_stream) : plain;
  beast::error_code ec;
  lowest.expires_after(o.io_timeout);
  co_await lowest.async_connect(ep,
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = "connect: " + ec.message();
    co_return out;
  }
  if (tls) {
    lowest.expires_after(o.io_timeout);
    co_await tls_stream.async_handshake(
        ssl::stream_base::client,
        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      out.error = "TLS handshake: " + ec.message();
      co_return out;
    }
    co_await WriteRead(tls_stream, lowest, p, o.io_timeout, out);
  } else {
    co_await WriteRead(plain, lowest, p, o.io_timeout, out);
  }
  lowest.close();
  co_return out;
}

}  // namespace

bool ServesLegitimately(const asio::ip::address& address, uint16_t port,
                        InputProtocol protocol, const ProbeOptions& o,
                        std::string& what) {
  if (protocol == InputProtocol::kMqtt) {
    // Four bytes are a whole 3.1.1 CONNACK: reading stops there instead of
    // waiting for a broker that keeps the session open to close it.
    Exchange x =
        SendRaw(address, port, "MQTT CONNECT", MqttConnectProbe(), 4, o);
    const bool ok = IsMqttConnack(x.received);
    what = ok ? "MQTT CONNECT answered with a CONNACK"
              : "MQTT CONNECT not answered (" + x.outcome + ")";
    return ok;
  }
  const bool tls = protocol != InputProtocol::kHttp;
  Fetch f = HttpGet(address, port, tls, "/", o);
  if (protocol == InputProtocol::kTls) {
    const bool ok = f.error.rfind("connect", 0) != 0 &&
                    f.error.rfind("TLS handshake", 0) != 0 &&
                    f.error != "probe failed";
    what =
        ok ? "a TLS handshake completed" : "no TLS handshake (" + f.error + ")";
    return ok;
  }
  Result<HttpReply> reply = ParseHttpReply(f.raw);
  what = reply.ok() ? "GET / answered HTTP " + std::to_string(reply->status)
                    : "GET / not answered (" +
                          (f.error.empty() ? "no HTTP reply" : f.error) + ")";
  return reply.ok();
}

namespace {

const char* UnitSuffix(InputProtocol p) {
  switch (p) {
    case InputProtocol::kHttp:
    case InputProtocol::kHttps:
      return "http";
    case InputProtocol::kTls:
      return "tls";
    case InputProtocol::kMqtt:
      return "mqtt";
  }
  return "http";
}

}  // namespace

std::string JudgeReply(InputProtocol protocol, const MalformedOutcome& o) {
  if (o.received.empty()) {
    if (o.closed) return "sane";
    return o.timed_out ? "hung" : "unexpected";
  }
  switch (protocol) {
    case InputProtocol::kHttp:
    case InputProtocol::kHttps: {
      Result<HttpReply> reply = ParseHttpReply(o.received);
      if (!reply.ok()) return o.closed ? "sane" : "unexpected";
      return reply->status >= 400 ? "sane" : "accepted";
    }
    case InputProtocol::kTls: {
      ServerHelloFacts f = ParseServerHello(o.received);
      if (f.kind == ServerHelloFacts::Kind::kAlert) return "sane";
      if (f.kind == ServerHelloFacts::Kind::kServerHello ||
          f.kind == ServerHelloFacts::Kind::kHelloRetry) {
        return "accepted";
      }
      return o.closed ? "sane" : "unexpected";
    }
    case InputProtocol::kMqtt:
      if (IsMqttConnack(o.received)) {
        // The return code (3.1.1) or reason code (5) is the fourth byte.
        return o.received.size() >= 4 && o.received[3] != 0 ? "sane"
                                                            : "accepted";
      }
      return o.closed ? "sane" : "unexpected";
  }
  return "unexpected";
}

InputFacts ProbeInput(const asio::ip::address& address, uint16_t port,
                      InputProtocol protocol, const std::string& json_path,
                      const ProbeOptions& options) {
  InputFacts facts;
  facts.port = port;
  facts.protocol = protocol;
  facts.healthy_before =
      ServesLegitimately(address, port, protocol, options, facts.health_before);
  if (!facts.healthy_before) return facts;
  const tcp::endpoint ep(address, port);
  std::vector<Probe> probes;
  switch (protocol) {
    case InputProtocol::kHttp:
    case InputProtocol::kHttps:
      probes = HttpProbes(ep, json_path, options);
      break;
    case InputProtocol::kTls:
      probes = TlsProbes(options);
      break;
    case InputProtocol::kMqtt:
      probes = MqttProbes();
      break;
  }
  const bool over_tls = protocol == InputProtocol::kHttps;
  for (Probe& p : probes) {
    MalformedOutcome failure;
    failure.name = p.name;
    failure.error = "probe failed";
    MalformedOutcome o =
        RunCoroutine(SendProbe(ep, std::move(p), over_tls, options), failure);
    o.healthy_after =
        ServesLegitimately(address, port, protocol, options, o.health);
    facts.outcomes.push_back(std::move(o));
  }
  return facts;
}

TestUnit JudgeInput(const InputFacts& facts) {
  TestUnit u;
  u.id =
      "input." + std::to_string(facts.port) + "." + UnitSuffix(facts.protocol);
  u.guideline = 13;
  u.provisions = {"5.13-1"};
  const std::string what =
      facts.protocol == InputProtocol::kMqtt
          ? "MQTT"
          : (facts.protocol == InputProtocol::kTls
                 ? "TLS"
                 : (facts.protocol == InputProtocol::kHttps ? "HTTP in TLS"
                                                            : "HTTP"));
  u.title = "malformed " + what + " is refused and the service keeps serving";
  u.evidence.sent.push_back("before: a legitimate request");
  u.evidence.received.push_back("before: " + facts.health_before);
  if (!facts.healthy_before) {
    u.verdict = Verdict::kInconclusive;
    u.finding =
        "the service did not serve a legitimate request to begin "
        "with (" +
        facts.health_before + ")";
    return u;
  }
  std::vector<std::string> failures, unknown;
  for (const MalformedOutcome& o : facts.outcomes) {
    u.evidence.sent.push_back(o.name + ": " + o.sent);
    const std::string reply = JudgeReply(facts.protocol, o);
    u.evidence.received.push_back(
        o.name + ": " +
        (o.error.empty()
             ? reply + "; " +
                   (o.received.empty() ? std::string("(no bytes)")
                                       : Printable(o.received, 200)) +
                   (o.closed ? " [closed]" : "") +
                   (o.timed_out ? " [nothing within the deadline]" : "")
             : o.error) +
        "; after: " + o.health);
    if (!o.error.empty()) {
      unknown.push_back(o.name + " (" + o.error + ")");
    } else if (reply == "hung") {
      failures.push_back(o.name + ": neither answered nor closed");
    } else if (reply == "accepted") {
      failures.push_back(o.name + ": accepted as if well-formed");
    } else if (reply == "unexpected") {
      unknown.push_back(o.name +
                        " (an answer that is neither an error nor "
                        "a close)");
    }
    if (!o.healthy_after) {
      failures.push_back("stopped serving after the " + o.name + " (" +
                         o.health + ")");
    }
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : "; ") + x;
    return s;
  };
  if (!failures.empty()) {
    u.verdict = Verdict::kFail;
    u.finding = join(failures);
  } else if (!unknown.empty()) {
    u.verdict = Verdict::kInconclusive;
    u.finding = join(unknown);
  } else {
    u.verdict = Verdict::kPass;
    u.finding = std::to_string(facts.outcomes.size()) +
                " malformed messages refused or closed; served a legitimate "
                "request after each";
  }
  return u;
}

}  // namespace warden::assess
