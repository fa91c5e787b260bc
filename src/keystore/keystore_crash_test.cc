// The keystore at every fault point: creating a key (and the KEK with it),
// rotating a signing key and a secret (stage, verify, commit), reverting,
// and destroying. After each, the keystore opens and the item is the old
// version or the new one, and works: never neither.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "keystore/file_backend.h"
#include "keystore/keystore.h"
#include "platform/crash_testing.h"
#include "platform/file.h"

namespace warden::keystore {
namespace {

using platform::Env;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;

std::string StoreDir(const std::string& root) { return root + "/keystore"; }

Result<std::unique_ptr<Keystore>> OpenStore(Env& env, const std::string& root) {
  FileBackendOptions options;
  options.kek_path = root + "/etc/warden/kek";
  options.binding_path = root + "/machine-id";
  WARDEN_ASSIGN_OR_RETURN(auto backend, FileBackend::Open(env, options));
  return Keystore::Open(env, StoreDir(root), std::move(backend));
}

void MakeBinding(const std::string& root) {
  ASSERT_TRUE(platform::WriteFileAtomic(root + "/machine-id",
                                        "4d1f0c7a9b8e4f6a8c2d1e0f3a5b7c9d\n",
                                        0644)
                  .ok());
}

// What the keystore directory holds once a keystore has opened it: items
// and the lock, no leftovers of an interrupted write.
void ExpectOnlyItems(Env& env, const std::string& root) {
  auto names = env.ListDir(StoreDir(root));
  ASSERT_TRUE(names.ok());
  for (const auto& name : *names) {
    const bool item =
        name == ".lock" ||
        (name.size() > 4 && (name.ends_with(".cur") || name.ends_with(".new")));
    EXPECT_TRUE(item) << "left behind: " << name;
  }
}

// Signs with the key and checks the signature with its public half.
void ExpectSigns(const crypto::PrivateKey& key) {
  auto sig = key.Sign(ToBytes("check"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key.public_key().Verify(ToBytes("check"), *sig).ok());
}

TEST(KeystoreCrashTest, CreatingTheFirstKeyAndSecret) {
  auto report = RunCrashTest(CrashTest{
      .setup = [](const std::string& root) { MakeBinding(root); },
      .workload = [](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
        WARDEN_TRY(store->CreateSigningKey("identity").status());
        return store->Seal("verifier", ToBytes("verifier record"));
      },
      .check =
          [](Env& env, const std::string& root, bool acknowledged) {
            auto store = OpenStore(env, root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            ExpectOnlyItems(env, root);
            auto kek_dir = env.ListDir(root + "/etc/warden");
            ASSERT_TRUE(kek_dir.ok());
            EXPECT_EQ(*kek_dir, std::vector<std::string>{"kek"});
            auto key = (*store)->SigningKey("identity");
            auto secret = (*store)->Unseal("verifier");
            if (acknowledged) {
              ASSERT_TRUE(key.ok()) << key.status().ToString();
              ASSERT_TRUE(secret.ok()) << secret.status().ToString();
            }
            // Absent or whole, never a blob that does not open.
            if (!key.ok()) {
              EXPECT_EQ(key.status().code(), Code::kNotFound)
                  << key.status().ToString();
            } else {
              ExpectSigns(*key);
            }
            if (!secret.ok()) {
              EXPECT_EQ(secret.status().code(), Code::kNotFound)
                  << secret.status().ToString();
            } else {
              EXPECT_EQ(ToString(secret->view()), "verifier record");
            }
          },
  });
  EXPECT_GT(report.power_cuts, 5);
}

// The old key's public half, from setup to the checks of every run.
struct RotationState {
  std::optional<crypto::PublicKey> old_key;
};

TEST(KeystoreCrashTest, RotatingASigningKey) {
  auto state = std::make_shared<RotationState>();
  auto report = RunCrashTest(CrashTest{
      .setup =
          [state](const std::string& root) {
            MakeBinding(root);
            auto store = OpenStore(platform::DefaultEnv(), root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            auto pub = (*store)->CreateSigningKey("identity");
            ASSERT_TRUE(pub.ok());
            state->old_key = *pub;
          },
      .workload = [](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
        WARDEN_TRY(store->StageSigningKey("identity").status());
        WARDEN_ASSIGN_OR_RETURN(auto staged,
                                store->StagedSigningKey("identity"));
        WARDEN_TRY(staged.Sign(ToBytes("verify")).status());
        return store->Commit("identity");
      },
      .check =
          [state](Env& env, const std::string& root, bool acknowledged) {
            auto store = OpenStore(env, root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            auto key = (*store)->SigningKey("identity");
            ASSERT_TRUE(key.ok())
                << "the key is lost: " << key.status().ToString();
            ExpectSigns(*key);
            if (acknowledged) {
              EXPECT_NE(key->public_key(), *state->old_key);
              EXPECT_FALSE(*(*store)->Pending("identity"));
            }
            // Whatever a crash left staged can be finished or dropped.
            if (*(*store)->Pending("identity")) {
              EXPECT_EQ(key->public_key(), *state->old_key);
              ASSERT_TRUE((*store)->Commit("identity").ok());
              auto committed = (*store)->SigningKey("identity");
              ASSERT_TRUE(committed.ok());
              ExpectSigns(*committed);
            }
          },
  });
  EXPECT_GT(report.power_cuts, 5);
}

TEST(KeystoreCrashTest, RotatingASecret) {
  auto report = RunCrashTest(CrashTest{
      .setup =
          [](const std::string& root) {
            MakeBinding(root);
            auto store = OpenStore(platform::DefaultEnv(), root);
            ASSERT_TRUE(store.ok());
            ASSERT_TRUE((*store)->Seal("data-key", ToBytes("old")).ok());
          },
      .workload = [](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
        WARDEN_TRY(store->StageSecret("data-key", ToBytes("new")));
        WARDEN_ASSIGN_OR_RETURN(auto staged, store->UnsealStaged("data-key"));
        if (ToString(staged.view()) != "new") return InternalError("staged");
        return store->Commit("data-key");
      },
      .check =
          [](Env& env, const std::string& root, bool acknowledged) {
            auto store = OpenStore(env, root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            auto secret = (*store)->Unseal("data-key");
            ASSERT_TRUE(secret.ok())
                << "the secret is lost: " << secret.status().ToString();
            const std::string value = ToString(secret->view());
            if (acknowledged) {
              EXPECT_EQ(value, "new");
            } else {
              EXPECT_TRUE(value == "old" || value == "new") << value;
            }
          },
  });
  EXPECT_GT(report.power_cuts, 5);
}

TEST(KeystoreCrashTest, RevertingAStagedSecret) {
  auto report = RunCrashTest(CrashTest{
      .setup =
          [](const std::string& root) {
            MakeBinding(root);
            auto store = OpenStore(platform::DefaultEnv(), root);
            ASSERT_TRUE(store.ok());
            ASSERT_TRUE((*store)->Seal("data-key", ToBytes("old")).ok());
            ASSERT_TRUE((*store)->StageSecret("data-key", ToBytes("new")).ok());
          },
      .workload = [](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
        return store->Revert("data-key");
      },
      .check =
          [](Env& env, const std::string& root, bool acknowledged) {
            auto store = OpenStore(env, root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            auto secret = (*store)->Unseal("data-key");
            ASSERT_TRUE(secret.ok()) << secret.status().ToString();
            EXPECT_EQ(ToString(secret->view()), "old");
            if (acknowledged) {
              EXPECT_FALSE(*(*store)->Pending("data-key"));
            }
          },
  });
  EXPECT_GT(report.power_cuts, 2);
}

TEST(KeystoreCrashTest, DestroyingAnItem) {
  auto report = RunCrashTest(CrashTest{
      .setup =
          [](const std::string& root) {
            MakeBinding(root);
            auto store = OpenStore(platform::DefaultEnv(), root);
            ASSERT_TRUE(store.ok());
            ASSERT_TRUE((*store)->Seal("data-key", ToBytes("old")).ok());
            ASSERT_TRUE((*store)->StageSecret("data-key", ToBytes("new")).ok());
            ASSERT_TRUE((*store)->Seal("other", ToBytes("kept")).ok());
          },
      .workload = [](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
        return store->Destroy("data-key");
      },
      .check =
          [](Env& env, const std::string& root, bool acknowledged) {
            auto store = OpenStore(env, root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            auto secret = (*store)->Unseal("data-key");
            if (acknowledged) {
              EXPECT_EQ(secret.status().code(), Code::kNotFound);
              EXPECT_FALSE(*(*store)->Pending("data-key"));
            } else if (secret.ok()) {
              EXPECT_EQ(ToString(secret->view()), "old");
            } else {
              EXPECT_EQ(secret.status().code(), Code::kNotFound)
                  << secret.status().ToString();
            }
            auto other = (*store)->Unseal("other");
            ASSERT_TRUE(other.ok()) << other.status().ToString();
            EXPECT_EQ(ToString(other->view()), "kept");
            // Nothing half-wiped is left, under a live name or another.
            ExpectOnlyItems(env, root);
          },
  });
  EXPECT_GT(report.power_cuts, 2);
}

}  // namespace
}  // namespace warden::keystore
