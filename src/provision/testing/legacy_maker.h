// Test only (target warden_provision_testing): a maker directory as it was
// made before the CA key went into a keystore, with the key in clear as
// ca.key, for the tests of ImportCaKey and of loading such a directory.
#ifndef WARDEN_PROVISION_TESTING_LEGACY_MAKER_H_
#define WARDEN_PROVISION_TESTING_LEGACY_MAKER_H_

#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "provision/maker.h"

namespace warden::provision::testing {

// Makes maker directory `dir` (absent) with `settings`: maker.json,
// serials.txt, a new CA key written as ca.key (PKCS#8 PEM, 0600) and ca.crt
// issued with it; no keystore, no ca-key.json and no KEK file. Returns the
// public half of the CA key.
Result<crypto::PublicKey> MakeLegacyMaker(const std::string& dir,
                                          const MakerSettings& settings,
                                          Clock& clock);

// Whether a file under `dir` (recursively) holds a private key as
// tests/scan_secrets.py finds one: a PEM private key block or the DER of
// a P-256 PKCS#8 or SEC1 key. Returns the first such path, or "".
std::string FileHoldingAPrivateKey(const std::string& dir);

}  // namespace warden::provision::testing

#endif  // WARDEN_PROVISION_TESTING_LEGACY_MAKER_H_
