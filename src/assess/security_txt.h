// RFC 9116 security.txt, as a device serves it: parsing and checking.
//
// The assessor fetches /.well-known/security.txt from each web service of a
// device and judges it here: a Contact is present, Expires appears exactly
// once, is a valid RFC 3339 date-time and is in the future, every field is
// well formed ("Name: value", web URIs over https), and the optional fields
// (Canonical, Policy, Encryption, Acknowledgments, Hiring, CSAF,
// Preferred-Languages) are checked where present. The text comes from the
// device and is untrusted: its size is limited before anything is kept.
#ifndef WARDEN_ASSESS_SECURITY_TXT_H_
#define WARDEN_ASSESS_SECURITY_TXT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace warden::assess {

// Larger files are refused unparsed (RFC 9116 files are a few hundred
// bytes; 32 KiB leaves room for long policies and a signature).
inline constexpr size_t kMaxSecurityTxtBytes = 32 * 1024;

struct SecurityTxtField {
  std::string name;  // as written
  std::string value;
  int line = 0;  // 1-based
};

struct SecurityTxt {
  std::vector<SecurityTxtField> fields;
  bool signed_message = false;  // an OpenPGP cleartext signature wrapped it
  std::vector<std::string> problems;  // syntax problems found while parsing
};

// Splits `text` into fields. Comments and blank lines are skipped; a
// cleartext-signed file is unwrapped (dash-escaping removed, the signature
// block dropped; the signature itself is not verified). Lines that are not
// "Name: value" are recorded in `problems`, not fatal. kInvalidArgument when
// `text` is larger than kMaxSecurityTxtBytes or not UTF-8.
Result<SecurityTxt> ParseSecurityTxt(std::string_view text);

// The outcome of RFC 9116's rules applied to a parsed file at time `now`.
struct SecurityTxtCheck {
  std::vector<std::string> contacts;
  std::optional<WallTime> expires;
  std::vector<std::string> problems;  // empty: valid
  std::vector<std::string> notes;     // advice that does not invalidate
};

// `fetched_from`, when not empty, is the URL the file came from; a file
// with Canonical fields should list it.
SecurityTxtCheck CheckSecurityTxt(const SecurityTxt& file, WallTime now,
                                  std::string_view fetched_from = {});

// An RFC 3339 date-time ("2026-12-01T10:00:00Z", "...T10:00:00.5+01:00")
// as a time point. kInvalidArgument for anything else.
Result<WallTime> ParseRfc3339(std::string_view text);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_SECURITY_TXT_H_
