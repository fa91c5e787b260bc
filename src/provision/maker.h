// The maker's directory: the device CA that issues every unit's identity,
// the disclosure facts printed on labels and served by each unit
// (guideline 2), and the register of serials already provisioned.
//
// Layout of a maker directory (0700):
//   ca.key       PKCS#8 PEM of the device CA's P-256 key (0600)
//   ca.crt       the self-signed device CA certificate (20 years)
//   maker.json   MakerSettings with support_end resolved to a date
//   serials.txt  one provisioned serial per line
//   serials.lock serialises concurrent ProvisionUnit runs (created on use)
// The directory holds the CA key: keep it offline, on the provisioning
// station only.
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

namespace warden::provision {

inline constexpr char kCaKeyFile[] = "ca.key";
inline constexpr char kMakerJsonFile[] = "maker.json";
inline constexpr char kSerialsFile[] = "serials.txt";

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
// device CA (P-256, CN "<name> Device CA", O name, valid 20 years from
// now) and writes the files listed above. The end of security support is
// resolved to a date: settings.support_end when given, otherwise today
// plus support_years. A `dir` that exists and is not empty is
// kAlreadyExists; on any failure nothing is left behind. The directory is
// built beside `dir` and renamed into place, so that a crash leaves it
// complete or absent (missing parents are made 0700).
Status InitMaker(const std::string& dir, const MakerSettings& settings,
                 Clock& clock, platform::Env& env = platform::DefaultEnv());

struct Maker {
  std::string dir;
  // support_end is always set (resolved at InitMaker).
  MakerSettings settings;
  crypto::PrivateKey ca_key;
  crypto::Certificate ca_cert;
};

// Loads a maker directory created by InitMaker. Every file is read with a
// size limit; settings are validated (support_end must be a date, not
// necessarily future), the CA certificate must be a CA and match ca.key.
// Errors name the file: kNotFound when missing, kDataLoss when malformed,
// kIntegrity when the key does not match the certificate.
Result<Maker> LoadMaker(const std::string& dir,
                        platform::Env& env = platform::DefaultEnv());

}  // namespace warden::provision

#endif  // WARDEN_PROVISION_MAKER_H_
