#include "updater/update_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "base/time_format.h"
#include "platform/file.h"
#include "tuf/error.h"
#include "tuf/testing/repository.h"
#include "update/boot_control.h"
#include "updater/fetchers.h"

namespace warden::updater {
namespace {

using tuf::testing::Repository;
using tuf::testing::Signer;

constexpr char kModel[] = "thermostat-v1";
const std::string kFactory = "#!/bin/sh\necho factory 1.0.0\n";
const std::string kNew = "#!/bin/sh\necho release 1.1.0\n";

// A device under a temporary directory: boot/ (the file boot environment
// and slots), state/ (the service's), repo/ (the published copy).
class UpdateServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/warden-updater-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    root_ = dir;
    boot_dir_ = root_ + "/boot";
    ASSERT_TRUE(platform::MakeDirs(env(), boot_dir_, 0700).ok());
    boot_env_ = std::make_unique<update::FileBootEnv>(env(), boot_dir_);
    ASSERT_TRUE(platform::WriteFileAtomic(env(),
                                          boot_env_->SlotPath(update::Slot::kA),
                                          kFactory, 0700)
                    .ok());
    ASSERT_TRUE(boot_env_->Store(update::FactoryBootVars(3)).ok());
    repo_ = std::make_unique<Repository>(clock_.Now(), true);
    repo_->AddImage(kModel, "1.0.0", kFactory, "", "2030-06-30");
    repo_->Publish({"targets"});
    factory_targets_ = repo_->files["metadata/targets.json"];
    initial_root_ = repo_->files["metadata/1.root.json"];
  }
  void TearDown() override {
    service_.reset();
    boot_.reset();
    std::filesystem::remove_all(root_);
  }
  platform::Env& env() { return platform::DefaultEnv(); }

  // Boots the simulated device and opens the service on the booted slot.
  void PowerOn() {
    service_.reset();
    auto decision = update::SimulateBoot(*boot_env_);
    ASSERT_TRUE(decision.ok());
    boot_ = std::make_unique<update::BootControl>(*boot_env_, decision->slot);
    update::InstallerOptions o;
    o.slot_paths = {boot_env_->SlotPath(update::Slot::kA),
                    boot_env_->SlotPath(update::Slot::kB)};
    o.factory_version = "1.0.0";
    o.checkpoint_bytes = 16;
    UpdateSettings s;
    s.state_dir = root_ + "/state";
    s.initial_root = initial_root_;
    s.factory_targets = factory_targets_;
    s.hardware_model = kModel;
    s.max_deferral = std::chrono::hours(72);
    auto service =
        UpdateService::Open(env(), clock_, *boot_, std::move(o), std::move(s));
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
  }

  Source Published() {
    const std::string dir = root_ + "/repo";
    std::filesystem::remove_all(dir);
    EXPECT_TRUE(repo_->WriteTo(dir).ok());
    return Source{Source::Kind::kDirectory, dir};
  }

  void Release(const std::string& version, const std::string& image,
               const std::string& min_from = "") {
    repo_->targets.targets.clear();
    repo_->AddImage(kModel, version, image, min_from, "2031-12-31");
    repo_->Publish({"targets"});
  }

  std::vector<std::string> Refusals() {
    std::vector<std::string> out;
    for (const ServiceEvent& e : service_->TakeEvents()) {
      if (e.kind == ServiceEvent::Kind::kRefused) out.push_back(e.code);
    }
    return out;
  }

  std::string SlotA() {
    return *platform::ReadFile(boot_env_->SlotPath(update::Slot::kA), 1 << 20);
  }

  FakeClock clock_;
  std::string root_, boot_dir_;
  std::unique_ptr<update::FileBootEnv> boot_env_;
  std::unique_ptr<update::BootControl> boot_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<UpdateService> service_;
  std::string initial_root_, factory_targets_;
};

TEST_F(UpdateServiceTest, InstallsCommitsAndRunsTheNewRelease) {
  PowerOn();
  ASSERT_TRUE(service_->CheckIntegrity().ok);
  Release("1.1.0", kNew);
  auto next = service_->Install(Published());
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(*next, update::Next::kReboot);
  PowerOn();
  EXPECT_EQ(boot_->booted(), update::Slot::kB);
  ASSERT_TRUE(service_->CheckIntegrity().ok) << service_->integrity().reason;
  auto resumed = service_->Resume([] { return Status::Ok(); });
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(service_->Snapshot().current_version, "1.1.0");
  EXPECT_EQ(service_->Snapshot().support_until, "2031-12-31");
}

TEST_F(UpdateServiceTest, AFailedHealthCheckRollsBackToTheOldRelease) {
  PowerOn();
  Release("1.1.0", kNew);
  ASSERT_TRUE(service_->Install(Published()).ok());
  PowerOn();
  ASSERT_EQ(boot_->booted(), update::Slot::kB);
  auto next = service_->Resume(
      [] { return UnavailableError("the app never said hello"); });
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, update::Next::kReboot);
  PowerOn();
  EXPECT_EQ(boot_->booted(), update::Slot::kA);
  EXPECT_TRUE(service_->CheckIntegrity().ok);
  EXPECT_EQ(service_->Snapshot().current_version, "1.0.0");
}

// Each attack class of the TUF client is refused through the service with
// its own code, and nothing reaches the inactive slot.
TEST_F(UpdateServiceTest, TufAttacksAreRefusedWithTheirCode) {
  PowerOn();
  struct Attack {
    const char* name;
    std::function<void(Repository&, Source&)> make;
    std::string code;
  };
  std::vector<Attack> attacks = {
      {"expired timestamp",
       [this](Repository& r, Source&) {
         r.timestamp.expires = clock_.Now() - std::chrono::hours(1);
         r.files["metadata/timestamp.json"] = r.Signed("timestamp");
       },
       "tuf/expired"},
      {"targets signed by the wrong key",
       [](Repository& r, Source&) {
         r.signers["targets"] = {tuf::testing::NewSigner()};
         r.Publish({"targets"});
       },
       "tuf/threshold"},
      {"a rolled back timestamp",
       [](Repository& r, Source&) {
         r.timestamp.version = 1;
         r.files["metadata/timestamp.json"] = r.Signed("timestamp");
       },
       "tuf/rollback"},
      {"an image with the wrong bytes",
       [](Repository& r, Source&) {
         const auto& f = r.targets.targets.at(std::string(kModel) + ".img");
         r.files["targets/" + f.hashes.at("sha256") + "." + kModel + ".img"] =
             "#!/bin/sh\necho evilbad 1.1.0\n";
       },
       "wrong_hash"},
      {"an image longer than signed",
       [](Repository& r, Source&) {
         const auto& f = r.targets.targets.at(std::string(kModel) + ".img");
         r.files["targets/" + f.hashes.at("sha256") + "." + kModel + ".img"] =
             kNew + "echo and more\n";
       },
       "too_many_bytes"},
  };
  for (const Attack& a : attacks) {
    SCOPED_TRACE(a.name);
    // A good release first, so that the rollback attack has a version to
    // roll back from.
    Release("1.0.0", kFactory);
    ASSERT_TRUE(service_->Check(Published()).ok());
    Refusals();
    Release("1.1.0", kNew);
    Source source;
    a.make(*repo_, source);
    source = Source{Source::Kind::kDirectory, root_ + "/repo"};
    std::filesystem::remove_all(source.dir);
    ASSERT_TRUE(repo_->WriteTo(source.dir).ok());
    auto next = service_->Install(source);
    EXPECT_FALSE(next.ok());
    EXPECT_EQ(Refusals(), std::vector<std::string>{a.code});
    EXPECT_NE(service_->Snapshot().phase, "trial_pending");
    // A fresh repository for the next attack, trusted from scratch.
    TearDown();
    SetUp();
    PowerOn();
  }
}

TEST_F(UpdateServiceTest, AReleaseNotNewerThanTheFloorIsNotInstalled) {
  PowerOn();
  Release("1.1.0", kNew);
  ASSERT_TRUE(service_->Install(Published()).ok());
  PowerOn();
  ASSERT_TRUE(service_->Resume([] { return Status::Ok(); }).ok());
  // The maker (or a mirror) republishes the factory release, newly signed.
  Release("1.0.0", kFactory);
  auto next = service_->Install(Published());
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, update::Next::kNothing);
  EXPECT_EQ(service_->Snapshot().phase, "committed");
  EXPECT_EQ(service_->Snapshot().current_version, "1.1.0");
}

TEST_F(UpdateServiceTest, DeferIsBoundedByTheMaximum) {
  PowerOn();
  EXPECT_FALSE(service_->Defer(73).ok());
  EXPECT_FALSE(service_->Deferred());
  ASSERT_TRUE(service_->Defer(72).ok());
  EXPECT_TRUE(service_->Deferred());
  clock_.Advance(std::chrono::hours(73));
  EXPECT_FALSE(service_->Deferred());
}

TEST_F(UpdateServiceTest, SupportEndsAfterTheLastDayOfTheRunningRelease) {
  PowerOn();
  ASSERT_TRUE(service_->CheckIntegrity().ok);
  clock_.SetWall(*ParseDate("2030-06-30") + std::chrono::hours(23));
  EXPECT_TRUE(service_->Snapshot().supported);
  service_->CheckSupport();
  EXPECT_TRUE(service_->TakeEvents().empty());
  clock_.SetWall(*ParseDate("2030-07-01"));
  EXPECT_FALSE(service_->Snapshot().supported);
  EXPECT_EQ(service_->Snapshot().support_until, "2030-06-30");
  service_->CheckSupport();
  auto events = service_->TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, ServiceEvent::Kind::kSupportEnded);
}

TEST_F(UpdateServiceTest, ATamperedSlotFailsIntegrityAndRepairRestoresIt) {
  PowerOn();
  ASSERT_TRUE(service_->CheckIntegrity().ok);
  ASSERT_TRUE(platform::WriteFileAtomic(env(),
                                        boot_env_->SlotPath(update::Slot::kA),
                                        "#!/bin/sh\necho evil 1.0.0\n", 0700)
                  .ok());
  PowerOn();
  const IntegrityState& st = service_->CheckIntegrity();
  EXPECT_FALSE(st.ok);
  auto events = service_->TakeEvents();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, ServiceEvent::Kind::kTamper);
  ASSERT_TRUE(service_->Repair(Published()).ok());
  EXPECT_TRUE(service_->integrity().ok);
  EXPECT_EQ(SlotA(), kFactory);
}

// A mirror that serves other bytes under the release's name, longer or of
// the same length, cannot get them into the slot through a repair.
TEST_F(UpdateServiceTest, ARepairFromAMirrorServingOtherBytesChangesNothing) {
  PowerOn();
  ASSERT_TRUE(service_->CheckIntegrity().ok);
  const std::string evil = "#!/bin/sh\necho evil 1.0.0\n";
  ASSERT_TRUE(platform::WriteFileAtomic(
                  env(), boot_env_->SlotPath(update::Slot::kA), evil, 0700)
                  .ok());
  PowerOn();
  ASSERT_FALSE(service_->CheckIntegrity().ok);
  std::string same_length = kFactory;
  same_length[same_length.size() - 2] = 'X';
  const std::pair<std::string, Code> cases[] = {
      {kFactory + "# and more\n", Code::kResourceExhausted},
      {same_length, Code::kIntegrity}};
  for (const auto& [served, code] : cases) {
    Source source = Published();
    int replaced = 0;
    for (const auto& e :
         std::filesystem::directory_iterator(source.dir + "/targets")) {
      if (e.path().string().ends_with("." + std::string(kModel) + ".img")) {
        ASSERT_TRUE(
            platform::WriteFileAtomic(e.path().string(), served, 0644).ok());
        ++replaced;
      }
    }
    ASSERT_EQ(replaced, 1);
    Status repaired = service_->Repair(source);
    EXPECT_FALSE(repaired.ok());
    EXPECT_EQ(repaired.code(), code) << repaired.ToString();
    EXPECT_EQ(SlotA(), evil);
    EXPECT_FALSE(std::filesystem::exists(boot_env_->SlotPath(update::Slot::kA) +
                                         ".repair"));
    EXPECT_FALSE(service_->integrity().ok);
  }
}

TEST_F(UpdateServiceTest, AFactoryImageThatDoesNotMatchItsReleaseFails) {
  ASSERT_TRUE(
      platform::WriteFileAtomic(env(), boot_env_->SlotPath(update::Slot::kA),
                                "#!/bin/sh\necho not the factory image\n", 0700)
          .ok());
  PowerOn();
  EXPECT_FALSE(service_->CheckIntegrity().ok);
}

// A local copy is read through the same Fetcher interface as HTTPS, and
// no name the TUF client builds can reach outside it.
TEST(DirFetcherTest, ServesOnlyFilesUnderItsRoot) {
  char dir[] = "/tmp/warden-dirfetch-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string root = dir;
  ASSERT_TRUE(
      platform::MakeDirs(platform::DefaultEnv(), root + "/copy/metadata", 0700)
          .ok());
  ASSERT_TRUE(
      platform::WriteFileAtomic(root + "/copy/metadata/1.root.json", "{}", 0600)
          .ok());
  ASSERT_TRUE(platform::WriteFileAtomic(root + "/secret", "key", 0600).ok());
  DirFetcher f(platform::DefaultEnv(), root + "/copy");
  EXPECT_EQ(*f.Fetch(root + "/copy/metadata/1.root.json", 100), "{}");
  for (const std::string& bad :
       {root + "/copy/../secret", root + "/copy/metadata/../../secret",
        root + "/secret", root + "/copy", root + "/copy//metadata/1.root.json",
        root + "/copyx/metadata/1.root.json"}) {
    auto got = f.Fetch(bad, 100);
    EXPECT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.status().code(), Code::kNotFound) << bad;
  }
  auto big = f.Fetch(root + "/copy/metadata/1.root.json", 1);
  EXPECT_EQ(big.status().code(), Code::kResourceExhausted);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace warden::updater
