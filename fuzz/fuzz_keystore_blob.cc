// Fuzzes the keystore's reading of its own files: whoever can write the
// unit's flash can put anything in the keystore directory. Whatever a blob
// holds, reading it must fail cleanly or give back an item that works, and
// never an item of the other kind.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "keystore/file_backend.h"
#include "keystore/keystore.h"
#include "platform/file.h"

using namespace warden;

namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<keystore::Keystore> store;

  Fixture() {
    char tmpl[] = "/tmp/warden-fuzz-keystore-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    keystore::FileBackendOptions options;
    options.kek_path = dir + "/kek";
    auto backend = keystore::FileBackend::Open(platform::DefaultEnv(), options);
    if (!backend.ok()) std::abort();
    auto opened = keystore::Keystore::Open(
        platform::DefaultEnv(), dir + "/keystore", std::move(*backend));
    if (!opened.ok()) std::abort();
    store = std::move(*opened);
  }
  ~Fixture() {
    store.reset();
    platform::RemoveTree(platform::DefaultEnv(), dir).IgnoreError();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const std::string contents(reinterpret_cast<const char*>(data), size);
  for (const char* file : {"/keystore/item.cur", "/keystore/item.new"}) {
    if (!platform::WriteFileAtomic(fixture.dir + file, contents, 0600).ok()) {
      std::abort();
    }
  }
  keystore::Keystore& store = *fixture.store;
  auto secret = store.Unseal("item");
  auto key = store.SigningKey("item");
  if (secret.ok() && key.ok()) std::abort();
  if (key.ok()) {
    auto signature = key->Sign(AsBytes("message"));
    if (!signature.ok() ||
        !key->public_key().Verify(AsBytes("message"), *signature).ok()) {
      std::abort();
    }
  }
  (void)store.List();
  (void)store.Pending("item");
  (void)store.Commit("item");
  (void)store.Revert("item");
  (void)store.Destroy("item");
  return 0;
}
