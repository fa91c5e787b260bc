// A provisioned unit's identity as wardend loads it from its state
// directory, and the disclosure facts it publishes (guideline 2): who to
// tell about a vulnerability, the disclosure policy, and until when the
// unit receives security updates.
//
// The state directory is written once by ProvisionUnit (provision.h):
//   identity.key   PKCS#8 PEM of the unit's TLS key (0600)
//   identity.crt   the unit's certificate, issued by the maker's device CA
//   ca.crt         the maker's device CA certificate
//   device.json    the facts of DeviceInfo
//   pairing.json   the SPAKE2+ verifier record: w0, L, salt, iterations
//                  (0600); never the passcode, never w1
#ifndef WARDEN_PROVISION_DEVICE_H_
#define WARDEN_PROVISION_DEVICE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/status.h"
#include "base/time_format.h"
#include "crypto/keys.h"
#include "crypto/secret.h"
#include "crypto/x509.h"
#include "platform/env.h"

namespace warden::provision {

// File names inside a unit's state directory.
inline constexpr char kIdentityKeyFile[] = "identity.key";
inline constexpr char kIdentityCertFile[] = "identity.crt";
inline constexpr char kCaCertFile[] = "ca.crt";
inline constexpr char kDeviceJsonFile[] = "device.json";
inline constexpr char kPairingJsonFile[] = "pairing.json";

struct DeviceInfo {
  std::string serial;
  std::string model;
  std::string maker;
  std::string contact;     // mailto:... or https://...
  std::string policy_url;  // https://...
  std::vector<std::string> languages;
  std::string support_end;  // YYYY-MM-DD: last day of security updates
  std::string firmware_version;
  uint16_t vendor_id = 0;
  uint16_t product_id = 0;
  uint16_t discriminator = 0;
};

struct DeviceIdentity {
  DeviceInfo info;
  crypto::PrivateKey key;
  crypto::Certificate certificate;
  crypto::Certificate ca;
  // SPAKE2+ verifier record and the PBKDF parameters the owner's client
  // needs to derive its side from the setup code.
  crypto::SecretBytes w0;  // 32 bytes
  Bytes L;                 // 65 bytes, uncompressed P-256 point
  Bytes salt;              // 16..32 bytes
  uint32_t iterations = 0;
};

// Loads and checks a unit's state directory: every file present, bounded in
// size and well formed (JSON with the expected types, fields valid as
// ProvisionUnit would accept them), the key matching the certificate, the
// certificate naming the serial and signed by ca.crt, w0 a scalar below the
// group order, L a point on the curve, salt and iterations in range.
// Certificate expiry is not judged here: the caller decides what a unit
// past its support period does. Errors name the offending file: kNotFound
// for a missing file, kDataLoss for a malformed one, kIntegrity for a key
// or certificate that does not belong. wardend itself loads a unit through
// its keystore (sealed_device.h); this reads the clear files provisioning
// leaves.
Result<DeviceIdentity> LoadDevice(const std::string& state_dir,
                                  platform::Env& env = platform::DefaultEnv());

// The public part of a unit: device.json, identity.crt and ca.crt, checked
// as LoadDevice checks them (the certificate names the serial and chains
// to ca.crt). Errors as LoadDevice.
struct UnitCertificates {
  DeviceInfo info;
  crypto::Certificate certificate;
  crypto::Certificate ca;
};
Result<UnitCertificates> LoadUnitCertificates(const std::string& state_dir,
                                              platform::Env& env);

// The SPAKE2+ verifier record as pairing.json holds it.
struct VerifierRecord {
  crypto::SecretBytes w0;
  Bytes L;
  Bytes salt;
  uint32_t iterations = 0;
};
// Parses and checks pairing.json's content (as LoadDevice does).
// kDataLoss saying what is wrong.
Result<VerifierRecord> ParseVerifierRecord(std::string_view text);

// device.json's content for `info` (the inverse of what LoadDevice reads).
std::string DeviceInfoToJson(const DeviceInfo& info);
// Parses and validates device.json's content. kDataLoss when malformed.
Result<DeviceInfo> DeviceInfoFromJson(std::string_view text);

// The RFC 9116 security.txt served at /.well-known/security.txt: Contact,
// Expires (now + 180 days), Policy, Preferred-Languages and Canonical, one
// per line, LF line endings. `canonical_url` is the URL the file is served
// at; it is left out if it is empty or contains control characters.
std::string RenderSecurityTxt(const DeviceInfo& info, WallTime now,
                              std::string_view canonical_url);

// How long a rendered security.txt stays valid.
inline constexpr int kSecurityTxtDays = 180;

}  // namespace warden::provision

#endif  // WARDEN_PROVISION_DEVICE_H_
