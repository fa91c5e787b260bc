#include "base/version.h"

#include <algorithm>

namespace warden {

Result<Version> ParseVersion(std::string_view text) {
  Version v;
  size_t pos = 0;
  while (true) {
    if (v.parts.size() == kMaxVersionParts) {
      return InvalidArgumentError("version: more than 8 parts");
    }
    size_t end = text.find('.', pos);
    std::string_view part =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos
                                                       : end - pos);
    if (part.empty() || part.size() > 9) {
      return InvalidArgumentError("version: a part is empty or too long");
    }
    if (part.size() > 1 && part[0] == '0') {
      return InvalidArgumentError("version: a part has a leading zero");
    }
    uint32_t n = 0;
    for (char c : part) {
      if (c < '0' || c > '9') {
        return InvalidArgumentError("version: not a dotted number");
      }
      n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    v.parts.push_back(n);
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return v;
}

int CompareVersions(const Version& a, const Version& b) {
  const size_t n = std::max(a.parts.size(), b.parts.size());
  for (size_t i = 0; i < n; ++i) {
    uint32_t x = i < a.parts.size() ? a.parts[i] : 0;
    uint32_t y = i < b.parts.size() ? b.parts[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

Result<int> CompareVersionText(std::string_view a, std::string_view b) {
  WARDEN_ASSIGN_OR_RETURN(Version va, ParseVersion(a));
  WARDEN_ASSIGN_OR_RETURN(Version vb, ParseVersion(b));
  return CompareVersions(va, vb);
}

}  // namespace warden
