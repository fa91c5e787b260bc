// Malformed-input probes (guideline 13, 5.13-1): a bounded set of broken
// messages per protocol a port speaks, each on a fresh connection, each
// followed by a legitimate request on another fresh connection. A device
// passes when it answers each broken message sanely (an error reply, an
// alert, or closing the connection) and still serves afterwards; it fails
// when it hangs (neither answers nor closes within the deadline), accepts
// the broken message as if it were fine, or stops serving.
//
// The messages (every one complete, or followed by the end of the stream,
// so that a sane device has nothing left to wait for):
//   HTTP  an oversized header field (16 KiB), an oversized request line
//         (16 KiB target), a JSON body that does not parse, sent to a JSON
//         endpoint, and a chunked body with a chunk size that is not hex;
//         over TLS on an HTTPS port
//   TLS   a truncated record (the header says 512 bytes, 64 follow, then
//         the end of the stream), a record longer than TLS allows (65535),
//         and a ClientHello whose extension block's length overruns it
//   MQTT  a packet of the reserved type 0 and a CONNECT whose remaining
//         length runs over the four bytes MQTT allows
// At most 9 probes and 10 health checks per port, each bounded by
// ProbeOptions (io_timeout per connect, write and read; replies cut at
// 16 KiB). JudgeReply is pure and fuzzed.
#ifndef WARDEN_ASSESS_INPUT_PROBES_H_
#define WARDEN_ASSESS_INPUT_PROBES_H_

#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "assess/probe.h"
#include "assess/report.h"
#include "base/bytes.h"

namespace warden::assess {

enum class InputProtocol { kHttp, kHttps, kTls, kMqtt };

struct MalformedOutcome {
  std::string name;        // "oversized header field", ...
  std::string sent;        // printable, cut
  Bytes received;          // at most 16 KiB
  bool closed = false;     // the device closed or reset the connection
  bool timed_out = false;  // neither a reply nor a close within the deadline
  std::string error;       // a connect failure: nothing was tested
  bool healthy_after = false;
  std::string health;  // what the legitimate request after it got
};

struct InputFacts {
  uint16_t port = 0;
  InputProtocol protocol = InputProtocol::kHttp;
  bool healthy_before = false;
  std::string health_before;
  std::vector<MalformedOutcome> outcomes;
};

// A legitimate request on a fresh connection: GET / (an HTTP reply of any
// status), a TLS handshake, or an MQTT CONNECT (a CONNACK). True when the
// device served it; `what` says what came back.
bool ServesLegitimately(const boost::asio::ip::address& address, uint16_t port,
                        InputProtocol protocol, const ProbeOptions& options,
                        std::string& what);

// How a reply to a broken message reads: "sane" (an HTTP status of 400 or
// more, a TLS alert, an MQTT CONNACK refusing, or a close), "accepted" (an
// HTTP status below 400, a ServerHello, a CONNACK accepting), "hung" (a
// timeout with no reply), else "unexpected" (bytes that are none of these,
// followed by a close counts as a close).
std::string JudgeReply(InputProtocol protocol, const MalformedOutcome& o);

// Runs the probes of `protocol` against `port`. `json_path` is the JSON
// endpoint for the broken JSON body ("/" when none is known).
InputFacts ProbeInput(const boost::asio::ip::address& address, uint16_t port,
                      InputProtocol protocol, const std::string& json_path,
                      const ProbeOptions& options);

// input.PORT.http / .tls / .mqtt: PASS when the device was healthy before,
// answered every probe sanely and was healthy after each; FAIL when it hung,
// accepted a broken message, or stopped serving after one; INCONCLUSIVE
// when it was not healthy to begin with or a probe could not connect.
TestUnit JudgeInput(const InputFacts& facts);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_INPUT_PROBES_H_
