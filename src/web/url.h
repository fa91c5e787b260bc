// Device addresses as the owner types them: "https://HOST:PORT".
//
// The owner API speaks only HTTPS on one port, so a device address is a
// scheme, a host (IPv4 dotted quad, bracketed IPv6 literal or DNS name) and
// a port. Paths, queries, fragments and user information have no meaning
// here and are refused rather than silently dropped.
#ifndef WARDEN_WEB_URL_H_
#define WARDEN_WEB_URL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace warden::web {

struct Url {
  enum class HostKind { kIpv4, kIpv6, kName };
  HostKind kind = HostKind::kName;
  std::string host;  // without brackets for IPv6
  uint16_t port = 443;
  // Empty, or a path of [A-Za-z0-9/._~-] starting with '/'; only
  // ParseUrlWithPath gives one.
  std::string path;

  // "https://host:port[path]" with IPv6 hosts in brackets; parsing the
  // result gives back the same Url.
  std::string ToString() const;
  // "host:port" (IPv6 in brackets): the value of the Host header.
  std::string Authority() const;

  friend bool operator==(const Url&, const Url&) = default;
};

// Parses "https://HOST[:PORT][/]". The port defaults to 443 and must be
// 1..65535. DNS names are letters, digits and hyphens in dot-separated
// labels of 1..63 characters (253 at most in all) and are lowercased.
// Anything else is kInvalidArgument with a message saying what is wrong.
Result<Url> ParseUrl(std::string_view text);

// As ParseUrl, but a path of [A-Za-z0-9/._~-] may follow the authority
// (kept without its trailing '/'); still no query, fragment or user
// information. For addresses such as wardend's public URL.
Result<Url> ParseUrlWithPath(std::string_view text);

// Ok for a DNS host name as ParseUrl accepts it (letters, digits and
// hyphens in dot-separated labels of 1..63 characters, 253 at most in all).
Status ValidateHostName(std::string_view name);

}  // namespace warden::web

#endif  // WARDEN_WEB_URL_H_
