#include "assess/probe.h"

#include <openssl/comp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <exception>
#include <memory>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "assess/parallel.h"
#include "assess/report.h"

namespace warden::assess {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Runs one coroutine to completion on a private io_context. Exceptions
// (allocation, Asio internals) are caught here and become `failure`.
template <typename T>
T RunAwaitable(asio::io_context& io, awaitable<T> work, T failure) {
  std::optional<T> out;
  try {
    asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
      if (!e) out = std::move(value);
    });
    io.run();
  } catch (const std::exception&) {
    return failure;
  }
  return out.has_value() ? std::move(*out) : failure;
}

// Reads until the peer closes, the deadline passes or `max` bytes arrive.
template <typename Stream>
awaitable<std::string> ReadUpTo(Stream& stream, beast::tcp_stream& lowest,
                                size_t max, Millis timeout, Bytes& out) {
  lowest.expires_after(timeout);
  std::array<uint8_t, 4096> buf;
  beast::error_code ec;
  while (out.size() < max) {
    size_t want = std::min(buf.size(), max - out.size());
    size_t n = co_await stream.async_read_some(
        asio::buffer(buf.data(), want),
        asio::redirect_error(asio::use_awaitable, ec));
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(n));
    if (ec == beast::error::timeout) co_return "no more within the deadline";
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      co_return "";
    }
    if (ec) co_return ec.message();
  }
  co_return "reply cut at " + std::to_string(max) + " bytes";
}

// Sends `data`, then reads the reply as ReadUpTo does. The error, or "" when
// the peer closed after its reply.
template <typename Stream>
awaitable<std::string> WriteThenRead(Stream& stream, beast::tcp_stream& lowest,
                                     asio::const_buffer data, size_t max,
                                     Millis timeout, Bytes& out) {
  lowest.expires_after(timeout);
  beast::error_code ec;
  co_await asio::async_write(stream, data,
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return "write: " + ec.message();
  co_return co_await ReadUpTo(stream, lowest, max, timeout, out);
}

awaitable<std::string> Connect(beast::tcp_stream& stream,
                               const tcp::endpoint& ep, Millis timeout) {
  stream.expires_after(timeout);
  beast::error_code ec;
  co_await stream.async_connect(ep,
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast::error::timeout) co_return "connect timed out";
  if (ec) co_return "connect: " + ec.message();
  co_return "";
}

// The client side for probing: any version the caller allows, every
// cipher at security level 0 (Debian's OpenSSL refuses the old versions
// otherwise), and no certificate verification: the assessor reports the
// certificate, it does not trust it.
struct TlsConfig {
  int min_version = TLS1_VERSION;
  int max_version = TLS1_3_VERSION;
  const char* groups = nullptr;        // TLS 1.3 groups; null: OpenSSL's
  const char* ciphers = nullptr;       // TLS 1.2 and older; null: all
  const char* ciphersuites = nullptr;  // TLS 1.3; null: OpenSSL's
};

Result<std::unique_ptr<ssl::context>> MakeContext(const TlsConfig& c) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* raw = ctx->native_handle();
  SSL_CTX_set_security_level(raw, 0);
  SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  if (SSL_CTX_set_min_proto_version(raw, c.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(raw, c.max_version) != 1) {
    return InternalError("cannot set the TLS versions to probe");
  }
  if (SSL_CTX_set_cipher_list(raw, c.ciphers ? c.ciphers
                                             : "ALL:COMPLEMENTOFALL:@"
                                               "SECLEVEL=0") != 1) {
    return InternalError("cannot set the ciphers to probe");
  }
  if (c.groups && SSL_CTX_set1_groups_list(raw, c.groups) != 1) {
    return InternalError("cannot set the groups to probe");
  }
  if (c.ciphersuites && SSL_CTX_set_ciphersuites(raw, c.ciphersuites) != 1) {
    return InternalError("cannot set the TLS 1.3 suites to probe");
  }
  // Offer compression where this OpenSSL can, to see whether it is taken.
  SSL_CTX_clear_options(raw, SSL_OP_NO_COMPRESSION);
  return ctx;
}

Result<WallTime> AsnTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return InvalidArgumentError("bad certificate time");
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string NameText(const X509_NAME* name) {
  if (name == nullptr) return "";
  char buf[512];
  X509_NAME_oneline(name, buf, sizeof(buf));
  return buf;
}

CertificateFacts ReadCertificate(SSL* ssl) {
  CertificateFacts out;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return out;
  out.present = true;
  int len = i2d_X509(cert, nullptr);
  if (len > 0) {
    out.der.resize(static_cast<size_t>(len));
    uint8_t* p = out.der.data();
    i2d_X509(cert, &p);
  }
  out.subject = NameText(X509_get_subject_name(cert));
  out.issuer = NameText(X509_get_issuer_name(cert));
  if (auto t = AsnTime(X509_get0_notBefore(cert)); t.ok()) out.not_before = *t;
  if (auto t = AsnTime(X509_get0_notAfter(cert)); t.ok()) out.not_after = *t;
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key != nullptr) {
    out.key_bits = EVP_PKEY_get_bits(key);
    switch (EVP_PKEY_get_base_id(key)) {
      case EVP_PKEY_RSA:
        out.key_type = "RSA";
        break;
      case EVP_PKEY_EC:
        out.key_type = "EC";
        break;
      case EVP_PKEY_ED25519:
        out.key_type = "ED25519";
        break;
      case EVP_PKEY_ED448:
        out.key_type = "ED448";
        break;
      case EVP_PKEY_DSA:
        out.key_type = "DSA";
        break;
      default:
        out.key_type = "other";
    }
    out.self_signed = X509_check_issued(cert, cert) == X509_V_OK &&
                      X509_verify(cert, key) == 1;
  }
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  out.chain_length = chain ? sk_X509_num(chain) : 0;
  for (int i = 0; chain && i < sk_X509_num(chain); ++i) {
    X509* c = sk_X509_value(chain, i);
    if (X509_cmp(c, cert) != 0 && X509_check_issued(c, cert) == X509_V_OK) {
      out.issuer_sent = true;
    }
  }
  X509_free(cert);
  return out;
}

struct HandshakeResult {
  HandshakeOutcome outcome;
  CertificateFacts certificate;
  bool compressed = false;
};

awaitable<HandshakeResult> Handshake(tcp::endpoint ep, TlsConfig config,
                                     ProbeOptions options) {
  HandshakeResult out;
  auto ctx = MakeContext(config);
  if (!ctx.ok()) {
    out.outcome.detail = ctx.status().message();
    co_return out;
  }
  auto executor = co_await asio::this_coro::executor;
  TlsStream stream(executor, **ctx);
  if (!options.host.empty()) {
    SSL_set_tlsext_host_name(stream.native_handle(), options.host.c_str());
  }
  std::string err =
      co_await Connect(beast::get_lowest_layer(stream), ep, options.io_timeout);
  if (!err.empty()) {
    out.outcome.detail = err;
    co_return out;
  }
  beast::get_lowest_layer(stream).expires_after(options.io_timeout);
  beast::error_code ec;
  co_await stream.async_handshake(
      ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast::error::timeout) {
    out.outcome.detail = "handshake timed out";
  } else if (ec) {
    out.outcome.answered = true;
    out.outcome.detail = "refused: " + ec.message();
  } else {
    out.outcome.answered = true;
    out.outcome.completed = true;
    SSL* s = stream.native_handle();
    out.outcome.detail = std::string(SSL_get_version(s)) + " " +
                         SSL_CIPHER_get_name(SSL_get_current_cipher(s));
    out.certificate = ReadCertificate(s);
    out.compressed = SSL_get_current_compression(s) != nullptr;
  }
  beast::get_lowest_layer(stream).close();
  co_return out;
}

HandshakeResult RunHandshake(const tcp::endpoint& ep, const TlsConfig& config,
                             const ProbeOptions& options) {
  asio::io_context io;
  HandshakeResult failure;
  failure.outcome.detail = "probe failed";
  return RunAwaitable(io, Handshake(ep, config, options), failure);
}

awaitable<Exchange> BannerProbe(tcp::endpoint ep, ProbeOptions options) {
  Exchange ex{"banner", "(nothing: waited for a greeting)", {}, ""};
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  std::string err = co_await Connect(stream, ep, options.io_timeout);
  if (!err.empty()) {
    ex.outcome = err;
    co_return ex;
  }
  ex.outcome =
      co_await ReadUpTo(stream, stream, 1024, options.banner_wait, ex.received);
  co_return ex;
}

awaitable<Exchange> SendProbe(tcp::endpoint ep, std::string name, Bytes data,
                              size_t max, ProbeOptions options) {
  Exchange ex{std::move(name), Printable(data, 256), {}, ""};
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  std::string err = co_await Connect(stream, ep, options.io_timeout);
  if (!err.empty()) {
    ex.outcome = err;
    co_return ex;
  }
  ex.outcome = co_await WriteThenRead(stream, stream, asio::buffer(data), max,
                                      options.io_timeout, ex.received);
  co_return ex;
}

std::string HttpRequestText(const std::string& method, const std::string& path,
                            const ProbeOptions& options,
                            const tcp::endpoint& ep,
                            const std::string& extra_headers,
                            const std::string& body) {
  std::string host = options.host;
  if (host.empty()) {
    host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]"
                                : ep.address().to_string();
  }
  const std::string length =
      body.empty() && method == "GET"
          ? ""
          : "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return method + " " + path + " HTTP/1.1\r\nHost: " + host + ":" +
         std::to_string(ep.port()) +
         "\r\nUser-Agent: warden-assess\r\nAccept: */*\r\n" + extra_headers +
         length + "Connection: close\r\n\r\n" + body;
}

awaitable<Fetch> FetchAwaitable(tcp::endpoint ep, bool tls, std::string path,
                                ProbeOptions options,
                                std::string extra_headers = "",
                                std::string method = "GET",
                                std::string body = "") {
  Fetch out;
  out.request = HttpRequestText(method, path, options, ep, extra_headers, body);
  auto executor = co_await asio::this_coro::executor;
  if (!tls) {
    beast::tcp_stream stream(executor);
    out.error = co_await Connect(stream, ep, options.io_timeout);
    if (!out.error.empty()) co_return out;
    out.error = co_await WriteThenRead(
        stream, stream, asio::buffer(out.request), options.max_reply_bytes,
        options.io_timeout, out.raw);
    co_return out;
  }
  auto ctx = MakeContext(TlsConfig{});
  if (!ctx.ok()) {
    out.error = ctx.status().message();
    co_return out;
  }
  TlsStream stream(executor, **ctx);
  if (!options.host.empty()) {
    SSL_set_tlsext_host_name(stream.native_handle(), options.host.c_str());
  }
  auto& lowest = beast::get_lowest_layer(stream);
  out.error = co_await Connect(lowest, ep, options.io_timeout);
  if (!out.error.empty()) co_return out;
  lowest.expires_after(options.io_timeout);
  beast::error_code ec;
  co_await stream.async_handshake(
      ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    out.error = "TLS handshake: " + ec.message();
    co_return out;
  }
  out.error = co_await WriteThenRead(stream, lowest, asio::buffer(out.request),
                                     options.max_reply_bytes,
                                     options.io_timeout, out.raw);
  lowest.close();
  co_return out;
}

awaitable<void> ScanWorker(asio::ip::address address, ScanOptions options,
                           MonoTime deadline, uint32_t* next,
                           ScanResult* result) {
  auto executor = co_await asio::this_coro::executor;
  while (*next <= options.last_port &&
         std::chrono::steady_clock::now() < deadline) {
    const auto port = static_cast<uint16_t>((*next)++);
    beast::tcp_stream stream(executor);
    stream.expires_after(options.connect_timeout);
    beast::error_code ec;
    co_await stream.async_connect(
        tcp::endpoint(address, port),
        asio::redirect_error(asio::use_awaitable, ec));
    ++result->probed;
    // On loopback the kernel may pick the target port as the source port:
    // the socket then connects to itself, which says nothing about the
    // device.
    beast::error_code local_ec;
    const bool self_connected =
        !ec && stream.socket().local_endpoint(local_ec) ==
                   stream.socket().remote_endpoint(local_ec);
    if (!ec && !self_connected) {
      result->open.push_back(port);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    } else if (ec == beast::error::timeout) {
      ++result->filtered;
    } else if (ec != asio::error::connection_refused && !self_connected) {
      // Out of descriptors, no route: the port's state is unknown, and a
      // scan that hides that would report closed ports it never reached.
      if (result->errors++ == 0) result->first_error = ec.message();
    }
    stream.close();
  }
}

}  // namespace

Result<ScanResult> ScanPorts(const asio::ip::address& address,
                             const ScanOptions& options) {
  if (options.first_port == 0 || options.first_port > options.last_port) {
    return InvalidArgumentError("empty port range");
  }
  if (options.concurrency == 0) {
    return InvalidArgumentError("scan concurrency must be at least 1");
  }
  ScanResult result;
  uint32_t next = options.first_port;
  const MonoTime deadline = std::chrono::steady_clock::now() + options.budget;
  const size_t span =
      static_cast<size_t>(options.last_port - options.first_port) + 1;
  try {
    asio::io_context io;
    for (size_t i = 0; i < std::min(options.concurrency, span); ++i) {
      asio::co_spawn(io, ScanWorker(address, options, deadline, &next, &result),
                     asio::detached);
    }
    io.run();
  } catch (const std::exception& e) {
    return InternalError(std::string("port scan failed: ") + e.what());
  }
  std::sort(result.open.begin(), result.open.end());
  result.complete =
      next > options.last_port && result.probed == span && result.errors == 0;
  return result;
}

PortFacts IdentifyPort(const asio::ip::address& address, uint16_t port,
                       const ProbeOptions& options) {
  PortFacts facts;
  facts.port = port;
  const tcp::endpoint ep(address, port);
  Exchange failure{"probe", "", {}, "probe failed"};

  {
    asio::io_context io;
    Exchange banner = RunAwaitable(io, BannerProbe(ep, options), failure);
    facts.service = ClassifyBanner(banner.received);
    facts.exchanges.push_back(std::move(banner));
    // A greeting no rule names goes on to the handshakes below.
    if (facts.service != Service::kUnknown) return facts;
  }

  // The three handshakes go out at once, each on its own connection: a
  // silent service that ignores all of them then costs one deadline, not
  // three. The evidence keeps the order below, stopping where it stopped.
  HandshakeResult tls;
  Fetch plain;
  Exchange mqtt = failure;
  plain.error = "probe failed";
  ParallelMap<int>(3, [&](size_t i) {
    asio::io_context io;
    if (i == 0) {
      tls = RunHandshake(ep, TlsConfig{}, options);
    } else if (i == 1) {
      plain = RunAwaitable(io, FetchAwaitable(ep, false, "/", options), plain);
    } else {
      mqtt = RunAwaitable(
          io, SendProbe(ep, "MQTT CONNECT", MqttConnectProbe(), 64, options),
          failure);
    }
    return 0;
  });
  facts.exchanges.push_back({"TLS ClientHello",
                             "ClientHello offering TLS 1.0 to 1.3",
                             {},
                             tls.outcome.completed
                                 ? "handshake completed: " + tls.outcome.detail
                                 : tls.outcome.detail});
  if (tls.outcome.completed) {
    Fetch f;
    {
      asio::io_context io;
      Fetch fail;
      fail.error = "probe failed";
      f = RunAwaitable(io, FetchAwaitable(ep, true, "/", options), fail);
    }
    Result<HttpReply> reply = ParseHttpReply(f.raw);
    facts.service = reply.ok() ? Service::kHttps : Service::kTls;
    facts.exchanges.push_back(
        {"HTTP GET / inside TLS", Printable(AsBytes(f.request), 256),
         std::move(f.raw),
         reply.ok() ? "HTTP " + std::to_string(reply->status)
                    : "no HTTP reply"});
    return facts;
  }

  {
    Result<HttpReply> reply = ParseHttpReply(plain.raw);
    facts.exchanges.push_back(
        {"HTTP GET /", Printable(AsBytes(plain.request), 256),
         std::move(plain.raw),
         reply.ok() ? "HTTP " + std::to_string(reply->status)
                    : (plain.error.empty() ? "no HTTP reply" : plain.error)});
    if (reply.ok()) {
      facts.service = Service::kHttp;
      return facts;
    }
  }

  if (IsMqttConnack(mqtt.received)) facts.service = Service::kMqtt;
  facts.exchanges.push_back(std::move(mqtt));
  return facts;
}

Fetch HttpGet(const asio::ip::address& address, uint16_t port, bool tls,
              const std::string& path, const ProbeOptions& options,
              const std::string& extra_headers) {
  asio::io_context io;
  Fetch fail;
  fail.error = "probe failed";
  return RunAwaitable(io,
                      FetchAwaitable(tcp::endpoint(address, port), tls, path,
                                     options, extra_headers),
                      fail);
}

Fetch HttpRequest(const asio::ip::address& address, uint16_t port, bool tls,
                  const std::string& method, const std::string& path,
                  const ProbeOptions& options, const std::string& extra_headers,
                  const std::string& body) {
  asio::io_context io;
  Fetch fail;
  fail.error = "probe failed";
  return RunAwaitable(io,
                      FetchAwaitable(tcp::endpoint(address, port), tls, path,
                                     options, extra_headers, method, body),
                      fail);
}

Exchange SendRaw(const asio::ip::address& address, uint16_t port,
                 std::string name, const Bytes& data, size_t max,
                 const ProbeOptions& options) {
  asio::io_context io;
  Exchange failure{name, "", {}, "probe failed"};
  return RunAwaitable(io,
                      SendProbe(tcp::endpoint(address, port), std::move(name),
                                data, max, options),
                      failure);
}

std::string_view TlsVersionName(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return "TLS 1.0";
    case TlsVersion::kTls11:
      return "TLS 1.1";
    case TlsVersion::kTls12:
      return "TLS 1.2";
    case TlsVersion::kTls13:
      return "TLS 1.3";
  }
  return "TLS";
}

TlsFacts ProbeTls(const asio::ip::address& address, uint16_t port,
                  const ProbeOptions& options) {
  TlsFacts out;
  const tcp::endpoint ep(address, port);
  const std::pair<TlsVersion, int> versions[] = {
      {TlsVersion::kTls10, TLS1_VERSION},
      {TlsVersion::kTls11, TLS1_1_VERSION},
      {TlsVersion::kTls12, TLS1_2_VERSION},
      {TlsVersion::kTls13, TLS1_3_VERSION}};
  for (const auto& [v, wire] : versions) {
    TlsConfig config;
    config.min_version = wire;
    config.max_version = wire;
    HandshakeResult r = RunHandshake(ep, config, options);
    out.sent.push_back("ClientHello offering " +
                       std::string(TlsVersionName(v)) + " alone");
    if (r.outcome.completed && !out.certificate.present) {
      out.certificate = std::move(r.certificate);
    }
    out.compression_negotiated = out.compression_negotiated || r.compressed;
    out.versions.emplace_back(v, r.outcome);
  }
  {
    TlsConfig config;
    config.min_version = TLS1_3_VERSION;
    config.max_version = TLS1_3_VERSION;
    config.groups = "ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192";
    out.ffdhe_tls13 = RunHandshake(ep, config, options).outcome;
    out.sent.push_back(
        "ClientHello offering TLS 1.3 with only the ffdhe2048..8192 groups");
  }
  {
    TlsConfig config;
    config.min_version = TLS1_2_VERSION;
    config.max_version = TLS1_2_VERSION;
    config.ciphers = "kDHE:@SECLEVEL=0";
    out.dhe_tls12 = RunHandshake(ep, config, options).outcome;
    out.sent.push_back(
        "ClientHello offering TLS 1.2 with only DHE key exchange suites");
  }
  STACK_OF(SSL_COMP)* methods = SSL_COMP_get_compression_methods();
  out.compression_offerable =
      methods != nullptr && sk_SSL_COMP_num(methods) > 0;
  return out;
}

}  // namespace warden::assess
