#include "assess/security_txt.h"

#include <chrono>

#include "base/time_format.h"
#include "base/utf8.h"

namespace warden::assess {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ValidFieldName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool HasScheme(std::string_view value, std::string_view scheme) {
  return Lower(value.substr(0, scheme.size())) == scheme &&
         value.size() > scheme.size();
}

// A URI as RFC 9116 wants it for a field: a scheme, no spaces.
bool LooksLikeUri(std::string_view v) {
  size_t colon = v.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = v[i];
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return false;
  }
  for (char c : v) {
    if (c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
  }
  return colon + 1 < v.size();
}

int Digits(std::string_view s, size_t pos, size_t n, bool* ok) {
  int v = 0;
  if (pos + n > s.size()) {
    *ok = false;
    return 0;
  }
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      *ok = false;
      return 0;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

Result<WallTime> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  bool ok = s.size() >= 20 && s[4] == '-' && s[7] == '-' &&
            (s[10] == 'T' || s[10] == 't') && s[13] == ':' && s[16] == ':';
  if (!ok) return InvalidArgumentError("not an RFC 3339 date-time");
  const int hour = Digits(s, 11, 2, &ok);
  const int minute = Digits(s, 14, 2, &ok);
  const int second = Digits(s, 17, 2, &ok);
  if (!ok || hour > 23 || minute > 59 || second > 60) {
    return InvalidArgumentError("not an RFC 3339 date-time");
  }
  Result<WallTime> day = ParseDate(s.substr(0, 10));
  if (!day.ok()) return InvalidArgumentError("not an RFC 3339 date-time");
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return InvalidArgumentError("empty fraction of seconds");
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '+' ? 1 : -1;
    if (pos + 6 != s.size() || s[pos + 3] != ':') {
      return InvalidArgumentError("bad time zone offset");
    }
    const int oh = Digits(s, pos + 1, 2, &ok);
    const int om = Digits(s, pos + 4, 2, &ok);
    if (!ok || oh > 23 || om > 59) {
      return InvalidArgumentError("bad time zone offset");
    }
    offset_minutes = sign * (oh * 60 + om);
    pos += 6;
  } else {
    return InvalidArgumentError("an RFC 3339 date-time needs a time zone");
  }
  if (pos != s.size()) {
    return InvalidArgumentError("trailing characters after the date-time");
  }
  return *day + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second) - std::chrono::minutes(offset_minutes);
}

Result<SecurityTxt> ParseSecurityTxt(std::string_view text) {
  if (text.size() > kMaxSecurityTxtBytes) {
    return InvalidArgumentError("security.txt larger than " +
                                std::to_string(kMaxSecurityTxtBytes) +
                                " bytes");
  }
  if (!IsValidUtf8(text)) {
    return InvalidArgumentError("security.txt is not UTF-8");
  }
  SecurityTxt out;
  constexpr std::string_view kSigned = "-----BEGIN PGP SIGNED MESSAGE-----";
  constexpr std::string_view kSignature = "-----BEGIN PGP SIGNATURE-----";
  bool in_pgp_header = false;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    std::string_view line = Trim(raw);
    if (line_no == 1 && line == kSigned) {
      out.signed_message = true;
      in_pgp_header = true;
      continue;
    }
    if (in_pgp_header) {
      // The armor headers ("Hash: SHA256") end at the first blank line.
      if (line.empty()) in_pgp_header = false;
      continue;
    }
    if (out.signed_message && line == kSignature) break;
    if (out.signed_message && line.substr(0, 2) == "- ") line.remove_prefix(2);
    if (line.empty() || line.front() == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      out.problems.push_back("line " + std::to_string(line_no) +
                             ": not a field (\"Name: value\")");
      continue;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = Trim(line.substr(colon + 1));
    if (!ValidFieldName(name)) {
      out.problems.push_back("line " + std::to_string(line_no) +
                             ": bad field name");
      continue;
    }
    if (colon + 1 >= line.size() || line[colon + 1] != ' ') {
      out.problems.push_back("line " + std::to_string(line_no) +
                             ": a field's colon must be followed by a space");
    }
    if (value.empty()) {
      out.problems.push_back("line " + std::to_string(line_no) + ": " +
                             std::string(name) + " has no value");
      continue;
    }
    out.fields.push_back({std::string(name), std::string(value), line_no});
  }
  if (out.signed_message && pos < text.size() &&
      text.find(kSignature) == std::string_view::npos) {
    out.problems.push_back("signed message without a signature block");
  }
  return out;
}

SecurityTxtCheck CheckSecurityTxt(const SecurityTxt& file, WallTime now,
                                  std::string_view fetched_from) {
  SecurityTxtCheck out;
  out.problems = file.problems;
  int expires_count = 0;
  int languages_count = 0;
  std::vector<std::string> canonicals;
  for (const SecurityTxtField& f : file.fields) {
    const std::string name = Lower(f.name);
    const std::string at = " (line " + std::to_string(f.line) + ")";
    const bool web_uri_field =
        name == "canonical" || name == "policy" || name == "encryption" ||
        name == "acknowledgments" || name == "hiring" || name == "csaf";
    if (name == "contact") {
      if (!LooksLikeUri(f.value)) {
        out.problems.push_back("Contact is not a URI" + at);
      } else if (HasScheme(f.value, "http:")) {
        out.problems.push_back("Contact web URI must use https" + at);
      } else if (!HasScheme(f.value, "mailto:") &&
                 !HasScheme(f.value, "https://") &&
                 !HasScheme(f.value, "tel:")) {
        out.notes.push_back("Contact uses an unusual scheme" + at);
        out.contacts.push_back(f.value);
      } else {
        out.contacts.push_back(f.value);
      }
    } else if (name == "expires") {
      ++expires_count;
      Result<WallTime> t = ParseRfc3339(f.value);
      if (!t.ok()) {
        out.problems.push_back("Expires is not an RFC 3339 date-time" + at);
      } else if (expires_count == 1) {
        out.expires = *t;
        if (*t <= now) {
          out.problems.push_back("Expires " + f.value + " is in the past");
        } else if (*t - now > std::chrono::hours(24 * 366)) {
          out.notes.push_back(
              "Expires is more than a year ahead (RFC 9116 advises less)");
        }
      }
    } else if (web_uri_field) {
      if (!LooksLikeUri(f.value)) {
        out.problems.push_back(f.name + " is not a URI" + at);
      } else if (!HasScheme(f.value, "https://") &&
                 !(name == "encryption" &&
                   (HasScheme(f.value, "openpgp4fpr:") ||
                    HasScheme(f.value, "dns:")))) {
        out.problems.push_back(f.name + " must be an https URI" + at);
      }
      if (name == "canonical") canonicals.push_back(f.value);
    } else if (name == "preferred-languages") {
      ++languages_count;
      size_t start = 0;
      std::string_view v = f.value;
      while (start <= v.size()) {
        size_t comma = v.find(',', start);
        if (comma == std::string_view::npos) comma = v.size();
        std::string_view tag = Trim(v.substr(start, comma - start));
        bool ok = !tag.empty() && tag.size() <= 35;
        for (char c : tag) {
          ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-');
        }
        if (!ok) {
          out.problems.push_back("Preferred-Languages has a bad tag" + at);
          break;
        }
        start = comma + 1;
      }
    }
  }
  if (out.contacts.empty()) out.problems.push_back("no valid Contact field");
  if (expires_count == 0) out.problems.push_back("no Expires field");
  if (expires_count > 1) {
    out.problems.push_back("Expires appears " + std::to_string(expires_count) +
                           " times (exactly one is allowed)");
  }
  if (languages_count > 1) {
    out.problems.push_back("Preferred-Languages appears more than once");
  }
  if (!canonicals.empty() && !fetched_from.empty()) {
    bool listed = false;
    for (const std::string& c : canonicals)
      listed = listed || c == fetched_from;
    if (!listed) {
      out.notes.push_back("Canonical does not list " +
                          std::string(fetched_from) +
                          " (expected where the device is reached by another "
                          "name)");
    }
  }
  return out;
}

}  // namespace warden::assess
