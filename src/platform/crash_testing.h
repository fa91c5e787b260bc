// Test only (target warden_platform_testing): runs a change once per fault
// point with a FaultInjectionEnv and checks what a crash there leaves.
//
// For every kind of operation (create, write, fsync, rename, link, unlink,
// mkdir) and n = 1, 2, ... as long as the change reaches it, the nth such
// operation fails with EIO; the state is checked as the still-running
// program would find it, then the power is cut and it is checked again.
// Then, for n = 0, 1, ... modifying operations, the power is cut after the
// nth, and the state is checked after the restart; the last run cuts the
// power once the change has completed, to check that what it acknowledged
// is durable.
//
// Before each run the old state is copied afresh from what `setup` made,
// or, with `setup_each_run`, made afresh by `setup`.
//
// With WARDEN_CRASH_LONG=1 in the environment (ctest --preset crash-long),
// every failed operation is also followed by a power cut at each point of
// what the change does after it.
#ifndef WARDEN_PLATFORM_CRASH_TESTING_H_
#define WARDEN_PLATFORM_CRASH_TESTING_H_

#include <functional>
#include <string>

#include "base/status.h"
#include "platform/env.h"

namespace warden::platform::testing {

struct CrashTest {
  // Makes the old state under the directory it is given (an empty
  // directory), on the real file system.
  std::function<void(const std::string& root)> setup;
  // The change under test, on `env`, with the state under `root`. Returns
  // Ok only when it reports the change as made (acknowledged). It must
  // release every file it opened before returning.
  std::function<Status(Env& env, const std::string& root)> workload;
  // Asserts (with gtest) that the state under `root` is the old one or the
  // new one, the new one if `acknowledged`, and that it can be used: loads,
  // opens. Reads and writes through `env`.
  std::function<void(Env& env, const std::string& root, bool acknowledged)>
      check;
  // Runs `setup` on the emptied directory before every run instead of
  // copying what one setup made: for a state that lives partly outside the
  // directory (a token's objects, which the change destroys as it goes), so
  // that the files of every run match what the hardware holds.
  bool setup_each_run = false;
  // Stops a kind of fault after this many points (a safety net).
  int max_points_per_kind = 10000;
};

struct CrashTestReport {
  int fault_points = 0;  // failed operations tried
  int power_cuts = 0;    // power cuts tried
};

// Runs `test` at every fault point (see above); every failed check is a
// gtest failure naming the fault point.
CrashTestReport RunCrashTest(const CrashTest& test);

}  // namespace warden::platform::testing

#endif  // WARDEN_PLATFORM_CRASH_TESTING_H_
