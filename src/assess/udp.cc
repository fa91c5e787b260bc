#include "assess/udp.h"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <exception>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "assess/service_id.h"

namespace warden::assess {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using asio::awaitable;

constexpr size_t kMaxMdnsRecords = 8;
constexpr size_t kMaxNameJumps = 16;

uint16_t Be16(ByteView b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}

void PutBe16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xff));
}

// Reads the DNS name at `*at` (RFC 1035 4.1.4, with compression),
// appending its labels to `name` and moving `*at` past it in the message.
bool ReadName(ByteView msg, size_t* at, std::string* name) {
  size_t pos = *at;
  size_t jumps = 0;
  bool jumped = false;
  while (true) {
    if (pos >= msg.size()) return false;
    const uint8_t len = msg[pos];
    if (len == 0) {
      if (!jumped) *at = pos + 1;
      return true;
    }
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= msg.size() || ++jumps > kMaxNameJumps) return false;
      if (!jumped) *at = pos + 2;
      jumped = true;
      pos = static_cast<size_t>(((len & 0x3f) << 8) | msg[pos + 1]);
      continue;
    }
    if ((len & 0xc0) != 0 || pos + 1 + len > msg.size()) return false;
    if (name->size() + len + 1 > 255) return false;
    if (!name->empty()) *name += '.';
    *name += Printable(msg.subspan(pos + 1, len), 64);
    pos += 1 + len;
  }
}

struct ProbeState {
  UdpProbe probe;
  uint16_t id = 0;
};

awaitable<void> RunProbe(udp::endpoint ep, ProbeState* state, Bytes datagram,
                         std::chrono::milliseconds wait) {
  auto executor = co_await asio::this_coro::executor;
  udp::socket socket(executor);
  boost::system::error_code ec;
  socket.open(ep.protocol(), ec);
  if (!ec) socket.connect(ep, ec);  // so that ICMP unreachable is reported
  if (ec) {
    state->probe.state = UdpProbe::State::kNotAnswer;
    state->probe.detail = "cannot send: " + ec.message();
    co_return;
  }
  co_await socket.async_send(asio::buffer(datagram),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    state->probe.state = UdpProbe::State::kNotAnswer;
    state->probe.detail = "send: " + ec.message();
    co_return;
  }
  asio::steady_timer timer(executor, wait);
  timer.async_wait([&](boost::system::error_code e) {
    if (!e) socket.cancel();
  });
  std::array<uint8_t, kMaxUdpReplyBytes> buf;
  const size_t n = co_await socket.async_receive(
      asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
  timer.cancel();
  if (ec == asio::error::connection_refused) {
    state->probe.state = UdpProbe::State::kClosed;
    state->probe.detail = "closed (ICMP port unreachable)";
    co_return;
  }
  if (ec) {
    state->probe.state = UdpProbe::State::kSilent;
    state->probe.detail =
        "no answer within " + std::to_string(wait.count()) + " ms";
    co_return;
  }
  state->probe.received.assign(buf.begin(), buf.begin() + static_cast<long>(n));
  Result<std::string> summary = InvalidArgumentError("");
  switch (state->probe.service) {
    case UdpService::kSsdp:
      summary = ParseSsdpReply(state->probe.received);
      break;
    case UdpService::kMdns:
      summary = ParseMdnsReply(state->probe.received, state->id);
      break;
    case UdpService::kCoap:
      summary = ParseCoapReply(state->probe.received, state->id);
      break;
  }
  if (summary.ok()) {
    state->probe.state = UdpProbe::State::kAnswered;
    state->probe.detail = *summary;
  } else {
    state->probe.state = UdpProbe::State::kNotAnswer;
    state->probe.detail =
        "a datagram that is not an answer (" + summary.status().message() + ")";
  }
}

uint16_t RandomId() {
  uint8_t b[2] = {0x5a, 0xa5};
  (void)RAND_bytes(b, 2);
  return static_cast<uint16_t>((b[0] << 8) | b[1] | 1);
}

}  // namespace

std::string_view UdpServiceName(UdpService s) {
  switch (s) {
    case UdpService::kSsdp:
      return "ssdp";
    case UdpService::kMdns:
      return "mdns";
    case UdpService::kCoap:
      return "coap";
  }
  return "udp";
}

uint16_t UdpServicePort(UdpService s) {
  switch (s) {
    case UdpService::kSsdp:
      return 1900;
    case UdpService::kMdns:
      return 5353;
    case UdpService::kCoap:
      return 5683;
  }
  return 0;
}

Bytes SsdpSearch() {
  const std::string_view text =
      "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
      "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n";
  return Bytes(text.begin(), text.end());
}

Bytes MdnsServicesQuery(uint16_t id) {
  Bytes out;
  PutBe16(out, id);
  PutBe16(out, 0);  // a standard query
  PutBe16(out, 1);  // one question
  PutBe16(out, 0);
  PutBe16(out, 0);
  PutBe16(out, 0);
  for (std::string_view label : {"_services", "_dns-sd", "_udp", "local"}) {
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.push_back(0);
  PutBe16(out, 12);  // PTR
  PutBe16(out, 1);   // IN
  return out;
}

Bytes CoapGetWellKnownCore(uint16_t id) {
  Bytes out = {0x42, 0x01};  // version 1, confirmable, 2-byte token; GET
  PutBe16(out, id);          // message id
  PutBe16(out, id);          // token
  out.push_back(0xbb);       // Uri-Path (11), 11 bytes
  const std::string_view a = ".well-known", b = "core";
  out.insert(out.end(), a.begin(), a.end());
  out.push_back(0x04);  // Uri-Path again, 4 bytes
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Result<std::string> ParseSsdpReply(ByteView datagram) {
  if (datagram.size() > kMaxUdpReplyBytes) {
    return InvalidArgumentError("datagram too large");
  }
  Result<HttpReply> reply = ParseHttpReply(datagram);
  if (!reply.ok() || reply->status != 200) {
    return InvalidArgumentError("not an SSDP answer");
  }
  std::string out;
  for (std::string_view h : {"SERVER", "ST", "USN", "LOCATION"}) {
    const std::string v = reply->Header(h);
    if (v.empty()) continue;
    out += (out.empty() ? "" : "; ") + std::string(h) + " " +
           Printable(AsBytes(v), 120);
  }
  if (out.empty()) return InvalidArgumentError("an SSDP answer says nothing");
  return out;
}

Result<std::string> ParseMdnsReply(ByteView msg, uint16_t id) {
  if (msg.size() < 12 || msg.size() > kMaxUdpReplyBytes) {
    return InvalidArgumentError("not a DNS message");
  }
  if (Be16(msg, 0) != id || (msg[2] & 0x80) == 0 || (msg[2] & 0x78) != 0) {
    return InvalidArgumentError("not a response to the query");
  }
  const size_t questions = Be16(msg, 4);
  const size_t answers =
      static_cast<size_t>(Be16(msg, 6)) + Be16(msg, 8) + Be16(msg, 10);
  if (answers == 0) return InvalidArgumentError("a response without records");
  size_t at = 12;
  for (size_t q = 0; q < questions && q < kMaxMdnsRecords; ++q) {
    std::string ignored;
    if (!ReadName(msg, &at, &ignored) || at + 4 > msg.size()) {
      return InvalidArgumentError("malformed question");
    }
    at += 4;
  }
  std::string out = std::to_string(answers) + " records:";
  for (size_t r = 0; r < answers && r < kMaxMdnsRecords; ++r) {
    std::string name;
    if (!ReadName(msg, &at, &name) || at + 10 > msg.size()) {
      return InvalidArgumentError("malformed record");
    }
    const uint16_t type = Be16(msg, at);
    const size_t len = Be16(msg, at + 8);
    at += 10;
    if (at + len > msg.size()) return InvalidArgumentError("record cut short");
    std::string target;
    size_t rdata = at;
    if (type == 12 && ReadName(msg, &rdata, &target)) {
      out += " " + name + " PTR " + target + ";";
    } else {
      out += " " + name + " type " + std::to_string(type) + ";";
    }
    at += len;
  }
  return out;
}

Result<std::string> ParseCoapReply(ByteView msg, uint16_t id) {
  if (msg.size() < 4 || msg.size() > kMaxUdpReplyBytes) {
    return InvalidArgumentError("not a CoAP message");
  }
  const uint8_t version = msg[0] >> 6, type = (msg[0] >> 4) & 3,
                tkl = msg[0] & 15;
  const uint8_t code = msg[1];
  if (version != 1 || tkl > 8 || 4u + tkl > msg.size()) {
    return InvalidArgumentError("not a CoAP message");
  }
  const bool same_id = Be16(msg, 2) == id && type == 2;  // ACK
  const bool same_token = tkl == 2 && Be16(msg, 4) == id;
  if (!same_id && !same_token) {
    return InvalidArgumentError("not an answer to the request");
  }
  const int cls = code >> 5, detail = code & 31;
  if (cls != 2 && cls != 4 && cls != 5) {
    return InvalidArgumentError("not a response code");
  }
  size_t at = 4u + tkl;
  uint32_t option = 0;
  while (at < msg.size() && msg[at] != 0xff) {
    uint32_t delta = msg[at] >> 4, len = msg[at] & 15;
    ++at;
    auto extend = [&](uint32_t& v) {
      if (v == 13) {
        if (at + 1 > msg.size()) return false;
        v = 13u + msg[at];
        at += 1;
      } else if (v == 14) {
        if (at + 2 > msg.size()) return false;
        v = 269u + Be16(msg, at);
        at += 2;
      } else if (v == 15) {
        return false;
      }
      return true;
    };
    if (!extend(delta) || !extend(len) || at + len > msg.size()) {
      return InvalidArgumentError("malformed option");
    }
    option += delta;
    at += len;
  }
  (void)option;
  std::string out = "CoAP " + std::to_string(cls) + "." +
                    (detail < 10 ? "0" : "") + std::to_string(detail);
  if (at < msg.size() && msg[at] == 0xff) {
    if (at + 1 == msg.size()) {
      return InvalidArgumentError("payload marker without a payload");
    }
    out += ": " + Printable(msg.subspan(at + 1), 300);
  }
  return out;
}

std::vector<UdpProbe> ProbeUdp(const boost::asio::ip::address& address,
                               const ProbeOptions& options) {
  std::array<ProbeState, 3> states;
  states[0].probe.service = UdpService::kSsdp;
  states[1].probe.service = UdpService::kMdns;
  states[2].probe.service = UdpService::kCoap;
  try {
    asio::io_context io;
    for (ProbeState& s : states) {
      s.id = RandomId();
      Bytes datagram;
      switch (s.probe.service) {
        case UdpService::kSsdp:
          datagram = SsdpSearch();
          s.probe.sent = "SSDP M-SEARCH ssdp:all";
          break;
        case UdpService::kMdns:
          datagram = MdnsServicesQuery(s.id);
          s.probe.sent = "mDNS query PTR _services._dns-sd._udp.local";
          break;
        case UdpService::kCoap:
          datagram = CoapGetWellKnownCore(s.id);
          s.probe.sent = "CoAP GET /.well-known/core";
          break;
      }
      asio::co_spawn(
          io,
          RunProbe(udp::endpoint(address, UdpServicePort(s.probe.service)), &s,
                   std::move(datagram), options.banner_wait),
          asio::detached);
    }
    io.run();
  } catch (const std::exception& e) {
    for (ProbeState& s : states) {
      if (s.probe.detail.empty()) s.probe.detail = e.what();
    }
  }
  std::vector<UdpProbe> out;
  for (ProbeState& s : states) out.push_back(std::move(s.probe));
  return out;
}

TestGroup JudgeUdp(const std::vector<UdpProbe>& probes,
                   const std::optional<Declaration>& declaration) {
  TestGroup group{"services.udp", "Well-known UDP services", {}};
  TestUnit scan;
  scan.id = "services.udp.scan";
  scan.guideline = 6;
  scan.provisions = {"5.6-1"};
  scan.title = "SSDP, mDNS and CoAP were asked on their UDP ports";
  bool all_known = true;
  std::vector<TestUnit> declared;
  std::string open;
  for (const UdpProbe& p : probes) {
    const std::string port = std::to_string(UdpServicePort(p.service));
    const std::string name(UdpServiceName(p.service));
    scan.evidence.sent.push_back("UDP " + port + ": " + p.sent);
    scan.evidence.received.push_back("UDP " + port + ": " + p.detail);
    if (p.state == UdpProbe::State::kSilent ||
        p.state == UdpProbe::State::kNotAnswer) {
      all_known = false;
    }
    if (p.state != UdpProbe::State::kAnswered) continue;
    open += (open.empty() ? "" : ", ") + name + " on " + port;
    TestUnit u;
    u.id = "services.udp." + port + ".declared";
    u.guideline = 6;
    u.provisions = {"5.6-1", "5.6-2"};
    u.title =
        "UDP port " + port + " (" + name + ") is a service the maker declared";
    u.evidence.sent.push_back(p.sent);
    u.evidence.received.push_back(p.detail);
    if (!declaration.has_value()) {
      u.verdict = Verdict::kInconclusive;
      u.finding = name + " answers; no declaration given to compare with";
    } else {
      u.verdict = Verdict::kFail;
      u.finding = name + " answers on UDP " + port + " but is not declared";
      for (const DeclaredService& d : declaration->services) {
        if (d.port != UdpServicePort(p.service)) continue;
        if (d.protocol.empty() || d.protocol == name || d.protocol == "udp") {
          u.verdict = Verdict::kPass;
          u.finding = "declared as " + (d.protocol.empty() ? name : d.protocol);
        } else {
          u.finding = "declared as " + d.protocol + ", found " + name;
        }
        break;
      }
    }
    declared.push_back(std::move(u));
  }
  scan.verdict = all_known ? Verdict::kPass : Verdict::kInconclusive;
  scan.finding = open.empty() ? "none answers" : "answering: " + open;
  if (!all_known) scan.finding += "; some ports neither answered nor refused";
  group.units.push_back(std::move(scan));
  for (TestUnit& u : declared) group.units.push_back(std::move(u));
  return group;
}

}  // namespace warden::assess
