#include "update/boot_control.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "platform/file.h"

namespace warden::update {
namespace {

class BootControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/warden-boot-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    store_ = std::make_unique<FileBootEnv>(platform::DefaultEnv(), dir_);
    ASSERT_TRUE(store_->Store(FactoryBootVars(2)).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Slot Boot() {
    auto d = SimulateBoot(*store_);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? d->slot : Slot::kA;
  }

  std::string dir_;
  std::unique_ptr<FileBootEnv> store_;
};

TEST_F(BootControlTest, FactoryDeviceBootsTheCommittedSlotWithoutCounting) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Boot(), Slot::kA);
  BootControl boot(*store_, Slot::kA);
  auto s = boot.Read();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->committed, Slot::kA);
  EXPECT_FALSE(s->trial.has_value());
  EXPECT_EQ(s->bootcount, 0);
  EXPECT_FALSE(s->fell_back);
}

TEST_F(BootControlTest, TrialBootsTheNewSlotThenCommits) {
  BootControl from_a(*store_, Slot::kA);
  ASSERT_TRUE(from_a.MarkTrial(Slot::kB).ok());
  EXPECT_EQ(Boot(), Slot::kB);
  BootControl on_b(*store_, Slot::kB);
  auto s = on_b.Read();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->trial, Slot::kB);
  EXPECT_EQ(s->bootcount, 1);
  EXPECT_EQ(s->committed, Slot::kA);
  ASSERT_TRUE(on_b.CommitBooted().ok());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Boot(), Slot::kB);
  s = on_b.Read();
  EXPECT_EQ(s->committed, Slot::kB);
  EXPECT_FALSE(s->trial.has_value());
}

TEST_F(BootControlTest, BootStepFallsBackOnceTheCountPassesTheLimit) {
  BootControl from_a(*store_, Slot::kA);
  ASSERT_TRUE(from_a.MarkTrial(Slot::kB).ok());
  // bootlimit 2: two attempts at B, never committed, then A for good.
  EXPECT_EQ(Boot(), Slot::kB);
  EXPECT_EQ(Boot(), Slot::kB);
  auto d = SimulateBoot(*store_);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->slot, Slot::kA);
  EXPECT_TRUE(d->fell_back);
  EXPECT_EQ(Boot(), Slot::kA);
  BootControl back(*store_, Slot::kA);
  auto s = back.Read();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->fell_back);
  EXPECT_FALSE(s->trial.has_value());
  ASSERT_TRUE(back.CancelTrial().ok());
  EXPECT_FALSE(back.Read()->fell_back);
}

TEST_F(BootControlTest, TrialOfTheCommittedSlotIsRefused) {
  BootControl from_a(*store_, Slot::kA);
  EXPECT_EQ(from_a.MarkTrial(Slot::kA).code(), Code::kFailedPrecondition);
  // Running B (not committed) may not mark anything.
  BootControl from_b(*store_, Slot::kB);
  EXPECT_EQ(from_b.MarkTrial(Slot::kB).code(), Code::kFailedPrecondition);
  EXPECT_EQ(Boot(), Slot::kA);
}

TEST_F(BootControlTest, DamagedEnvironmentIsDataLoss) {
  for (const char* bad :
       {"warden_committed=C\nwarden_slot=A\nupgrade_available=0\nbootcount=0\n"
        "bootlimit=3\n",
        "warden_committed=A\nwarden_slot=A\nupgrade_available=2\nbootcount=0\n"
        "bootlimit=3\n",
        "warden_committed=A\nwarden_slot=A\nupgrade_available=0\nbootcount=x\n"
        "bootlimit=3\n",
        "warden_committed=A\nwarden_slot=A\nupgrade_available=0\n",
        "warden_committed=A\nwarden_committed=B\n", "no equals sign\n",
        "bootcount=0"}) {
    ASSERT_TRUE(platform::WriteFileAtomic(platform::JoinPath(dir_, "bootenv"),
                                          bad, 0600)
                    .ok());
    EXPECT_EQ(SimulateBoot(*store_).status().code(), Code::kDataLoss) << bad;
  }
}

}  // namespace
}  // namespace warden::update
