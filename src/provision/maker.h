// The maker's directory: the device CA that issues every unit's identity,
// the disclosure facts printed on labels and served by each unit
// (guideline 2), and the register of serials already provisioned.
//
// Layout of a maker directory (0700):
//   keystore/    the device CA's P-256 key, item "ca-key" (ca_key.h)
//   ca-key.json  which keystore backend protects it (no secret)
//   ca.crt       the self-signed device CA certificate (20 years)
//   maker.json   MakerSettings with support_end resolved to a date
//   serials.txt  one provisioned serial per line
//   serials.lock serialises concurrent ProvisionUnit runs and key imports
//                (created on use)
// With the file backend the key-encryption key is a 0600 file beside the
// directory by default ("<dir>.kek"). A directory made before keystores
// has ca.key (clear PKCS#8 PEM) instead of keystore/ and ca-key.json; it
// loads until ImportCaKey moves the key. Keep the directory, and the KEK
// or the token, on the provisioning station only.
#ifndef WARDEN_PROVISION_MAKER_H_
#define WARDEN_PROVISION_MAKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "platform/env.h"
#include "provision/ca_key.h"

namespace warden::provision {

inline constexpr char kMakerJsonFile[] = "maker.json";
inline constexpr char kSerialsFile[] = "serials.txt";
inline constexpr char kSerialsLockFile[] = "serials.lock";

struct MakerSettings {
  std::string name;                             // 1..64 printable ASCII
  std::string contact;                          // mailto:ADDRESS or https://...
  std::string policy_url;                       // https://...
  std::vector<std::string> languages = {"en"};  // 1..16 language tags
  int support_years = 5;                   // 1..19, from the day of InitMaker
  std::optional<std::string> support_end;  // YYYY-MM-DD, overrides years
  uint16_t vendor_id = 0xFFF1;             // Matter test vendor unless assigned
  uint16_t product_id = 0x8000;
};

// Checks every field as InitMaker does; `now` decides whether support_end
// is in the future. kInvalidArgument naming the field.
Status ValidateMakerSettings(const MakerSettings& settings, WallTime now);

// Creates a maker directory at `dir`: validates `settings`, generates the
// device CA's key in a keystore where `key` says (kFile: the KEK file is
// made when absent and kept when present; kPkcs11: generated in the token,
// logged in with `access`; kClearFile is kInvalidArgument), issues the CA
// certificate with it (P-256, CN "<name> Device CA", O name, valid 20
// years from now) and writes the files listed above. The end of security
// support is resolved to a date: settings.support_end when given, otherwise
// today plus support_years. A `dir` that exists and is not empty is
// kAlreadyExists; on any failure nothing is left behind but a KEK file it
// made that a crash kept (the next InitMaker uses it). The directory is
// built beside `dir` and renamed into place, so that a crash leaves it
// complete or absent (missing parents are made 0700); token objects of a
// directory that was not completed stay in the token, unused.
Status InitMaker(const std::string& dir, const MakerSettings& settings,
                 Clock& clock, platform::Env& env = platform::DefaultEnv(),
                 const CaKeyLocation& key = {}, const CaKeyAccess& access = {});

// A maker directory's public part; the CA key is opened separately
// (OpenMakerCaKey), only when something is to be signed.
struct Maker {
  std::string dir;
  // support_end is always set (resolved at InitMaker).
  MakerSettings settings;
  crypto::Certificate ca_cert;
  CaKeyLocation ca_key_location;
};

// Loads a maker directory created by InitMaker. Every file is read with a
// size limit; settings are validated (support_end must be a date, not
// necessarily future), the CA certificate must be a CA, and where the CA
// key lives is read (ca_key.h ReadCaKeyLocation). Errors name the file:
// kNotFound when missing, kDataLoss when malformed, kUnavailable for a
// keystore backend this build cannot open.
Result<Maker> LoadMaker(const std::string& dir,
                        platform::Env& env = platform::DefaultEnv());

// The CA key of `maker`, opened where it lives and checked against its
// certificate (ca_key.h OpenCaKey).
Result<CaKey> OpenMakerCaKey(const Maker& maker, const CaKeyAccess& access,
                             platform::Env& env = platform::DefaultEnv());

}  // namespace warden::provision

#endif  // WARDEN_PROVISION_MAKER_H_
