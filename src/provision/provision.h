// Provisioning a unit on the production line (guideline 1: no default
// passwords; guideline 12: easy installation).
//
// Each unit gets its own identity key and certificate from the maker's
// device CA and its own random setup code. The setup code reaches the
// owner only through the label: the unit's state directory holds the
// SPAKE2+ verifier record (w0, L), from which the code cannot be read
// back except by brute force over the PBKDF.
#ifndef WARDEN_PROVISION_PROVISION_H_
#define WARDEN_PROVISION_PROVISION_H_

#include <cstdint>
#include <string>

#include "base/clock.h"
#include "base/rng.h"
#include "base/status.h"
#include "platform/env.h"
#include "provision/ca_key.h"
#include "provision/device.h"

namespace warden::provision {

// PBKDF2 iterations for the verifier record. Within Matter's 1000..100000
// range. The cost falls on the owner's client, which derives w0/w1 from the
// typed code once per pairing; the unit stores only w0 and L and never runs
// the PBKDF. Online guessing is bounded by SPAKE2+ (one guess per attempt)
// and pairing throttling; the iterations only matter if pairing.json
// leaks, where they make trying all 10^8 codes cost 1.5e12 HMACs.
inline constexpr uint32_t kPbkdfIterations = 15000;
inline constexpr size_t kPbkdfSaltSize = 32;

struct ProvisionRequest {
  std::string serial;  // ^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$
  std::string model;   // 1..64 printable ASCII
  std::string firmware_version = "0.1.0";
  // A PKCS#10 request (PEM) from a unit whose key was made in its own
  // keystore and never leaves it (sealed_device.h MakeIdentityRequest).
  // When given, the certificate is issued for the request's key, no
  // identity.key is written, and a request that is not signed by its key
  // (kBadSignature) or not for `serial` (kInvalidArgument) is refused.
  // Empty: the key is generated here and written as identity.key.
  std::string identity_request;
  // Opens the maker's CA key where it lives (the PIN of its token); the
  // caller wipes it.
  CaKeyAccess ca_key_access;
};

// What goes on the label. The passcode, manual code and QR payload exist
// only here: they are never written into the unit's directory.
struct ProvisionResult {
  uint32_t passcode = 0;
  std::string manual_code;  // 11 digits; FormatManualCode for printing
  std::string qr_payload;   // "MT:..."
  std::string device_dir;
  std::string certificate_fingerprint;  // hex SHA-256 of the DER
  DeviceInfo info;
};

// Provisions one unit from the maker directory `maker_dir` into `out_dir`
// (see device.h for its files). The serial and model are validated; a
// serial already in serials.txt or an `out_dir` that exists and is not an
// empty directory is kAlreadyExists; a maker whose support period has
// ended is kFailedPrecondition. The unit's certificate is valid until one
// year after the support end (capped at the CA's expiry).
//
// Crash safety: everything is built and synced in "<out_dir>.tmp-XXXX";
// the serial is recorded in serials.txt; then the directory is renamed to
// `out_dir` and its parent synced. After a crash at any point `out_dir`
// either does not exist or is a complete unit, and a unit that exists always
// has its serial recorded (a crash between the two steps leaves a serial
// that no unit uses: serials are never given twice). A failure that is
// reported leaves no `out_dir`. Concurrent runs against the same maker
// directory are serialised by a lock on serials.lock. The certificate is
// signed by the CA key where it lives (maker.h OpenMakerCaKey, with
// request.ca_key_access): its errors (wrong PIN, token or key missing, a
// backend this build cannot open) come back as they are, with nothing
// written. Every file operation goes through `env`.
Result<ProvisionResult> ProvisionUnit(
    const std::string& maker_dir, const ProvisionRequest& request,
    const std::string& out_dir, Clock& clock, Rng& rng,
    platform::Env& env = platform::DefaultEnv());

// Writes label.txt (serial, model, maker, formatted manual code, QR
// payload, support end, vulnerability contact) and qr.svg into
// `label_dir` (created 0700 if missing; files 0600, as they hold the
// setup code). A `label_dir` equal to or inside the unit's directory is
// kInvalidArgument: the code must never travel with the unit's state.
// Each file is replaced atomically.
Status WriteLabel(const std::string& label_dir, const ProvisionResult& result,
                  const DeviceInfo& info,
                  platform::Env& env = platform::DefaultEnv());

}  // namespace warden::provision

#endif  // WARDEN_PROVISION_PROVISION_H_
