#include "base/time_format.h"

#include <time.h>

#include <cstdio>

namespace warden {
namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysIn(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

Result<WallTime> ParseDate(std::string_view s) {
  const Status bad = InvalidArgumentError("\"" + std::string(s.substr(0, 32)) +
                                          "\" is not a date YYYY-MM-DD");
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return bad;
  auto num = [&](size_t pos, size_t len, int& out) {
    out = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, m, d;
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return bad;
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > DaysIn(y, m)) return bad;
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return bad;
  return FromUnixSeconds(static_cast<int64_t>(t));
}

std::string FormatDate(WallTime t) {
  time_t secs = static_cast<time_t>(UnixSeconds(t));
  struct tm tm = {};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::string FormatTimestamp(WallTime t) {
  time_t secs = static_cast<time_t>(UnixSeconds(t));
  struct tm tm = {};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

WallTime AddYears(WallTime t, int years) {
  time_t secs = static_cast<time_t>(UnixSeconds(t));
  struct tm tm = {};
  gmtime_r(&secs, &tm);
  tm.tm_year += years;
  if (tm.tm_mon == 1 && tm.tm_mday == 29) tm.tm_mday = 28;
  return FromUnixSeconds(static_cast<int64_t>(timegm(&tm)));
}

}  // namespace warden
