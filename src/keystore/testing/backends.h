// Test only (target warden_keystore_testing): each keystore backend set up
// the way the tests need it, so that one suite runs over all of them.
#ifndef WARDEN_KEYSTORE_TESTING_BACKENDS_H_
#define WARDEN_KEYSTORE_TESTING_BACKENDS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "keystore/keystore.h"
#include "platform/env.h"

namespace warden::keystore::testing {

// The protecting side of one backend (a KEK file, a token, a TPM) made
// under a test's directory; it lives as long as the fixture.
class BackendFixture {
 public:
  virtual ~BackendFixture() = default;
  // A new backend over the same protecting state, as a restarted daemon
  // would open it, doing its file work through `env`.
  virtual Result<std::unique_ptr<Backend>> NewBackend(platform::Env& env) = 0;
  Result<std::unique_ptr<Backend>> NewBackend() {
    return NewBackend(platform::DefaultEnv());
  }
  // Whether the keys live in hardware: signing keys are not exportable.
  virtual bool keys_in_hardware() const = 0;
  // Whether Destroy leaves any copy of a blob unopenable (the hardware
  // dropped the key for it).
  virtual bool erase_reaches_copies() const = 0;
  // How many objects the hardware holds for item versions, for a backend
  // that counts them (the TPM's NV indices); nullopt for one that does not.
  virtual Result<std::optional<size_t>> VersionsHeld() {
    return std::optional<size_t>();
  }
};

// "file", and the hardware backends built in ("pkcs11", "tpm").
std::vector<std::string> BackendNames();

// Sets up backend `name` under the existing directory `dir`. A backend
// whose hardware (or simulator) is missing is an error, not a skip.
Result<std::unique_ptr<BackendFixture>> MakeBackendFixture(
    const std::string& name, const std::string& dir);

}  // namespace warden::keystore::testing

#endif  // WARDEN_KEYSTORE_TESTING_BACKENDS_H_
