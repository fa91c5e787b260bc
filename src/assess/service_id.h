// Naming a service from what it sends back: banners, HTTP replies, MQTT
// acknowledgements. Pure functions over bytes a device sent, so they are
// fuzzed (fuzz/fuzz_assess_replies.cc); the network side is in probe.h.
#ifndef WARDEN_ASSESS_SERVICE_ID_H_
#define WARDEN_ASSESS_SERVICE_ID_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace warden::assess {

enum class Service {
  kUnknown,
  kSsh,
  kFtp,
  kTelnet,
  kSmtp,
  kPop3,
  kImap,
  kHttp,   // plaintext HTTP
  kHttps,  // HTTP inside TLS
  kTls,    // TLS carrying something that did not answer HTTP
  kMqtt,   // plaintext MQTT
};

// "ssh", "ftp", "telnet", "smtp", "pop3", "imap", "http", "https", "tls",
// "mqtt", "unknown".
std::string_view ServiceName(Service s);

// True for services whose traffic, credentials included, crosses the
// network in the clear.
bool IsPlaintext(Service s);

// What a greeting sent unasked on connect says the service is: "SSH-" is
// SSH, a telnet option negotiation (IAC) is telnet, "220" with FTP or SMTP
// words is FTP or SMTP, "+OK" POP3, "* OK" IMAP. kUnknown otherwise.
Service ClassifyBanner(ByteView banner);

// True when `reply` starts with an MQTT CONNACK (fixed header 0x20, a
// remaining length of 2 for MQTT 3.1.1 or more for MQTT 5).
bool IsMqttConnack(ByteView reply);

// An MQTT 3.1.1 CONNECT with a clean session and no credentials: the probe
// that tells a broker from other silent services.
Bytes MqttConnectProbe();

struct HttpReply {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool complete = false;  // the body arrived in full

  // The first header of that name (ASCII case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

// Reply size limits: the head and the body the assessor keeps.
inline constexpr size_t kMaxHttpHeadBytes = 16 * 1024;
inline constexpr size_t kMaxHttpBodyBytes = 64 * 1024;

// Parses an HTTP/1.x reply (Boost.Beast's parser) from `raw`, everything a
// server sent before it closed or the probe's time or byte budget ran out.
// A head larger than kMaxHttpHeadBytes or a body larger than
// kMaxHttpBodyBytes is kResourceExhausted; bytes that are not an HTTP reply
// are kInvalidArgument. A body cut short gives complete == false.
Result<HttpReply> ParseHttpReply(ByteView raw);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_SERVICE_ID_H_
