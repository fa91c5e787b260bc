#include "daemon/keystore_setup.h"

#include <cstdlib>

#include "crypto/secret.h"
#include "keystore/file_backend.h"
#include "keystore/pkcs11_backend.h"
#include "keystore/tpm_backend.h"
#include "platform/file.h"

namespace warden::daemon {
namespace {

std::string OrDefault(const std::string& value, const std::string& state_dir,
                      const char* name) {
  return value.empty() ? platform::JoinPath(state_dir, name) : value;
}

Result<std::unique_ptr<keystore::Backend>> OpenBackend(
    const KeystoreConfig& config, const std::string& state_dir,
    platform::Env& env, const GetEnvFn& get_env) {
  switch (config.backend) {
    case KeystoreConfig::Backend::kFile: {
      keystore::FileBackendOptions options;
      options.kek_path = OrDefault(config.kek_file, state_dir, "keystore.kek");
      options.binding_path = config.binding_file;
      WARDEN_ASSIGN_OR_RETURN(auto backend,
                              keystore::FileBackend::Open(env, options));
      return std::unique_ptr<keystore::Backend>(std::move(backend));
    }
    case KeystoreConfig::Backend::kPkcs11: {
      std::optional<std::string> pin = get_env(config.pin_env.c_str());
      if (!pin || pin->empty()) {
        return FailedPreconditionError(
            "keystore: the pkcs11 backend takes the token's PIN from $" +
            config.pin_env + ", which is not set");
      }
      keystore::Pkcs11BackendOptions options{config.module, config.token,
                                             std::move(*pin)};
      crypto::Wipe(*pin);
      WARDEN_ASSIGN_OR_RETURN(
          auto backend, keystore::Pkcs11Backend::Open(std::move(options)));
      return std::unique_ptr<keystore::Backend>(std::move(backend));
    }
    case KeystoreConfig::Backend::kTpm: {
      keystore::TpmBackendOptions options;
      options.tcti = config.tcti;
      options.max_nv_indices = config.max_nv_indices;
      options.keys_path =
          OrDefault(config.tpm_keys_file, state_dir, "keystore.tpm");
      WARDEN_ASSIGN_OR_RETURN(auto backend,
                              keystore::TpmBackend::Open(env, options));
      return std::unique_ptr<keystore::Backend>(std::move(backend));
    }
  }
  return InvalidArgumentError("keystore: unknown backend");
}

}  // namespace

std::optional<std::string> ProcessEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<std::unique_ptr<keystore::Keystore>> OpenKeystore(
    const KeystoreConfig& config, const std::string& state_dir,
    platform::Env& env, const GetEnvFn& get_env) {
  const std::string what =
      "keystore (" + std::string(KeystoreBackendName(config.backend)) + ")";
  auto backend = OpenBackend(config, state_dir, env, get_env);
  if (!backend.ok()) return backend.status().WithContext(what);
  auto store = keystore::Keystore::Open(
      env, OrDefault(config.dir, state_dir, "keystore"), std::move(*backend));
  if (!store.ok()) return store.status().WithContext(what);
  return store;
}

}  // namespace warden::daemon
