#include "keystore/testing/backends.h"

#include "crypto/testing/softhsm.h"
#include "keystore/file_backend.h"
#include "keystore/pkcs11_backend.h"
#include "keystore/testing/swtpm.h"
#include "keystore/tpm_backend.h"
#include "platform/file.h"

namespace warden::keystore::testing {
namespace {

class FileFixture : public BackendFixture {
 public:
  explicit FileFixture(std::string dir) : dir_(std::move(dir)) {}

  Status Init() {
    return platform::WriteFileAtomic(
        dir_ + "/machine-id", "4d1f0c7a9b8e4f6a8c2d1e0f3a5b7c9d\n", 0644);
  }

  Result<std::unique_ptr<Backend>> NewBackend(platform::Env& env) override {
    FileBackendOptions options;
    options.kek_path = dir_ + "/kek";
    options.binding_path = dir_ + "/machine-id";
    WARDEN_ASSIGN_OR_RETURN(auto backend, FileBackend::Open(env, options));
    return std::unique_ptr<Backend>(std::move(backend));
  }

  bool keys_in_hardware() const override { return false; }
  bool erase_reaches_copies() const override { return false; }

 private:
  std::string dir_;
};

// A SoftHSM token of the test's own (crypto/testing/softhsm.h).
class Pkcs11Fixture : public BackendFixture {
 public:
  using Token = crypto::testing::SoftHsmToken;
  static constexpr char kToken[] = "keystore";

  explicit Pkcs11Fixture(std::string dir) : dir_(std::move(dir)) {}

  Status Init() { return Token::Make(dir_, kToken).status(); }

  Result<std::unique_ptr<Backend>> NewBackend(platform::Env&) override {
    WARDEN_ASSIGN_OR_RETURN(
        auto backend,
        Pkcs11Backend::Open({Token::kModule, kToken, Token::kPin}));
    return std::unique_ptr<Backend>(std::move(backend));
  }

  bool keys_in_hardware() const override { return true; }
  bool erase_reaches_copies() const override { return true; }

 private:
  std::string dir_;
};

// A swtpm of the test's own, with a fresh state.
class TpmFixture : public BackendFixture {
 public:
  explicit TpmFixture(std::string dir) : dir_(std::move(dir)) {}

  Status Init() {
    WARDEN_ASSIGN_OR_RETURN(tpm_, TestSwtpm::Start(dir_ + "/swtpm"));
    return Status::Ok();
  }

  Result<std::unique_ptr<Backend>> NewBackend(platform::Env& env) override {
    TpmBackendOptions options;
    options.tcti = tpm_->tcti();
    options.keys_path = dir_ + "/tpm-keys";
    WARDEN_ASSIGN_OR_RETURN(auto backend, TpmBackend::Open(env, options));
    return std::unique_ptr<Backend>(std::move(backend));
  }

  bool keys_in_hardware() const override { return true; }
  // Each version's NV index goes with it (tpm_backend.h).
  bool erase_reaches_copies() const override { return true; }
  Result<std::optional<size_t>> VersionsHeld() override {
    TpmBackendOptions options;
    options.tcti = tpm_->tcti();
    options.keys_path = dir_ + "/tpm-keys";
    options.create_keys = false;
    WARDEN_ASSIGN_OR_RETURN(auto backend,
                            TpmBackend::Open(platform::DefaultEnv(), options));
    WARDEN_ASSIGN_OR_RETURN(size_t held, backend->NvIndicesInUse());
    return std::optional<size_t>(held);
  }

 private:
  std::string dir_;
  std::unique_ptr<TestSwtpm> tpm_;
};

}  // namespace

std::vector<std::string> BackendNames() { return {"file", "pkcs11", "tpm"}; }

Result<std::unique_ptr<BackendFixture>> MakeBackendFixture(
    const std::string& name, const std::string& dir) {
  if (name == "file") {
    auto fixture = std::make_unique<FileFixture>(dir);
    WARDEN_TRY(fixture->Init());
    return std::unique_ptr<BackendFixture>(std::move(fixture));
  }
  if (name == "pkcs11") {
    auto fixture = std::make_unique<Pkcs11Fixture>(dir);
    WARDEN_TRY(fixture->Init());
    return std::unique_ptr<BackendFixture>(std::move(fixture));
  }
  if (name == "tpm") {
    auto fixture = std::make_unique<TpmFixture>(dir);
    WARDEN_TRY(fixture->Init());
    return std::unique_ptr<BackendFixture>(std::move(fixture));
  }
  return NotFoundError("no keystore backend \"" + name + "\"");
}

}  // namespace warden::keystore::testing
