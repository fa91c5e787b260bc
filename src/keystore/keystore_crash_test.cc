// The keystore at every fault point, on every backend: creating a key (and,
// on the file backend, the KEK with it), rotating a signing key and a
// secret (stage, verify, commit), reverting, and destroying. After each,
// a fresh keystore on the surviving files and the same token or TPM opens
// the old version or the new one, and it works: never neither. A destroyed
// item, once its Destroy has completed or been resumed, does not open
// again, not even from a copy of its blob on a backend whose erase reaches
// copies.
//
// The hardware is not reset by a power cut: a token or TPM keeps the
// objects made or destroyed before the cut. So the hardware backends make
// their old state afresh for every run (setup_each_run), and each run
// leaves behind in the token whatever the cut orphaned; the TPM backend
// releases its orphans (NV indices) at the next open, which every check
// asserts.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "keystore/file_backend.h"
#include "keystore/keystore.h"
#include "keystore/testing/backends.h"
#include "platform/crash_testing.h"
#include "platform/file.h"

namespace warden::keystore {
namespace {

namespace fs = std::filesystem;
using platform::Env;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;

std::string StoreDir(const std::string& root) { return root + "/keystore"; }

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
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(key.public_key().Verify(ToBytes("check"), *sig).ok());
}

// Opens keystores under a crash test's root on the backend named by the
// parameter. The file backend keeps its KEK and binding under the root, so
// that they go through the faults too; the hardware backends keep their
// token or TPM (and the TPM's key file, made once) in a fixture of the
// test's own, outside the root.
class KeystoreCrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "file") return;
    // In memory where there is some: the token's files are rewritten at
    // every step, and on a disk that is what the runs would wait for.
    char shm[] = "/dev/shm/warden-kscrash-XXXXXX";
    char tmp[] = "/tmp/warden-kscrash-XXXXXX";
    const char* made = mkdtemp(shm);
    if (made == nullptr) made = mkdtemp(tmp);
    ASSERT_NE(made, nullptr);
    dir_ = made;
    auto fixture = testing::MakeBackendFixture(GetParam(), dir_);
    ASSERT_TRUE(fixture.ok()) << fixture.status().ToString();
    fixture_ = std::move(*fixture);
    // The hardware's own keys are made here, not in the runs. This backend
    // stays open so that the runs' backends share its session to the
    // token (pkcs11_backend.h) rather than each logging in anew, which is
    // most of what a run would cost.
    auto backend = fixture_->NewBackend();
    ASSERT_TRUE(backend.ok()) << backend.status().ToString();
    held_ = std::move(*backend);
  }

  void TearDown() override {
    held_.reset();
    fixture_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  bool hardware() const { return fixture_ != nullptr; }
  bool erase_reaches_copies() const {
    return hardware() && fixture_->erase_reaches_copies();
  }

  Result<std::unique_ptr<Keystore>> OpenStore(Env& env,
                                              const std::string& root) {
    std::unique_ptr<Backend> backend;
    if (hardware()) {
      WARDEN_ASSIGN_OR_RETURN(backend, fixture_->NewBackend(env));
    } else {
      FileBackendOptions options;
      options.kek_path = root + "/etc/warden/kek";
      options.binding_path = root + "/machine-id";
      WARDEN_ASSIGN_OR_RETURN(backend, FileBackend::Open(env, options));
    }
    return Keystore::Open(env, StoreDir(root), std::move(backend));
  }

  std::unique_ptr<Keystore> MustOpen(const std::string& root) {
    auto store = OpenStore(platform::DefaultEnv(), root);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // No object in the hardware without a blob in the directory: what a
  // crash orphaned (in this run or an earlier one) was released when the
  // keystore opened. A blob may name nothing (a crash in Destroy after the
  // erase), so the blobs may outnumber the objects.
  void ExpectNoOrphans(Env& env, const std::string& root) {
    if (!hardware()) return;
    auto held = fixture_->VersionsHeld();
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    if (!held->has_value()) return;
    auto names = env.ListDir(StoreDir(root));
    ASSERT_TRUE(names.ok());
    size_t blobs = 0;
    for (const auto& name : *names) {
      if (name.ends_with(".cur") || name.ends_with(".new")) ++blobs;
    }
    EXPECT_LE(**held, blobs) << "objects in the hardware that no blob names";
  }

  // `test` as it runs on this backend: a state in hardware is made afresh
  // for every run.
  CrashTest OnBackend(CrashTest test) {
    test.setup_each_run = hardware();
    return test;
  }

  std::string dir_;
  std::unique_ptr<testing::BackendFixture> fixture_;
  std::unique_ptr<Backend> held_;
};

TEST_P(KeystoreCrashTest, CreatingTheFirstKeyAndSecret) {
  auto report = RunCrashTest(OnBackend(CrashTest{
      .setup = [](const std::string& root) { MakeBinding(root); },
      .workload = [this](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
        WARDEN_TRY(store->CreateSigningKey("identity").status());
        return store->Seal("verifier", ToBytes("verifier record"));
      },
      .check =
          [this](Env& env, const std::string& root, bool acknowledged) {
            auto store = OpenStore(env, root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            ExpectNoOrphans(env, root);
            ExpectOnlyItems(env, root);
            if (!hardware()) {
              auto kek_dir = env.ListDir(root + "/etc/warden");
              ASSERT_TRUE(kek_dir.ok());
              EXPECT_EQ(*kek_dir, std::vector<std::string>{"kek"});
            }
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
              // A name a crash left free can be used again.
              EXPECT_TRUE((*store)->CreateSigningKey("identity").ok());
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
  }));
  EXPECT_GT(report.power_cuts, 5);
}

// The old key's public half, from the setup of a run to its checks.
struct RotationState {
  std::optional<crypto::PublicKey> old_key;
};

TEST_P(KeystoreCrashTest, RotatingASigningKey) {
  auto state = std::make_shared<RotationState>();
  auto report = RunCrashTest(OnBackend(CrashTest{
      .setup =
          [this, state](const std::string& root) {
            MakeBinding(root);
            auto store = MustOpen(root);
            ASSERT_NE(store, nullptr);
            auto pub = store->CreateSigningKey("identity");
            ASSERT_TRUE(pub.ok()) << pub.status().ToString();
            state->old_key = *pub;
          },
      .workload = [this](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
        WARDEN_TRY(store->StageSigningKey("identity").status());
        WARDEN_ASSIGN_OR_RETURN(auto staged,
                                store->StagedSigningKey("identity"));
        WARDEN_TRY(staged.Sign(ToBytes("verify")).status());
        return store->Commit("identity");
      },
      .check =
          [this, state](Env& env, const std::string& root, bool acknowledged) {
            auto store = OpenStore(env, root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            ExpectNoOrphans(env, root);
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
              ASSERT_TRUE(committed.ok()) << committed.status().ToString();
              EXPECT_NE(committed->public_key(), *state->old_key);
              ExpectSigns(*committed);
            }
          },
  }));
  EXPECT_GT(report.power_cuts, 5);
}

TEST_P(KeystoreCrashTest, RotatingASecret) {
  auto report = RunCrashTest(OnBackend(CrashTest{
      .setup =
          [this](const std::string& root) {
            MakeBinding(root);
            auto store = MustOpen(root);
            ASSERT_NE(store, nullptr);
            ASSERT_TRUE(store->Seal("data-key", ToBytes("old")).ok());
          },
      .workload = [this](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
        WARDEN_TRY(store->StageSecret("data-key", ToBytes("new")));
        WARDEN_ASSIGN_OR_RETURN(auto staged, store->UnsealStaged("data-key"));
        if (ToString(staged.view()) != "new") return InternalError("staged");
        return store->Commit("data-key");
      },
      .check =
          [this](Env& env, const std::string& root, bool acknowledged) {
            auto store = OpenStore(env, root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            ExpectNoOrphans(env, root);
            auto secret = (*store)->Unseal("data-key");
            ASSERT_TRUE(secret.ok())
                << "the secret is lost: " << secret.status().ToString();
            const std::string value = ToString(secret->view());
            if (acknowledged) {
              EXPECT_EQ(value, "new");
              EXPECT_FALSE(*(*store)->Pending("data-key"));
            } else {
              EXPECT_TRUE(value == "old" || value == "new") << value;
            }
            if (*(*store)->Pending("data-key")) {
              EXPECT_EQ(value, "old");
              auto staged = (*store)->UnsealStaged("data-key");
              ASSERT_TRUE(staged.ok()) << staged.status().ToString();
              EXPECT_EQ(ToString(staged->view()), "new");
            }
          },
  }));
  EXPECT_GT(report.power_cuts, 5);
}

TEST_P(KeystoreCrashTest, RevertingAStagedSecret) {
  auto report = RunCrashTest(OnBackend(CrashTest{
      .setup =
          [this](const std::string& root) {
            MakeBinding(root);
            auto store = MustOpen(root);
            ASSERT_NE(store, nullptr);
            ASSERT_TRUE(store->Seal("data-key", ToBytes("old")).ok());
            ASSERT_TRUE(store->StageSecret("data-key", ToBytes("new")).ok());
          },
      .workload = [this](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
        return store->Revert("data-key");
      },
      .check =
          [this](Env& env, const std::string& root, bool acknowledged) {
            auto store = OpenStore(env, root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            ExpectNoOrphans(env, root);
            auto secret = (*store)->Unseal("data-key");
            ASSERT_TRUE(secret.ok()) << secret.status().ToString();
            EXPECT_EQ(ToString(secret->view()), "old");
            if (acknowledged) {
              EXPECT_FALSE(*(*store)->Pending("data-key"));
            }
          },
  }));
  EXPECT_GT(report.power_cuts, 2);
}

// The blobs of the item to destroy as setup left them: what a backup or an
// old flash block could give back.
struct DestroyState {
  std::string current;
  std::string staged;
};

TEST_P(KeystoreCrashTest, DestroyingAnItem) {
  auto state = std::make_shared<DestroyState>();
  auto report = RunCrashTest(OnBackend(CrashTest{
      .setup =
          [this, state](const std::string& root) {
            MakeBinding(root);
            auto store = MustOpen(root);
            ASSERT_NE(store, nullptr);
            ASSERT_TRUE(store->Seal("data-key", ToBytes("old")).ok());
            ASSERT_TRUE(store->StageSecret("data-key", ToBytes("new")).ok());
            ASSERT_TRUE(store->Seal("other", ToBytes("kept")).ok());
            auto current = platform::ReadFile(StoreDir(root) + "/data-key.cur",
                                              kMaxBlobSize);
            auto staged = platform::ReadFile(StoreDir(root) + "/data-key.new",
                                             kMaxBlobSize);
            ASSERT_TRUE(current.ok() && staged.ok());
            state->current = *current;
            state->staged = *staged;
          },
      .workload = [this](Env& env, const std::string& root) -> Status {
        WARDEN_ASSIGN_OR_RETURN(auto store, OpenStore(env, root));
        return store->Destroy("data-key");
      },
      .check =
          [this, state](Env& env, const std::string& root, bool acknowledged) {
            auto store = OpenStore(env, root);
            ASSERT_TRUE(store.ok()) << store.status().ToString();
            ExpectNoOrphans(env, root);
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
            if (!acknowledged) {
              // The owner asks again; what is left of the item goes.
              Status again = (*store)->Destroy("data-key");
              EXPECT_TRUE(again.ok() || again.code() == Code::kNotFound)
                  << again.ToString();
              EXPECT_EQ((*store)->Unseal("data-key").status().code(),
                        Code::kNotFound);
              EXPECT_FALSE(*(*store)->Pending("data-key"));
              ExpectOnlyItems(env, root);
            }
            if (erase_reaches_copies()) {
              // The blobs put back from a copy: the token no longer holds
              // what opens them.
              ASSERT_TRUE(platform::WriteFileAtomic(
                              env, StoreDir(root) + "/data-key.cur",
                              state->current, 0600)
                              .ok());
              ASSERT_TRUE(platform::WriteFileAtomic(
                              env, StoreDir(root) + "/data-key.new",
                              state->staged, 0600)
                              .ok());
              EXPECT_EQ((*store)->Unseal("data-key").status().code(),
                        Code::kNotFound);
              EXPECT_EQ((*store)->UnsealStaged("data-key").status().code(),
                        Code::kNotFound);
              ASSERT_TRUE((*store)->Destroy("data-key").ok());
            }
          },
  }));
  EXPECT_GT(report.power_cuts, 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, KeystoreCrashTest,
                         ::testing::ValuesIn(testing::BackendNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace warden::keystore
