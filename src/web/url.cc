#include "web/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace warden::web {
namespace {

constexpr std::string_view kScheme = "https://";
constexpr size_t kMaxUrl = 512;

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
}

Result<std::string> ParseHostName(std::string_view host) {
  if (host.size() > 253) {
    return InvalidArgumentError("host name longer than 253 characters");
  }
  std::string out;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos
                                                    ? std::string_view::npos
                                                    : dot - start);
    if (label.empty() || label.size() > 63) {
      return InvalidArgumentError("host name label must be 1 to 63 characters");
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return InvalidArgumentError(std::string("host name has character '") +
                                    c + "'");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return InvalidArgumentError("host name label starts or ends with '-'");
    }
    for (char c : label) {
      out.push_back(
          static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (dot == std::string_view::npos) break;
    out.push_back('.');
    start = dot + 1;
  }
  return out;
}

}  // namespace

std::string Url::Authority() const {
  std::string h = kind == HostKind::kIpv6 ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string Url::ToString() const { return "https://" + Authority() + path; }

Status ValidateHostName(std::string_view name) {
  return ParseHostName(name).status();
}

namespace {

bool PathCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '/' || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

Result<Url> Parse(std::string_view text, bool allow_path) {
  if (text.size() > kMaxUrl) {
    return InvalidArgumentError("device URL is too long");
  }
  if (text.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), text.begin(),
                  [](char a, char b) {
                    return a == std::tolower(static_cast<unsigned char>(b));
                  })) {
    return InvalidArgumentError("device URL must start with https://");
  }
  std::string_view rest = text.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view path;
  if (allow_path && rest.find('/') != std::string_view::npos) {
    path = rest.substr(rest.find('/'));
    rest = rest.substr(0, rest.find('/'));
    for (char c : path) {
      if (!PathCharacter(c)) {
        return InvalidArgumentError(
            "a URL path may hold only letters, digits and / - . _ ~");
      }
    }
  }
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return InvalidArgumentError(
        "device URL must be https://HOST:PORT without a path, query or "
        "fragment");
  }
  if (rest.find('@') != std::string_view::npos) {
    return InvalidArgumentError("device URL must not contain user information");
  }
  if (rest.empty()) return InvalidArgumentError("device URL has no host");

  Url url;
  url.path = std::string(path);
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgumentError("device URL has '[' without ']'");
    }
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return InvalidArgumentError("unexpected text after ']' in device URL");
      }
      has_port = true;
      port = after.substr(1);
    }
    in6_addr a6;
    std::string h(host);
    if (h.find('%') != std::string::npos ||
        inet_pton(AF_INET6, h.c_str(), &a6) != 1) {
      return InvalidArgumentError("'" + h + "' is not an IPv6 address");
    }
    url.kind = Url::HostKind::kIpv6;
    // Canonical text form so that the same address compares equal.
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
    url.host = buf;
  } else {
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      if (rest.find(':', colon + 1) != std::string_view::npos) {
        return InvalidArgumentError(
            "IPv6 addresses in a device URL must be in brackets");
      }
      has_port = true;
      port = rest.substr(colon + 1);
      host = rest.substr(0, colon);
    } else {
      host = rest;
    }
    if (host.empty()) return InvalidArgumentError("device URL has no host");
    bool numeric = std::all_of(host.begin(), host.end(), [](char c) {
      return (c >= '0' && c <= '9') || c == '.';
    });
    if (numeric) {
      in_addr a4;
      std::string h(host);
      if (inet_pton(AF_INET, h.c_str(), &a4) != 1) {
        return InvalidArgumentError("'" + h + "' is not an IPv4 address");
      }
      url.kind = Url::HostKind::kIpv4;
      url.host = h;
    } else {
      WARDEN_ASSIGN_OR_RETURN(url.host, ParseHostName(host));
      url.kind = Url::HostKind::kName;
    }
  }
  if (has_port) {
    if (!IsDigits(port) || port.size() > 5) {
      return InvalidArgumentError("device URL port must be a number 1-65535");
    }
    unsigned long p = std::stoul(std::string(port));
    if (p < 1 || p > 65535) {
      return InvalidArgumentError("device URL port must be a number 1-65535");
    }
    url.port = static_cast<uint16_t>(p);
  }
  return url;
}

}  // namespace

Result<Url> ParseUrl(std::string_view text) { return Parse(text, false); }

Result<Url> ParseUrlWithPath(std::string_view text) {
  return Parse(text, true);
}

}  // namespace warden::web
