// Release versions as dotted numbers (the core of semver: "1.2.3"), the
// order the installer's version floor and minimum-from checks use, and
// the order the maker's release tool checks before it signs a target.
//
// Versions come from signed target metadata, but are still parsed with
// limits: at most kMaxVersionParts parts, each a decimal number of at most
// 9 digits without a leading zero (a lone "0" is fine). Missing trailing
// parts count as zero, so "1.2" and "1.2.0" are the same version.
#ifndef WARDEN_BASE_VERSION_H_
#define WARDEN_BASE_VERSION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden {

inline constexpr size_t kMaxVersionParts = 8;

struct Version {
  std::vector<uint32_t> parts;
};

// kInvalidArgument for anything but 1 to kMaxVersionParts dot-separated
// numbers as above (no sign, no suffix such as "-rc1", no empty part).
Result<Version> ParseVersion(std::string_view text);

// <0, 0 or >0 as `a` is older than, the same as or newer than `b`.
int CompareVersions(const Version& a, const Version& b);

// Both parsed first; kInvalidArgument when either does not parse.
Result<int> CompareVersionText(std::string_view a, std::string_view b);

}  // namespace warden

#endif  // WARDEN_BASE_VERSION_H_
