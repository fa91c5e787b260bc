// A short list of well-known UDP services, asked once each (guideline 6,
// EN 303 645 5.6-1): SSDP (an M-SEARCH on 1900), mDNS (a DNS-SD service
// enumeration on 5353, as a legacy unicast query) and CoAP (a GET of
// /.well-known/core on 5683). A UDP port cannot be connect-scanned: a
// service shows itself only by answering its own protocol, and a closed
// port by an ICMP port unreachable.
//
// The parsers of the answers are pure functions over one datagram (at most
// kMaxUdpReplyBytes kept), fuzzed (fuzz/fuzz_assess_udp.cc). Each probe
// waits at most ProbeOptions::banner_wait; the three run at once.
#ifndef WARDEN_ASSESS_UDP_H_
#define WARDEN_ASSESS_UDP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "assess/assessor.h"
#include "assess/probe.h"
#include "assess/report.h"
#include "base/bytes.h"
#include "base/status.h"

namespace warden::assess {

inline constexpr size_t kMaxUdpReplyBytes = 2048;

enum class UdpService { kSsdp, kMdns, kCoap };

// "ssdp", "mdns", "coap".
std::string_view UdpServiceName(UdpService s);
uint16_t UdpServicePort(UdpService s);  // 1900, 5353, 5683

// The datagrams sent. `id` is the DNS message id and the CoAP message id
// and token, so an answer is matched to its question.
Bytes SsdpSearch();
Bytes MdnsServicesQuery(uint16_t id);
Bytes CoapGetWellKnownCore(uint16_t id);

// What an answer says, in one printable line, or kInvalidArgument when
// the datagram is not an answer to the probe:
// an SSDP "HTTP/1.1 200" with its SERVER, ST and LOCATION;
// a DNS response with id `id` and its first answer names (at most 8
// records, names read with at most 16 compression jumps);
// a CoAP 2.xx or 4.xx answering message id or token `id`, with its
// payload (the resources, in CoRE link format) cut to 300 bytes.
Result<std::string> ParseSsdpReply(ByteView datagram);
Result<std::string> ParseMdnsReply(ByteView datagram, uint16_t id);
Result<std::string> ParseCoapReply(ByteView datagram, uint16_t id);

struct UdpProbe {
  UdpService service = UdpService::kSsdp;
  std::string sent;  // printable
  Bytes received;    // the first datagram, at most kMaxUdpReplyBytes
  enum class State {
    kAnswered,
    kClosed,
    kSilent,
    kNotAnswer
  } state = State::kSilent;
  std::string detail;  // the answer's summary, or what happened
};

// Sends the three probes to `address` at once and waits for their answers.
std::vector<UdpProbe> ProbeUdp(const boost::asio::ip::address& address,
                               const ProbeOptions& options);

// The "services.udp" group: one unit saying what each probe found
// ("services.udp.scan"), and for each service that answered, whether the
// maker declared it ("services.udp.PORT.declared": a declared service on
// that port whose protocol is empty, the service's name or "udp").
TestGroup JudgeUdp(const std::vector<UdpProbe>& probes,
                   const std::optional<Declaration>& declaration);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_UDP_H_
