// Test only (target warden_keystore_testing): a software TPM 2.0 (swtpm)
// of the test's own, on loopback, with its state in a directory the test
// names; stopped by its pid when the object goes.
#ifndef WARDEN_KEYSTORE_TESTING_SWTPM_H_
#define WARDEN_KEYSTORE_TESTING_SWTPM_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace warden::keystore::testing {

class TestSwtpm {
 public:
  // Starts swtpm with its state in `state_dir` (made when absent; an empty
  // one is a fresh TPM with seeds of its own). kUnavailable when swtpm is
  // missing or does not start: a test that needs it fails.
  static Result<std::unique_ptr<TestSwtpm>> Start(const std::string& state_dir);
  ~TestSwtpm();
  TestSwtpm(const TestSwtpm&) = delete;
  TestSwtpm& operator=(const TestSwtpm&) = delete;

  // The TCTI that reaches it ("swtpm:host=127.0.0.1,port=P").
  std::string tcti() const;

 private:
  TestSwtpm(pid_t pid, uint16_t port) : pid_(pid), port_(port) {}
  pid_t pid_;
  uint16_t port_;
};

}  // namespace warden::keystore::testing

#endif  // WARDEN_KEYSTORE_TESTING_SWTPM_H_
