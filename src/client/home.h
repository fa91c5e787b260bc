// The owner's home directory: where the `warden` tool keeps the owner's
// identity (key and self-signed certificate) and the registry of paired
// devices.
//
//   HOME/owner.key     ECDSA P-256 private key, PKCS#8 PEM, mode 0600
//   HOME/owner.crt     self-signed client certificate for that key
//   HOME/devices.json  the device registry (client/registry.h)
//
// The directory itself is mode 0700: the key is the owner's credential for
// every paired device.
#ifndef WARDEN_CLIENT_HOME_H_
#define WARDEN_CLIENT_HOME_H_

#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "platform/env.h"

namespace warden::client {

inline constexpr char kOwnerKeyFile[] = "owner.key";
inline constexpr char kOwnerCertFile[] = "owner.crt";
inline constexpr char kDevicesFile[] = "devices.json";

// $XDG_CONFIG_HOME/warden when that variable is a non-empty absolute path,
// else $HOME/.config/warden. kFailedPrecondition when neither is usable.
Result<std::string> DefaultHomeDir();

// Creates `dir` (and missing parents) with mode 0700; an existing directory
// is fine. kIo when it exists but is not a directory or cannot be made.
Status EnsureHomeDir(const std::string& dir,
                     platform::Env& env = platform::DefaultEnv());

struct OwnerIdentity {
  crypto::PrivateKey key;
  crypto::Certificate certificate;
};

// Loads the identity from `home`. kNotFound when there is none yet (the
// owner has never paired); kDataLoss when the files are unreadable, do not
// match each other or the key is not P-256.
Result<OwnerIdentity> LoadOwnerIdentity(
    const std::string& home, platform::Env& env = platform::DefaultEnv());

// Loads the identity, or creates it when neither file exists: a new P-256
// key (owner.key, 0600) and a self-signed certificate for it (owner.crt,
// CN "warden owner", clientAuth, valid from now for 20 years). Files are
// created exclusively, so two tools racing cannot end up with mismatched
// halves. One file without the other is kDataLoss. Files are written
// through `env`.
Result<OwnerIdentity> LoadOrCreateOwnerIdentity(
    const std::string& home, const Clock& clock,
    platform::Env& env = platform::DefaultEnv());

}  // namespace warden::client

#endif  // WARDEN_CLIENT_HOME_H_
