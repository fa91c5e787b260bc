// Robustness under held connections: while a few connections sit idle
// (connected, nothing sent) and a few stop half-way through their first
// message (part of a request head, or of a ClientHello), does a legitimate
// client still get served? A device that gives every connection a slot
// until it completes can be shut out by a handful of them (slowloris).
//
// Non-destructive and bounded: kHeldConnections connections, held only for
// the time of one legitimate request, then closed; each connect and write
// bounded by ProbeOptions::io_timeout.
#ifndef WARDEN_ASSESS_ROBUSTNESS_H_
#define WARDEN_ASSESS_ROBUSTNESS_H_

#include <cstdint>
#include <string>

#include <boost/asio/ip/address.hpp>

#include "assess/input_probes.h"
#include "assess/probe.h"
#include "assess/report.h"

namespace warden::assess {

// Half idle, half stopped in their first message. More than the 8 a Warden
// device gives one source address, so that its eviction is what is tested.
inline constexpr int kHeldConnections = 12;

struct HeldFacts {
  uint16_t port = 0;
  InputProtocol protocol = InputProtocol::kHttp;
  bool served_before = false;  // a legitimate request, nothing held
  std::string before;
  int held = 0;  // connections opened and held
  std::string hold_error;
  bool served_while_held = false;
  std::string while_held;
};

HeldFacts ProbeHeldConnections(const boost::asio::ip::address& address,
                               uint16_t port, InputProtocol protocol,
                               const ProbeOptions& options);

// robustness.PORT.held_connections (guideline 9, 5.9-1, the closest
// provision): PASS when the legitimate request was served while
// kHeldConnections were held; FAIL when it was served before but not while
// they (or as many as the device let open) were held; INCONCLUSIVE when it
// was not served even before, no connection could be held, or it was served
// with fewer than kHeldConnections held.
TestUnit JudgeHeldConnections(const HeldFacts& facts);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_ROBUSTNESS_H_
