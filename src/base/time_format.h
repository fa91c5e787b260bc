// Calendar dates and timestamps in UTC, the one place Warden turns times
// into text and back: support period end dates ("YYYY-MM-DD"), security.txt
// expiry and registry entries (RFC 3339).
#ifndef WARDEN_BASE_TIME_FORMAT_H_
#define WARDEN_BASE_TIME_FORMAT_H_

#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace warden {

// "YYYY-MM-DD" (a real calendar date, year 1970..9999) -> midnight UTC of
// that day. kInvalidArgument otherwise.
Result<WallTime> ParseDate(std::string_view ymd);
// The UTC calendar date of `t` as "YYYY-MM-DD".
std::string FormatDate(WallTime t);
// The UTC time `t` as "YYYY-MM-DDThh:mm:ssZ" (ISO 8601, RFC 3339).
std::string FormatTimestamp(WallTime t);
// `t` plus whole calendar years (UTC); 29 February becomes 28 February.
WallTime AddYears(WallTime t, int years);

}  // namespace warden

#endif  // WARDEN_BASE_TIME_FORMAT_H_
