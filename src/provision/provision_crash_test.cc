// Provisioning at every fault point: the maker's directory and a unit.
// After each, the unit's directory is absent or complete (and wardend can
// load it), the maker's directory loads, and no unit exists whose serial
// is not recorded.
#include <gtest/gtest.h>

#include <set>

#include "platform/crash_testing.h"
#include "platform/file.h"
#include "provision/maker.h"
#include "provision/provision.h"

namespace warden::provision {
namespace {

using platform::Env;
using platform::testing::CrashTest;
using platform::testing::RunCrashTest;

MakerSettings Settings() {
  MakerSettings s;
  s.name = "Example Devices";
  s.contact = "mailto:security@example.com";
  s.policy_url = "https://example.com/security";
  s.support_years = 5;
  return s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

TEST(ProvisionCrashTest, AUnitIsProvisionedWholeOrNotAtAll) {
  FakeClock clock;
  CrashTest t;
  t.setup = [&](const std::string& root) {
    ASSERT_TRUE(InitMaker(root + "/maker", Settings(), clock).ok());
    ProvisionRequest first{"SN-0001", "Thermostat T1"};
    ASSERT_TRUE(ProvisionUnit(root + "/maker", first, root + "/unit-1", clock,
                              SystemRng())
                    .ok());
  };
  t.workload = [&](Env& env, const std::string& root) {
    ProvisionRequest req{"SN-0002", "Thermostat T1"};
    return ProvisionUnit(root + "/maker", req, root + "/unit-2", clock,
                         SystemRng(), env)
        .status();
  };
  t.check = [&](Env& env, const std::string& root, bool acknowledged) {
    auto maker = LoadMaker(root + "/maker", env);
    EXPECT_TRUE(maker.ok()) << maker.status().ToString();
    auto serials = platform::ReadFile(env, root + "/maker/serials.txt", 4096);
    ASSERT_TRUE(serials.ok()) << serials.status().ToString();
    auto lines = Lines(*serials);
    EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()).size(),
              lines.size())
        << "a serial is recorded twice: " << *serials;
    EXPECT_EQ(lines.front(), "SN-0001");
    EXPECT_TRUE(LoadDevice(root + "/unit-1").ok()) << "the earlier unit broke";

    const bool unit = platform::Exists(env, root + "/unit-2");
    if (acknowledged) {
      EXPECT_TRUE(unit) << "an acknowledged unit is gone";
    }
    if (unit) {
      auto device = LoadDevice(root + "/unit-2");
      EXPECT_TRUE(device.ok())
          << "a unit that does not load: " << device.status().ToString();
      EXPECT_EQ(lines.back(), "SN-0002") << "a unit whose serial is free";
    }
  };
  auto report = RunCrashTest(t);
  EXPECT_GT(report.fault_points, 10);
  EXPECT_GT(report.power_cuts, 20);
}

TEST(ProvisionCrashTest, AMakerDirectoryIsMadeWholeOrNotAtAll) {
  FakeClock clock;
  CrashTest t;
  t.setup = [](const std::string&) {};
  t.workload = [&](Env& env, const std::string& root) {
    return InitMaker(root + "/maker", Settings(), clock, env);
  };
  t.check = [&](Env& env, const std::string& root, bool acknowledged) {
    const bool made = platform::Exists(env, root + "/maker");
    if (acknowledged) {
      EXPECT_TRUE(made);
    }
    if (made) {
      auto maker = LoadMaker(root + "/maker", env);
      EXPECT_TRUE(maker.ok()) << "a maker directory that does not load: "
                              << maker.status().ToString();
    }
    // It can be made (again) whatever happened.
    if (!made) {
      Status again = InitMaker(root + "/maker", Settings(), clock, env);
      EXPECT_TRUE(again.ok()) << again.ToString();
    }
  };
  RunCrashTest(t);
}

}  // namespace
}  // namespace warden::provision
