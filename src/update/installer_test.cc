#include "update/installer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "platform/fault_injection_env.h"
#include "platform/file.h"
#include "update/testing/sim_device.h"

namespace warden::update {
namespace {

using testing::MakeTarget;
using testing::SimDevice;
using Kind = UpdateEvent::Kind;

std::string Image(size_t size, int seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    s[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 8)) & 0xff);
  }
  return s;
}

const std::string kOld = Image(20000, 1);
const std::string kNew = Image(23456, 2);

Status Healthy() { return Status::Ok(); }
Status Sick() { return UnavailableError("the app does not answer"); }

class InstallerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/warden-update-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    root_ = dir;
    ASSERT_TRUE(testing::MakeDevice(platform::DefaultEnv(), root_, kOld).ok());
    device_ = std::make_unique<SimDevice>(platform::DefaultEnv(), root_);
    ASSERT_TRUE(device_->PowerOn().ok());
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  SimDevice& d() { return *device_; }
  Installer& in() { return device_->installer(); }

  std::string BootEnvText() {
    return *platform::ReadFile(platform::JoinPath(root_, "boot/bootenv"), 4096);
  }

  // What a refusal must leave alone.
  struct Committed {
    std::string boot_env, slot_a, floor, version;
    bool operator==(const Committed&) const = default;
  };
  Committed Snapshot() {
    return {BootEnvText(), *d().SlotContent(Slot::kA), *in().VersionFloor(),
            in().state().committed_version};
  }

  bool Saw(Kind kind, Refusal why = Refusal::kNone) {
    for (const auto& e : d().events()) {
      if (e.kind == kind && e.refusal == why) return true;
    }
    return false;
  }

  std::string root_;
  std::unique_ptr<SimDevice> device_;
};

TEST_F(InstallerTest, UpdateIsTriedAfterRebootAndCommittedWhenHealthy) {
  ASSERT_TRUE(d().Stage(MakeTarget(kNew, "1.1.0"), kNew).ok());
  EXPECT_EQ(in().state().phase, Phase::kTrialPending);
  // Still running the old slot until the reboot.
  EXPECT_EQ(*in().Resume(Healthy), Next::kReboot);
  ASSERT_TRUE(d().PowerOn().ok());
  EXPECT_TRUE(d().last_boot().trial);
  EXPECT_EQ(d().last_boot().slot, Slot::kB);
  EXPECT_EQ(*in().Resume(Healthy), Next::kNothing);
  EXPECT_EQ(in().state().phase, Phase::kCommitted);
  EXPECT_EQ(in().state().committed_version, "1.1.0");
  EXPECT_EQ(*in().VersionFloor(), "1.1.0");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(d().PowerOn().ok());
    EXPECT_EQ(d().last_boot().slot, Slot::kB);
    EXPECT_FALSE(d().last_boot().trial);
  }
  EXPECT_EQ(*d().SlotContent(Slot::kB), kNew);
  for (Kind k :
       {Kind::kAvailable, Kind::kStarted, Kind::kInstalled, Kind::kCommitted}) {
    EXPECT_TRUE(Saw(k)) << static_cast<int>(k);
  }
}

TEST_F(InstallerTest, FailedHealthCheckRollsBackToTheCommittedSlot) {
  ASSERT_TRUE(d().Stage(MakeTarget(kNew, "1.1.0"), kNew).ok());
  ASSERT_TRUE(d().PowerOn().ok());
  EXPECT_EQ(d().last_boot().slot, Slot::kB);
  EXPECT_EQ(*in().Resume(Sick), Next::kReboot);
  EXPECT_EQ(in().state().phase, Phase::kRolledBack);
  EXPECT_TRUE(Saw(Kind::kRolledBack));
  ASSERT_TRUE(d().PowerOn().ok());
  EXPECT_EQ(d().last_boot().slot, Slot::kA);
  EXPECT_EQ(*in().Resume(Healthy), Next::kNothing);
  EXPECT_EQ(*in().VersionFloor(), "1.0.0");
  EXPECT_EQ(in().state().committed_version, "1.0.0");
  EXPECT_EQ(*d().SlotContent(Slot::kA), kOld);
}

TEST_F(InstallerTest, HangingTrialRollsBackThroughTheBootCounter) {
  ASSERT_TRUE(d().Stage(MakeTarget(kNew, "1.1.0"), kNew).ok());
  // The new system hangs before its health check: the watchdog resets it,
  // bootlimit (3) times.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(d().PowerOn().ok());
    EXPECT_EQ(d().last_boot().slot, Slot::kB);
  }
  ASSERT_TRUE(d().PowerOn().ok());
  EXPECT_EQ(d().last_boot().slot, Slot::kA);
  EXPECT_TRUE(d().last_boot().fell_back);
  EXPECT_EQ(*in().Resume(Healthy), Next::kNothing);
  EXPECT_EQ(in().state().phase, Phase::kRolledBack);
  EXPECT_TRUE(Saw(Kind::kRolledBack));
  EXPECT_EQ(*in().VersionFloor(), "1.0.0");
  ASSERT_TRUE(d().PowerOn().ok());
  EXPECT_EQ(d().last_boot().slot, Slot::kA);
  EXPECT_FALSE(d().boot().Read()->fell_back);
  // A newer release may be tried after the rollback.
  const std::string fixed = Image(22222, 3);
  ASSERT_TRUE(d().Stage(MakeTarget(fixed, "1.1.1"), fixed).ok());
  ASSERT_TRUE(d().PowerOn().ok());
  EXPECT_EQ(*in().Resume(Healthy), Next::kNothing);
  EXPECT_EQ(in().state().committed_version, "1.1.1");
}

TEST_F(InstallerTest, TooManyBytesFailAtTheFirstByteOver) {
  Committed before = Snapshot();
  Target t = MakeTarget(kNew, "1.1.0");
  ASSERT_TRUE(in().Offer(t).ok());
  auto w = in().OpenSlotWriter();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(AsBytes(kNew)).ok());
  Status st = (*w)->Write(AsBytes("x"));
  EXPECT_EQ(st.code(), Code::kResourceExhausted);
  EXPECT_TRUE(Saw(Kind::kRefused, Refusal::kTooManyBytes));
  EXPECT_EQ(in().state().phase, Phase::kIdle);
  EXPECT_EQ(*platform::ReadFile(d().slot_path(Slot::kB), 1 << 20), kNew)
      << "the byte over the length was written";
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(InstallerTest, ChunkThatRunsPastTheLengthIsNotWritten) {
  Target t = MakeTarget(kNew, "1.1.0");
  ASSERT_TRUE(in().Offer(t).ok());
  auto w = in().OpenSlotWriter();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(AsBytes(kNew).first(kNew.size() - 10)).ok());
  std::string over = kNew.substr(kNew.size() - 10) + "y";
  EXPECT_EQ((*w)->Write(AsBytes(over)).code(), Code::kResourceExhausted);
  EXPECT_EQ(platform::ReadFile(d().slot_path(Slot::kB), 1 << 20)->size(),
            kNew.size() - 10);
}

TEST_F(InstallerTest, ShortImageIsRefusedAsTheWrongLength) {
  Committed before = Snapshot();
  ASSERT_TRUE(in().Offer(MakeTarget(kNew, "1.1.0")).ok());
  Status st = d().Download(kNew.substr(0, kNew.size() - 1));
  EXPECT_EQ(st.code(), Code::kIntegrity);
  EXPECT_TRUE(Saw(Kind::kRefused, Refusal::kWrongLength));
  EXPECT_EQ(in().state().phase, Phase::kIdle);
  EXPECT_EQ(in().MarkForTrial().code(), Code::kFailedPrecondition);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(InstallerTest, WrongSha256IsRefusedAndNeverTried) {
  Committed before = Snapshot();
  Target t = MakeTarget(kNew, "1.1.0");
  t.sha512_hex.clear();
  ASSERT_TRUE(in().Offer(t).ok());
  std::string tampered = kNew;
  tampered[12345] ^= 1;
  EXPECT_EQ(d().Download(tampered).code(), Code::kIntegrity);
  EXPECT_TRUE(Saw(Kind::kRefused, Refusal::kWrongHash));
  EXPECT_EQ(in().MarkForTrial().code(), Code::kFailedPrecondition);
  EXPECT_EQ(in().state().slot_sha256[1], "");
  EXPECT_EQ(Snapshot(), before);
  ASSERT_TRUE(d().PowerOn().ok());
  EXPECT_EQ(d().last_boot().slot, Slot::kA);
}

TEST_F(InstallerTest, WrongSha512IsRefusedToo) {
  Target t = MakeTarget(kNew, "1.1.0");
  t.sha256_hex.clear();
  ASSERT_TRUE(in().Offer(t).ok());
  std::string tampered = kNew;
  tampered[0] ^= 0x80;
  EXPECT_EQ(d().Download(tampered).code(), Code::kIntegrity);
  EXPECT_TRUE(Saw(Kind::kRefused, Refusal::kWrongHash));
  EXPECT_EQ(in().state().phase, Phase::kIdle);
}

TEST_F(InstallerTest, OlderOrSameVersionIsRefusedAsRollback) {
  ASSERT_TRUE(d().Stage(MakeTarget(kNew, "1.10.0"), kNew).ok());
  ASSERT_TRUE(d().PowerOn().ok());
  ASSERT_EQ(*in().Resume(Healthy), Next::kNothing);
  Committed before = Snapshot();
  const std::string older = Image(1000, 9);
  for (const char* v : {"1.9.9", "1.10", "1.0.0", "0.99"}) {
    d().events().clear();
    EXPECT_EQ(in().Offer(MakeTarget(older, v)).code(), Code::kRollback) << v;
    EXPECT_TRUE(Saw(Kind::kRefused, Refusal::kOlderVersion)) << v;
    EXPECT_EQ(in().state().phase, Phase::kCommitted);
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_TRUE(in().Offer(MakeTarget(older, "1.10.1")).ok());
}

TEST_F(InstallerTest, FloorHoldsEvenWhenTheStateForgetsTheCommittedVersion) {
  ASSERT_TRUE(d().Stage(MakeTarget(kNew, "2.0"), kNew).ok());
  ASSERT_TRUE(d().PowerOn().ok());
  ASSERT_EQ(*in().Resume(Healthy), Next::kNothing);
  // The state file lost (the floor is kept on its own).
  ASSERT_TRUE(
      platform::RemoveFile(platform::JoinPath(root_, "state/update.state"))
          .ok());
  ASSERT_TRUE(d().PowerOn().ok());
  EXPECT_EQ(in().Offer(MakeTarget(kOld, "1.5")).code(), Code::kRollback);
}

TEST_F(InstallerTest, WrongHardwareIsRefused) {
  Committed before = Snapshot();
  Target t = MakeTarget(kNew, "1.1.0");
  t.hardware_model = "thermostat-rev1";
  EXPECT_EQ(in().Offer(t).code(), Code::kPermissionDenied);
  EXPECT_TRUE(Saw(Kind::kRefused, Refusal::kWrongHardware));
  EXPECT_EQ(in().state().phase, Phase::kIdle);
  EXPECT_EQ(in().OpenSlotWriter().status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(InstallerTest, RunningVersionBelowTheTargetsMinimumIsRefused) {
  Committed before = Snapshot();
  EXPECT_EQ(in().Offer(MakeTarget(kNew, "2.0.0", "1.5.0")).code(),
            Code::kFailedPrecondition);
  EXPECT_TRUE(Saw(Kind::kRefused, Refusal::kBelowMinimumFrom));
  EXPECT_EQ(in().state().phase, Phase::kIdle);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_TRUE(in().Offer(MakeTarget(kNew, "2.0.0", "1.0")).ok());
}

TEST_F(InstallerTest, MalformedTargetIsRefused) {
  Target t = MakeTarget(kNew, "1.1.0-rc1");
  EXPECT_EQ(in().Offer(t).code(), Code::kInvalidArgument);
  EXPECT_TRUE(Saw(Kind::kRefused, Refusal::kBadTarget));
  t = MakeTarget(kNew, "1.1.0");
  t.sha256_hex = "ABCD";
  EXPECT_EQ(in().Offer(t).code(), Code::kInvalidArgument);
  t = MakeTarget(kNew, "1.1.0");
  t.sha256_hex.clear();
  t.sha512_hex.clear();
  EXPECT_EQ(in().Offer(t).code(), Code::kInvalidArgument);
}

TEST_F(InstallerTest, DownloadResumesAfterAPowerCutFromWhatWasDurable) {
  Target t = MakeTarget(kNew, "1.1.0");
  uint64_t resumed_at = 0;
  {
    platform::FaultInjectionEnv env(platform::DefaultEnv(), root_);
    SimDevice dev(env, root_);
    ASSERT_TRUE(dev.PowerOn().ok());
    ASSERT_TRUE(dev.installer().Offer(t).ok());
    auto w = dev.installer().OpenSlotWriter();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(AsBytes(kNew).first(15000)).ok());
    ASSERT_TRUE((*w)->Write(AsBytes(kNew).subspan(15000, 1000)).ok());
    env.CutPower();
    env.Restart();
    SimDevice again(env, root_);
    ASSERT_TRUE(again.PowerOn().ok());
    EXPECT_EQ(*again.installer().Resume(Healthy), Next::kDownload);
    ASSERT_TRUE(again.installer().Offer(t).ok());
    auto w2 = again.installer().OpenSlotWriter();
    ASSERT_TRUE(w2.ok());
    resumed_at = (*w2)->offset();
    // Synced at the 4096-byte checkpoints: at most one chunk is lost.
    EXPECT_GE(resumed_at, 16000u - 4096u);
    EXPECT_LE(resumed_at, 16000u);
    ASSERT_TRUE(
        (*w2)
            ->Write(AsBytes(kNew).subspan(static_cast<size_t>(resumed_at)))
            .ok());
    // The digest covers the bytes from before the cut, hashed again.
    ASSERT_TRUE(again.installer().FinishDownload(**w2).ok());
    ASSERT_TRUE(again.installer().MarkForTrial().ok());
  }
  ASSERT_TRUE(d().PowerOn().ok());
  EXPECT_EQ(d().last_boot().slot, Slot::kB);
  EXPECT_EQ(*in().Resume(Healthy), Next::kNothing);
  EXPECT_EQ(*d().SlotContent(Slot::kB), kNew);
}

TEST_F(InstallerTest, ServerIgnoringTheRangeRestartsTheDownload) {
  Target t = MakeTarget(kNew, "1.1.0");
  ASSERT_TRUE(in().Offer(t).ok());
  auto w = in().OpenSlotWriter();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(AsBytes("garbage that is not the image")).ok());
  ASSERT_TRUE((*w)->Restart().ok());
  EXPECT_EQ((*w)->offset(), 0u);
  ASSERT_TRUE((*w)->Write(AsBytes(kNew)).ok());
  EXPECT_TRUE(in().FinishDownload(**w).ok());
}

// The shape of net::DownloadSink, without this layer depending on net/.
class FakeSink {
 public:
  virtual ~FakeSink() = default;
  virtual uint64_t offset() const = 0;
  virtual Status Write(ByteView bytes) = 0;
  virtual Status Restart() = 0;
};

TEST_F(InstallerTest, WriterPlugsIntoADownloadSinkInterface) {
  ASSERT_TRUE(in().Offer(MakeTarget(kNew, "1.1.0")).ok());
  auto w = in().OpenSlotWriter();
  ASSERT_TRUE(w.ok());
  AsDownloadSink<FakeSink> adapter(**w);
  FakeSink& sink = adapter;
  EXPECT_EQ(sink.offset(), 0u);
  for (size_t off = 0; off < kNew.size(); off += 16384) {
    ASSERT_TRUE(sink.Write(AsBytes(kNew).subspan(
                               off, std::min<size_t>(16384, kNew.size() - off)))
                    .ok());
  }
  EXPECT_EQ(sink.offset(), kNew.size());
  EXPECT_TRUE(in().FinishDownload(**w).ok());
}

}  // namespace
}  // namespace warden::update
