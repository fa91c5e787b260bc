#include "keystore/testing/backends.h"

#include "keystore/file_backend.h"
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

  bool erase_reaches_copies() const override { return false; }

 private:
  std::string dir_;
};

}  // namespace

std::vector<std::string> BackendNames() { return {"file"}; }

Result<std::unique_ptr<BackendFixture>> MakeBackendFixture(
    const std::string& name, const std::string& dir) {
  if (name == "file") {
    auto fixture = std::make_unique<FileFixture>(dir);
    WARDEN_TRY(fixture->Init());
    return std::unique_ptr<BackendFixture>(std::move(fixture));
  }
  return NotFoundError("no keystore backend \"" + name + "\"");
}

}  // namespace warden::keystore::testing
