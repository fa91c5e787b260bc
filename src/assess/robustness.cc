#include "assess/robustness.h"

#include <exception>
#include <memory>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "assess/tls_suites.h"

namespace warden::assess {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::awaitable;

// The first part of a message of `protocol`, stopped before its end.
Bytes Partial(InputProtocol protocol, const ProbeOptions& o) {
  if (protocol == InputProtocol::kHttp) {
    const std::string head =
        "GET / HTTP/1.1\r\nHost: " + (o.host.empty() ? "device" : o.host) +
        "\r\nUser-Agent: warden-assess\r\nX-Held: ";
    return Bytes(head.begin(), head.end());
  }
  if (protocol == InputProtocol::kMqtt) return Bytes{0x10, 0x20, 0x00, 0x04};
  ClientHelloOptions h;
  h.version = kWireTls13;
  h.suites = {0x1301, 0x1302, 0x1303};
  h.random = Bytes(32, 0x42);
  Bytes hello = BuildClientHello(h);
  hello.resize(hello.size() / 2);
  return hello;
}

awaitable<void> Hold(beast::tcp_stream* stream, tcp::endpoint ep, Bytes data,
                     Millis timeout, int* held, std::string* error) {
  beast::error_code ec;
  stream->expires_after(timeout);
  co_await stream->async_connect(ep,
                                 asio::redirect_error(asio::use_awaitable, ec));
  if (!ec && !data.empty()) {
    co_await asio::async_write(*stream, asio::buffer(data),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    if (error->empty()) *error = ec.message();
    co_return;
  }
  stream->expires_never();
  ++*held;
}

}  // namespace

HeldFacts ProbeHeldConnections(const asio::ip::address& address, uint16_t port,
                               InputProtocol protocol,
                               const ProbeOptions& options) {
  HeldFacts f;
  f.port = port;
  f.protocol = protocol;
  f.served_before =
      ServesLegitimately(address, port, protocol, options, f.before);
  if (!f.served_before) return f;
  const InputProtocol wire =
      protocol == InputProtocol::kHttps ? InputProtocol::kTls : protocol;
  const tcp::endpoint ep(address, port);
  try {
    // The held connections live on this io_context, which stops running
    // once they are open: the kernel keeps them open while the legitimate
    // request runs on its own.
    asio::io_context io;
    std::vector<std::unique_ptr<beast::tcp_stream>> streams;
    for (int i = 0; i < kHeldConnections; ++i) {
      streams.push_back(std::make_unique<beast::tcp_stream>(io));
      const bool idle = i % 2 == 0;
      asio::co_spawn(io,
                     Hold(streams.back().get(), ep,
                          idle ? Bytes{} : Partial(wire, options),
                          options.io_timeout, &f.held, &f.hold_error),
                     asio::detached);
    }
    io.run();
    if (f.held > 0) {
      f.served_while_held =
          ServesLegitimately(address, port, protocol, options, f.while_held);
    }
    for (auto& s : streams) {
      beast::error_code ignored;
      s->socket().close(ignored);
    }
  } catch (const std::exception& e) {
    f.hold_error = e.what();
  }
  return f;
}

TestUnit JudgeHeldConnections(const HeldFacts& f) {
  TestUnit u;
  u.id = "robustness." + std::to_string(f.port) + ".held_connections";
  u.guideline = 9;
  u.provisions = {"5.9-1"};
  // Resilience asks for more (outages of the network and of power).
  u.partial = true;
  u.title = "a legitimate client is served while " +
            std::to_string(kHeldConnections) +
            " connections sit idle or stop half-way";
  u.evidence.sent.push_back("a legitimate request, nothing held");
  u.evidence.received.push_back(f.before);
  if (!f.served_before) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "not served even with nothing held (" + f.before + ")";
    return u;
  }
  u.evidence.sent.push_back(
      std::to_string(kHeldConnections) + " connections: half idle, half " +
      "stopped part-way through their first message; then the request again");
  const std::string held = f.held == kHeldConnections
                               ? std::to_string(f.held)
                               : std::to_string(f.held) + " of " +
                                     std::to_string(kHeldConnections) +
                                     " (the rest: " + f.hold_error + ")";
  if (f.held == 0) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "no connection could be held (" + f.hold_error + ")";
    return u;
  }
  u.evidence.received.push_back("held " + held +
                                "; while held: " + f.while_held);
  if (!f.served_while_held) {
    // Shut out by as many as could be opened: a device that stops
    // accepting connections shuts clients out too.
    u.verdict = Verdict::kFail;
    u.finding = "not served while " + held + " connections were held (" +
                f.while_held + "): a few idle connections shut clients out";
  } else if (f.held < kHeldConnections) {
    u.verdict = Verdict::kInconclusive;
    u.finding = "served, but only " + held + " connections could be held";
  } else {
    u.verdict = Verdict::kPass;
    u.finding = "served while " + held + " connections were held (" +
                f.while_held + ")";
  }
  return u;
}

}  // namespace warden::assess
