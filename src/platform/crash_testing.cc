#include "platform/crash_testing.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "platform/fault_injection_env.h"

namespace warden::platform::testing {
namespace {

namespace fs = std::filesystem;

// The old state under `root`: a copy of `pristine`, or made by setup.
void Fresh(const CrashTest& test, const std::string& pristine,
           const std::string& root) {
  fs::remove_all(root);
  if (test.setup_each_run) {
    fs::create_directory(root);
    test.setup(root);
  } else {
    fs::copy(pristine, root, fs::copy_options::recursive);
  }
}

bool Long() {
  const char* v = std::getenv("WARDEN_CRASH_LONG");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace

CrashTestReport RunCrashTest(const CrashTest& test) {
  CrashTestReport report;
  // The disk's own durability plays no part (the Env models it), so memory
  // will do where there is some: many runs make and remove many files.
  char shm[] = "/dev/shm/warden-crash-XXXXXX";
  char tmp[] = "/tmp/warden-crash-XXXXXX";
  const char* made = ::mkdtemp(shm);
  if (made == nullptr) made = ::mkdtemp(tmp);
  if (made == nullptr) {
    ADD_FAILURE() << "cannot make a temporary directory";
    return report;
  }
  const std::string base = made;
  const std::string pristine = base + "/pristine";
  const std::string root = base + "/root";
  fs::create_directory(pristine);
  if (!test.setup_each_run) test.setup(pristine);

  for (FaultInjectionEnv::Op op : FaultInjectionEnv::kAllOps) {
    for (int n = 1; n <= test.max_points_per_kind; ++n) {
      Fresh(test, pristine, root);
      FaultInjectionEnv env(DefaultEnv(), root);
      env.FailNth(op, n);
      Status st = test.workload(env, root);
      if (!env.fault_happened()) break;
      ++report.fault_points;
      SCOPED_TRACE(std::string("operation ") + FaultInjectionEnv::OpName(op) +
                   " number " + std::to_string(n) + " failed; the change " +
                   (st.ok() ? "was acknowledged" : "said " + st.ToString()));
      {
        SCOPED_TRACE("as the program finds it");
        test.check(env, root, st.ok());
      }
      {
        SCOPED_TRACE("after a power cut");
        env.CutPower();
        env.Restart();
        test.check(env, root, st.ok());
      }
      // The long run also cuts the power at every point of what the
      // program does after the failure (cleaning up, going on).
      for (int m = 0; Long() && !::testing::Test::HasFailure(); ++m) {
        Fresh(test, pristine, root);
        FaultInjectionEnv after(DefaultEnv(), root);
        after.FailNth(op, n);
        after.CutPowerAfter(m);
        Status then = test.workload(after, root);
        const bool cut = after.power_is_off();
        if (!cut) break;
        after.Restart();
        ++report.power_cuts;
        SCOPED_TRACE("and the power was cut after " + std::to_string(m) +
                     " more modifications");
        test.check(after, root, then.ok());
      }
      if (::testing::Test::HasFailure()) {
        fs::remove_all(base);
        return report;
      }
    }
  }

  for (int n = 0;; ++n) {
    Fresh(test, pristine, root);
    FaultInjectionEnv env(DefaultEnv(), root);
    env.CutPowerAfter(n);
    Status st = test.workload(env, root);
    const bool cut = env.fault_happened();
    if (!cut) env.CutPower();
    env.Restart();
    ++report.power_cuts;
    SCOPED_TRACE(
        cut ? "the power was cut after " + std::to_string(n) +
                  " modifications; the change said " + st.ToString()
            : std::string("the power was cut once the change ") +
                  (st.ok() ? "was acknowledged" : "failed: " + st.ToString()));
    test.check(env, root, st.ok());
    if (!cut || ::testing::Test::HasFailure()) break;
  }
  fs::remove_all(base);
  std::printf("crash test: %d failed operations, %d power cuts\n",
              report.fault_points, report.power_cuts);
  return report;
}

}  // namespace warden::platform::testing
