// A unit's secrets in its keystore (guideline 4): wardend loads the
// identity key and the SPAKE2+ verifier record from a keystore::Keystore,
// never from clear files.
//
// Two items hold them:
//   identity-key    either a signing key made in the keystore (for a
//                   hardware backend, in the token or the TPM, where it
//                   stays: see MakeIdentityRequest), or a secret holding
//                   the PKCS#8 of a key that was provisioned as a file and
//                   moved into the keystore;
//   pairing-record  a secret holding pairing.json's content (w0 with L and
//                   the PBKDF parameters: only w0 is secret, the record is
//                   kept whole).
//
// A unit provisioned with identity.key and pairing.json in clear has them
// moved into the keystore at its first start, one at a time: the clear
// file is read and checked (the key against identity.crt, the record as
// LoadDevice checks it), sealed, unsealed again and compared, and only
// then overwritten and removed (platform::ScrubFile). The keystore item
// is the unit's secret from the moment it opens and matches; until then
// the clear file is. A crash at any point therefore leaves a unit that
// loads: the next start finishes the move.
#ifndef WARDEN_PROVISION_SEALED_DEVICE_H_
#define WARDEN_PROVISION_SEALED_DEVICE_H_

#include <string>

#include "base/status.h"
#include "crypto/keys.h"
#include "keystore/keystore.h"
#include "platform/env.h"
#include "provision/device.h"

namespace warden::provision {

inline constexpr char kIdentityKeyItem[] = "identity-key";
inline constexpr char kPairingRecordItem[] = "pairing-record";

// Loads the unit in `state_dir` (device.json, identity.crt, ca.crt, checked
// as LoadDevice checks them) with its identity key and verifier record from
// `keystore`, moving them there first from identity.key and pairing.json
// where those are still present (see above). The key must match
// identity.crt: kIntegrity otherwise. kNotFound when a secret is neither in
// the keystore nor in its file; other errors as LoadDevice and the
// keystore's. A keystore item that does not open while its clear file is
// still present and valid is replaced from the file; one that does not open
// once the file is gone is the error. File work goes through `env`.
Result<DeviceIdentity> LoadSealedDevice(const std::string& state_dir,
                                        keystore::Keystore& keystore,
                                        platform::Env& env);

// For a unit whose key is made where it stays: creates the signing key
// identity-key in `keystore` (or takes the one there, made by an earlier
// call for which no certificate was issued yet) and returns a PKCS#10
// certificate signing request for `serial` (subject CN and serialNumber),
// PEM, signed by that key. The maker's station turns it into the unit's
// identity.crt (ProvisionRequest::identity_request). kAlreadyExists when
// identity-key is a moved file key; kInvalidArgument for a bad serial.
Result<std::string> MakeIdentityRequest(keystore::Keystore& keystore,
                                        const std::string& serial);

}  // namespace warden::provision

#endif  // WARDEN_PROVISION_SEALED_DEVICE_H_
