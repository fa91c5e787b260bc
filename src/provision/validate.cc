#include "provision/validate.h"

#include <string>

namespace warden::provision {
namespace {

bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
         (c >= 'a' && c <= 'z');
}
bool IsAlpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

Status Printable(std::string_view field, std::string_view value,
                 size_t max_len) {
  if (value.empty() || value.size() > max_len) {
    return InvalidArgumentError(std::string(field) + " must be 1.." +
                                std::to_string(max_len) + " characters");
  }
  for (char c : value) {
    if (c < 0x20 || c > 0x7E) {
      return InvalidArgumentError(std::string(field) +
                                  " must be printable ASCII");
    }
  }
  if (value.front() == ' ' || value.back() == ' ') {
    return InvalidArgumentError(std::string(field) +
                                " must not start or end with a space");
  }
  return Status::Ok();
}

// A DNS host name or IPv4 literal: letters, digits, '-' and '.'; labels
// non-empty. IPv6 literals are not needed for a maker's web site.
bool ValidHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (IsAlnum(c) || c == '-') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label != 0;
}

}  // namespace

Status ValidateSerial(std::string_view s) {
  if (s.size() < 3 || s.size() > 64 || !IsAlnum(s.front())) {
    return InvalidArgumentError(
        "serial must be 3..64 characters of A-Z a-z 0-9 . _ - starting with "
        "a letter or digit");
  }
  for (char c : s) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') {
      return InvalidArgumentError(
          "serial must be 3..64 characters of A-Z a-z 0-9 . _ - starting "
          "with a letter or digit");
    }
  }
  return Status::Ok();
}

Status ValidateModel(std::string_view model) {
  return Printable("model", model, 64);
}

Status ValidateMakerName(std::string_view name) {
  return Printable("maker name", name, 64);
}

Status ValidateHttpsUrl(std::string_view field, std::string_view url) {
  const std::string f(field);
  constexpr std::string_view kScheme = "https://";
  if (url.size() > 256) {
    return InvalidArgumentError(f + " must be at most 256 characters");
  }
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgumentError(f + " must be an https:// URL");
  }
  for (char c : url) {
    if (c <= 0x20 || c > 0x7E || c == '"' || c == '<' || c == '>' ||
        c == '\\' || c == '`') {
      return InvalidArgumentError(f +
                                  " contains a character not allowed in a URL");
    }
  }
  std::string_view rest = url.substr(kScheme.size());
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError(f + " must not carry user information");
  }
  std::string_view host = authority;
  if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5) {
      return InvalidArgumentError(f + " has an invalid port");
    }
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9') {
        return InvalidArgumentError(f + " has an invalid port");
      }
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) {
      return InvalidArgumentError(f + " has an invalid port");
    }
  }
  if (!ValidHost(host)) {
    return InvalidArgumentError(f + " has an invalid host name");
  }
  return Status::Ok();
}

Status ValidateContact(std::string_view contact) {
  constexpr std::string_view kMailto = "mailto:";
  if (contact.substr(0, kMailto.size()) != kMailto) {
    if (contact.substr(0, 8) != "https://") {
      return InvalidArgumentError(
          "contact must be mailto:ADDRESS or an https:// URL");
    }
    return ValidateHttpsUrl("contact", contact);
  }
  std::string_view addr = contact.substr(kMailto.size());
  const size_t at = addr.find('@');
  if (addr.size() > 254 || at == std::string_view::npos || at == 0 ||
      addr.find('@', at + 1) != std::string_view::npos) {
    return InvalidArgumentError("contact must be mailto:local@domain");
  }
  for (char c : addr.substr(0, at)) {
    if (!IsAlnum(c) &&
        std::string_view("._%+-").find(c) == std::string_view::npos) {
      return InvalidArgumentError(
          "contact address has a character not allowed here");
    }
  }
  std::string_view domain = addr.substr(at + 1);
  if (!ValidHost(domain) || domain.find('.') == std::string_view::npos) {
    return InvalidArgumentError("contact address has an invalid domain");
  }
  return Status::Ok();
}

Status ValidateLanguageTag(std::string_view tag) {
  const Status bad =
      InvalidArgumentError("language \"" + std::string(tag.substr(0, 40)) +
                           "\" is not a language tag such as en or de-CH");
  if (tag.empty() || tag.size() > 35) return bad;
  size_t pos = 0;
  int index = 0;
  while (pos <= tag.size()) {
    size_t end = tag.find('-', pos);
    if (end == std::string_view::npos) end = tag.size();
    std::string_view sub = tag.substr(pos, end - pos);
    if (index == 0) {
      if (sub.size() < 2 || sub.size() > 3) return bad;
      for (char c : sub) {
        if (!IsAlpha(c)) return bad;
      }
    } else {
      if (sub.empty() || sub.size() > 8 || index > 7) return bad;
      for (char c : sub) {
        if (!IsAlnum(c)) return bad;
      }
    }
    ++index;
    pos = end + 1;
  }
  return Status::Ok();
}

Status ValidateFirmwareVersion(std::string_view v) {
  const Status bad = InvalidArgumentError(
      "firmware version must be 1..32 characters of 0-9 A-Z a-z . + - "
      "starting with a letter or digit");
  if (v.empty() || v.size() > 32 || !IsAlnum(v.front())) return bad;
  for (char c : v) {
    if (!IsAlnum(c) && c != '.' && c != '+' && c != '-') return bad;
  }
  return Status::Ok();
}

}  // namespace warden::provision
