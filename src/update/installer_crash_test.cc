// Full update cycles at every fault point: download, install, trial boot,
// commit; a failing trial that rolls back; a hanging one the boot counter
// rolls back. After every interruption the device boots a slot whose bytes
// match the hash recorded for it (one of the two known images), and
// driving the state machine on finishes the update or rolls it back.
#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "platform/crash_testing.h"
#include "platform/file.h"
#include "update/installer.h"
#include "update/testing/sim_device.h"

namespace warden::update {
namespace {

using platform::Env;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;
using testing::MakeTarget;
using testing::SimDevice;

std::string Image(size_t size, int seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    s[i] = static_cast<char>((i * 31 + seed * 101 + (i >> 9)) & 0xff);
  }
  return s;
}

// Three checkpoints of 4096 bytes and a bit.
const std::string kOld = Image(9000, 1);
const std::string kNew = Image(3 * 4096 + 700, 2);

enum class Trial { kHealthy, kSick, kHangs };

Status Health(Trial t) {
  return t == Trial::kSick ? UnavailableError("app does not answer")
                           : Status::Ok();
}

std::string Sha256Hex(const std::string& s) {
  return HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(s)));
}

// One start of the device: boots, checks that what booted is verified, and
// does what the installer says. Returns the installer's phase.
void BootAndCheck(SimDevice& d) {
  Status on = d.PowerOn();
  ASSERT_TRUE(on.ok()) << on.ToString();
  const Slot s = d.last_boot().slot;
  auto content = d.SlotContent(s);
  ASSERT_TRUE(content.ok()) << "booted slot " << SlotName(s) << " unreadable";
  const std::string recorded =
      d.installer().state().slot_sha256[static_cast<int>(s)];
  ASSERT_EQ(Sha256Hex(*content), recorded)
      << "booted slot " << SlotName(s) << " does not match its recorded hash";
  ASSERT_TRUE(*content == kOld || *content == kNew)
      << "booted slot " << SlotName(s) << " holds neither image";
}

// Drives the device from whatever state it is in to the end of the update:
// reboots (each boot checked) until the installer has nothing left to do.
void DriveToTheEnd(Env& env, const std::string& root, Trial trial,
                   bool offer_when_idle) {
  SimDevice d(env, root);
  const Target t = MakeTarget(kNew, "1.1.0");
  for (int start = 0; start < 12; ++start) {
    BootAndCheck(d);
    if (::testing::Test::HasFatalFailure()) return;
    if (trial == Trial::kHangs && d.last_boot().trial) continue;
    auto next = d.installer().Resume([&] { return Health(trial); });
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    const Phase phase = d.installer().state().phase;
    if (*next == Next::kReboot) continue;
    if (*next == Next::kNothing && phase != Phase::kIdle) return;
    if (phase == Phase::kIdle && !offer_when_idle) return;
    // Idle (the offer never happened or was lost) or downloading: go on.
    Status st = d.installer().Offer(t);
    ASSERT_TRUE(st.ok()) << st.ToString();
    st = d.Download(kNew, 1000);
    ASSERT_TRUE(st.ok()) << st.ToString();
    st = d.installer().MarkForTrial();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  ADD_FAILURE() << "the update did not finish in 12 starts";
}

// Reads the end state on a healthy start.
struct EndState {
  Slot booted;
  Phase phase;
  std::string committed_version, floor;
};

EndState Look(Env& env, const std::string& root) {
  SimDevice d(env, root);
  EXPECT_TRUE(d.PowerOn().ok());
  return {d.last_boot().slot, d.installer().state().phase,
          d.installer().state().committed_version,
          d.installer().VersionFloor().value_or("?")};
}

CrashTest Cycle(Trial trial) {
  CrashTest t;
  t.setup = [](const std::string& root) {
    ASSERT_TRUE(testing::MakeDevice(platform::DefaultEnv(), root, kOld).ok());
  };
  t.workload = [trial](Env& env, const std::string& root) -> Status {
    SimDevice d(env, root);
    WARDEN_TRY(d.PowerOn());
    WARDEN_TRY(d.Stage(MakeTarget(kNew, "1.1.0"), kNew));
    for (int start = 0; start < 6; ++start) {
      WARDEN_TRY(d.PowerOn());
      if (trial == Trial::kHangs && d.last_boot().trial) continue;
      WARDEN_ASSIGN_OR_RETURN(
          Next next, d.installer().Resume([&] { return Health(trial); }));
      if (next == Next::kNothing) break;
    }
    const Phase want =
        trial == Trial::kHealthy ? Phase::kCommitted : Phase::kRolledBack;
    if (d.installer().state().phase != want) {
      return InternalError(std::string("ended ") +
                           PhaseName(d.installer().state().phase));
    }
    return Status::Ok();
  };
  t.check = [trial](Env& env, const std::string& root, bool acknowledged) {
    if (acknowledged) {
      EndState e = Look(env, root);
      if (trial == Trial::kHealthy) {
        EXPECT_EQ(e.booted, Slot::kB);
        EXPECT_EQ(e.phase, Phase::kCommitted);
      } else {
        EXPECT_EQ(e.booted, Slot::kA);
        EXPECT_EQ(e.phase, Phase::kRolledBack);
      }
    }
    DriveToTheEnd(env, root, trial, /*offer_when_idle=*/true);
    if (::testing::Test::HasFatalFailure()) return;
    EndState e = Look(env, root);
    SCOPED_TRACE(std::string("ended ") + PhaseName(e.phase));
    if (trial == Trial::kHealthy) {
      EXPECT_EQ(e.booted, Slot::kB);
      EXPECT_EQ(e.phase, Phase::kCommitted);
      EXPECT_EQ(e.committed_version, "1.1.0");
      EXPECT_EQ(e.floor, "1.1.0");
    } else {
      EXPECT_EQ(e.booted, Slot::kA);
      EXPECT_EQ(e.phase, Phase::kRolledBack);
      EXPECT_EQ(e.committed_version, "1.0.0");
      EXPECT_EQ(e.floor, "1.0.0");
    }
  };
  return t;
}

TEST(InstallerCrashTest, UpdateThatCommitsEndsCommittedFromEveryFaultPoint) {
  auto report = RunCrashTest(Cycle(Trial::kHealthy));
  EXPECT_GT(report.fault_points, 60);
  EXPECT_GT(report.power_cuts, 70);
}

TEST(InstallerCrashTest, FailingTrialEndsRolledBackFromEveryFaultPoint) {
  auto report = RunCrashTest(Cycle(Trial::kSick));
  EXPECT_GT(report.fault_points, 60);
  EXPECT_GT(report.power_cuts, 70);
}

TEST(InstallerCrashTest, HangingTrialEndsRolledBackFromEveryFaultPoint) {
  auto report = RunCrashTest(Cycle(Trial::kHangs));
  EXPECT_GT(report.fault_points, 60);
  EXPECT_GT(report.power_cuts, 70);
}

}  // namespace
}  // namespace warden::update
