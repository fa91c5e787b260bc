// wardend's keystore: opened once at start from the configuration's
// "keystore" section (config.h KeystoreConfig), and the one place the rest
// of the daemon takes its sealed secrets from (the unit's identity key and
// verifier record, data keys).
#ifndef WARDEN_DAEMON_KEYSTORE_SETUP_H_
#define WARDEN_DAEMON_KEYSTORE_SETUP_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "daemon/config.h"
#include "keystore/keystore.h"
#include "platform/env.h"

namespace warden::daemon {

// Reads an environment variable; nullopt when unset.
using GetEnvFn = std::function<std::optional<std::string>(const char*)>;

// The process's environment.
std::optional<std::string> ProcessEnv(const char* name);

// Opens the keystore `config` describes for the unit in `state_dir`, with
// the defaults of KeystoreConfig. For "pkcs11" the PIN is read from the
// variable config.pin_env through `get_env`: kFailedPrecondition when it is
// unset or empty. Other errors as the backend's and Keystore::Open's, with
// the backend named. `env` must outlive the keystore.
Result<std::unique_ptr<keystore::Keystore>> OpenKeystore(
    const KeystoreConfig& config, const std::string& state_dir,
    platform::Env& env, const GetEnvFn& get_env = ProcessEnv);

}  // namespace warden::daemon

#endif  // WARDEN_DAEMON_KEYSTORE_SETUP_H_
