// The `warden` binary against the real device (src/api/testing): how the
// owner hands it the setup code, what it prints, and its exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "api/testing/test_device.h"
#include "cli/testing/run_cli.h"
#include "client/registry.h"
#include "schema/json.h"

namespace warden::cli {
namespace {

using api::testing::TestDevice;
using cli::testing::ExpectOneLineError;
using cli::testing::RunBinary;
using cli::testing::RunResult;

class CliDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    dir_ = ::testing::TempDir() + "warden-cli-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    home_ = dir_ + "/home";
    auto device = TestDevice::Start();
    ASSERT_TRUE(device.ok()) << device.status().ToString();
    device_ = std::move(device).value();
  }
  void TearDown() override {
    device_.reset();
    std::filesystem::remove_all(dir_);
  }

  RunResult Owner(std::vector<std::string> args,
                  const std::string& stdin_text = "") {
    args.insert(args.begin(), {"--home", home_});
    return RunBinary(WARDEN_BIN, args, stdin_text, dir_);
  }

  std::string CodeFile(const std::string& code) {
    std::string path = dir_ + "/code";
    std::ofstream(path) << code << "\n";
    return path;
  }

  size_t Registered() {
    return client::Registry::Load(home_).value().devices().size();
  }

  std::string dir_;
  std::string home_;
  std::unique_ptr<TestDevice> device_;
};

TEST_F(CliDeviceTest, PairWithTheCodeFromAFileThenShareAndReset) {
  // The code from a file, the password from standard input.
  RunResult pair = Owner(
      {"pair", device_->url(), "--code-file", CodeFile(device_->manual_code()),
       "--name", "living-room", "--owner", "alice", "--password-stdin"},
      "a long owner password\n");
  ASSERT_EQ(pair.exit_code, 0) << pair.err;
  EXPECT_EQ(pair.out, "paired with " + device_->serial() +
                          " (Thermo Test) as living-room; the device knows "
                          "you as alice\n");
  EXPECT_EQ(pair.err, "");
  EXPECT_TRUE(device_->IsPaired().value());

  RunResult list = Owner({"status", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  schema::Json devices = schema::ParseJson(list.out, {}).value()["devices"];
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0]["fingerprint"], device_->fingerprint());
  EXPECT_EQ(devices[0]["url"], device_->url());

  // Owner verbs reach the device; without its app, state is unavailable,
  // reported in one line.
  ExpectOneLineError(Owner({"set", "living-room", "setpoint", "21.5"}), 1,
                     "device refused setpoint: ");

  RunResult share = Owner({"share", "living-room", "--minutes", "5", "--json"});
  ASSERT_EQ(share.exit_code, 0) << share.err;
  EXPECT_TRUE(
      schema::ParseJson(share.out, {}).value()["open_until"].is_number());

  RunResult reset = Owner({"reset", "living-room", "--yes", "--json"});
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_EQ(schema::ParseJson(reset.out, {}).value()["paired"], false);
  EXPECT_FALSE(device_->IsPaired().value());
  EXPECT_EQ(Registered(), 0u);
}

TEST_F(CliDeviceTest, TheCodeFromStandardInputPairs) {
  RunResult pair = Owner({"pair", device_->url(), "--code", "-", "--json"},
                         device_->manual_code() + "\n");
  ASSERT_EQ(pair.exit_code, 0) << pair.err;
  EXPECT_EQ(pair.err, "");
  schema::Json j = schema::ParseJson(pair.out, {}).value();
  EXPECT_EQ(j["serial"], device_->serial());
  EXPECT_EQ(j["fingerprint"], device_->fingerprint());
}

TEST_F(CliDeviceTest, TheCodeOnTheCommandLineStillPairsWithAWarning) {
  // The 8-digit form, leading zeros kept.
  char passcode[16];
  std::snprintf(passcode, sizeof(passcode), "%08u", device_->passcode());
  RunResult pair = Owner({"pair", device_->url(), "--code", passcode});
  ASSERT_EQ(pair.exit_code, 0) << pair.err;
  EXPECT_NE(pair.err.find("warden: warning: "), std::string::npos);
  EXPECT_NE(pair.err.find("process list"), std::string::npos) << pair.err;
  EXPECT_TRUE(device_->IsPaired().value());
}

TEST_F(CliDeviceTest, AWrongCodeIsOneLineAndTheDeviceStaysUnpaired) {
  std::string wrong = device_->passcode() == 12345670 ? "12345671" : "12345670";
  RunResult pair =
      Owner({"pair", device_->url(), "--code-file", CodeFile(wrong)});
  ExpectOneLineError(pair, 1, "the setup code is wrong");
  EXPECT_NE(pair.err.find("the device refused it too"), std::string::npos);
  EXPECT_FALSE(device_->IsPaired().value());
  EXPECT_GE(device_->CountEvents("pairing_failed"), 1);
}

TEST_F(CliDeviceTest, AMissingCodeFileFailsBeforeConnecting) {
  RunResult pair =
      Owner({"pair", device_->url(), "--code-file", dir_ + "/nothere"});
  ExpectOneLineError(pair, 1, "nothere");
  ASSERT_TRUE(device_->WaitForIdle());
  EXPECT_EQ(device_->wire().client_certificates, 0);
}

}  // namespace
}  // namespace warden::cli
