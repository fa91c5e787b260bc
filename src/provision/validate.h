// Checks on the facts a maker and its units are provisioned with. They end
// up in certificates, labels, JSON files and the public security.txt, so
// each is held to a narrow, printable form. Every function returns
// kInvalidArgument with a message naming the field and the rule.
#ifndef WARDEN_PROVISION_VALIDATE_H_
#define WARDEN_PROVISION_VALIDATE_H_

#include <string_view>

#include "base/status.h"

namespace warden::provision {

// ^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$
Status ValidateSerial(std::string_view serial);
// 1..64 printable ASCII characters, no leading or trailing space.
Status ValidateModel(std::string_view model);
// The maker's name: same rule as the model.
Status ValidateMakerName(std::string_view name);
// "mailto:local@domain" or an https URL.
Status ValidateContact(std::string_view contact);
// "https://host[:port][/path]", at most 256 characters, no spaces, quotes,
// angle brackets or control characters.
Status ValidateHttpsUrl(std::string_view field, std::string_view url);
// An RFC 5646-style tag: 2-3 letters, then up to 7 subtags of 1-8 letters
// or digits, at most 35 characters ("en", "de-CH", "zh-Hant-TW").
Status ValidateLanguageTag(std::string_view tag);
// 1..32 characters of [0-9A-Za-z.+-], starting with a letter or digit.
Status ValidateFirmwareVersion(std::string_view version);

}  // namespace warden::provision

#endif  // WARDEN_PROVISION_VALIDATE_H_
