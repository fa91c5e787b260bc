#include "assess/service_id.h"

#include <iterator>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace warden::assess {
namespace {

namespace http = boost::beast::http;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string_view ServiceName(Service s) {
  switch (s) {
    case Service::kSsh:
      return "ssh";
    case Service::kFtp:
      return "ftp";
    case Service::kTelnet:
      return "telnet";
    case Service::kSmtp:
      return "smtp";
    case Service::kPop3:
      return "pop3";
    case Service::kImap:
      return "imap";
    case Service::kHttp:
      return "http";
    case Service::kHttps:
      return "https";
    case Service::kTls:
      return "tls";
    case Service::kMqtt:
      return "mqtt";
    case Service::kUnknown:
      break;
  }
  return "unknown";
}

bool IsPlaintext(Service s) {
  switch (s) {
    case Service::kFtp:
    case Service::kTelnet:
    case Service::kSmtp:
    case Service::kPop3:
    case Service::kImap:
    case Service::kHttp:
    case Service::kMqtt:
      return true;
    default:
      return false;
  }
}

Service ClassifyBanner(ByteView banner) {
  if (banner.empty()) return Service::kUnknown;
  // Telnet servers open with option negotiation: IAC (255) then DO, DONT,
  // WILL or WONT (251..254).
  if (banner.size() >= 2 && banner[0] == 255 && banner[1] >= 251 &&
      banner[1] <= 254) {
    return Service::kTelnet;
  }
  std::string_view text(reinterpret_cast<const char*>(banner.data()),
                        banner.size());
  if (StartsWith(text, "SSH-")) return Service::kSsh;
  if (StartsWith(text, "+OK")) return Service::kPop3;
  if (StartsWith(text, "* OK")) return Service::kImap;
  if (StartsWith(text, "220")) {
    const std::string lower = Lower(text.substr(0, 512));
    if (lower.find("smtp") != std::string::npos ||
        lower.find("mail") != std::string::npos) {
      return Service::kSmtp;
    }
    // An FTP greeting is "220" and free text; most name FTP, the rest are
    // still FTP far more often than anything else that says 220.
    return Service::kFtp;
  }
  // Some telnet daemons print a login prompt without negotiating first.
  const std::string lower = Lower(text.substr(0, 512));
  if (lower.find("login:") != std::string::npos) return Service::kTelnet;
  return Service::kUnknown;
}

bool IsMqttConnack(ByteView reply) {
  // CONNACK: type 2, flags 0, remaining length >= 2 (3.1.1: exactly 2).
  return reply.size() >= 4 && reply[0] == 0x20 && reply[1] >= 2 &&
         reply[1] < 0x80 && reply[2] <= 1;
}

Bytes MqttConnectProbe() {
  // CONNECT, protocol "MQTT" level 4, clean session, keep-alive 10 s,
  // client id "warden-assess": 2 + 25 bytes.
  static constexpr uint8_t kConnect[] = {
      0x10, 0x19, 0x00, 0x04, 'M',  'Q', 'T', 'T', 0x04,
      0x02, 0x00, 0x0a, 0x00, 0x0d, 'w', 'a', 'r', 'd',
      'e',  'n',  '-',  'a',  's',  's', 'e', 's', 's'};
  return Bytes(std::begin(kConnect), std::end(kConnect));
}

std::string HttpReply::Header(std::string_view name) const {
  const std::string want = Lower(name);
  for (const auto& [k, v] : headers) {
    if (Lower(k) == want) return v;
  }
  return "";
}

Result<HttpReply> ParseHttpReply(ByteView raw) {
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxHttpHeadBytes);
  parser.body_limit(kMaxHttpBodyBytes);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < raw.size() && !parser.is_done()) {
    // Not eager until the head is parsed: Boost 1.74's eager parser goes on
    // into the body after the head has failed its body limit, and reserves
    // whatever Content-Length the peer announced.
    parser.eager(parser.is_header_done());
    size_t n = parser.put(
        boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) break;
    if (n == 0) break;
    used += n;
  }
  if (!ec && !parser.is_done() && parser.is_header_done()) {
    // The server closed: a body delimited by the end of the stream is
    // complete now, one with a length is cut short.
    parser.put_eof(ec);
    if (ec == http::error::partial_message) ec = {};
  }
  if (ec == http::error::header_limit || ec == http::error::body_limit ||
      ec == http::error::buffer_overflow) {
    return ResourceExhaustedError("HTTP reply larger than the probe keeps");
  }
  if (ec || !parser.is_header_done()) {
    return InvalidArgumentError("not an HTTP reply" +
                                (ec ? ": " + ec.message() : std::string()));
  }
  HttpReply out;
  const auto& msg = parser.get();
  out.status = static_cast<int>(msg.result_int());
  out.reason = std::string(msg.reason());
  for (const auto& field : msg) {
    out.headers.emplace_back(std::string(field.name_string()),
                             std::string(field.value()));
  }
  out.complete = parser.is_done();
  out.body = msg.body();
  return out;
}

}  // namespace warden::assess
