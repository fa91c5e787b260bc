// The `warden` binary as a user runs it: exit codes, one-line errors and
// the maker flow end to end. The owner flow against a real device is in
// tests/client/cli_device_test.cc.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cli/testing/run_cli.h"
#include "crypto/testing/softhsm.h"
#include "platform/file.h"
#include "provision/testing/legacy_maker.h"
#include "schema/json.h"

namespace warden::cli {
namespace {

using testing::ExpectOneLineError;
using testing::RunBinary;
using testing::RunResult;
using testing::Slurp;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/warden_cli_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    home_ = dir_ + "/home";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RunResult Run(const std::vector<std::string>& args,
                const std::string& stdin_text = "") {
    return RunBinary(WARDEN_BIN, args, stdin_text, dir_);
  }

  // Owner commands with the test's home directory.
  RunResult Owner(std::vector<std::string> args,
                  const std::string& stdin_text = "") {
    args.insert(args.begin(), {"--home", home_});
    return Run(args, stdin_text);
  }

  std::string dir_;
  std::string home_;
};

TEST_F(CliTest, UsageErrorsExitTwoWithOneLine) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"pair"},
      {"pair", "https://127.0.0.1:8443"},
      {"pair", "https://127.0.0.1:8443", "--code", "1234"},
      {"pair", "https://127.0.0.1:8443", "--code", "11111111"},
      {"pair", "http://127.0.0.1:8443", "--code", "20202021"},
      {"pair", "https://127.0.0.1:8443", "--code", "20202021", "--name",
       "../x"},
      {"pair", "https://127.0.0.1:8443", "--code", "20202021",
       "--password-file", "f", "--password-stdin"},
      {"pair", "https://127.0.0.1:8443", "--code", "20202021", "--code-file",
       "f"},
      // The code read from standard input is checked like any other.
      {"pair", "https://127.0.0.1:8443", "--code", "-"},
      {"get", "dev"},
      {"get", "dev", "Bad-Key"},
      {"set", "dev", "k"},
      {"status", "a/b"},
      {"reset", "dev"},
      {"password", "dev"},
      {"caps"},
      {"mfg"},
      {"mfg", "init", "--dir", "d", "--name", "n"},
      {"mfg", "init", "--dir", "d", "--name", "Acme", "--contact",
       "mailto:s@a.example", "--policy", "https://a.example/p",
       "--support-years", "5", "--support-end", "2040-01-01"},
      {"mfg", "init", "--dir", "d", "--name", "Acme", "--contact",
       "mailto:s@a.example", "--policy", "https://a.example/p", "--vendor-id",
       "5"},
      {"mfg", "init", "--dir", "d", "--name", "Acme", "--contact",
       "not a contact", "--policy", "https://a.example/p"},
      {"mfg", "provision", "--maker", "m", "--serial", "x", "--model", "M",
       "--out", "o"},
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    SCOPED_TRACE(joined);
    RunResult r = Owner(args);
    ExpectOneLineError(r, 2);
    EXPECT_EQ(r.out, "");
  }
  // Nothing was created by refused maker commands.
  EXPECT_FALSE(platform::Exists("d"));
}

TEST_F(CliTest, TheCodeAndThePasswordCannotBothComeFromStandardInput) {
  RunResult r = Owner(
      {"pair", "https://127.0.0.1:8443", "--code", "-", "--password-stdin"},
      "20202021\na long owner password\n");
  ExpectOneLineError(r, 2, "cannot both read standard input");
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, WithoutATerminalTheCodeMustBeGiven) {
  RunResult r = Owner({"pair", "https://127.0.0.1:8443"}, "20202021\n");
  ExpectOneLineError(r, 2, "--code-file");
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--help"},
                                             {"mfg", "--help"},
                                             {"mfg", "init", "--help"},
                                             {"mfg", "provision", "--help"},
                                             {"pair", "--help"},
                                             {"status", "--help"},
                                             {"get", "--help"},
                                             {"set", "--help"},
                                             {"reset", "--help"},
                                             {"password", "--help"},
                                             {"caps", "--help"},
                                             {"share", "--help"},
                                             {"owners", "--help"}}) {
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << args.front();
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << r.out;
  }
  EXPECT_NE(Run({"pair", "--help"}).out.find("--code"), std::string::npos);
  EXPECT_NE(Run({"share", "--help"}).out.find("--admin"), std::string::npos);
  EXPECT_NE(Run({"owners", "--help"}).out.find("--remove"), std::string::npos);
}

std::vector<std::string> MakerInitArgs(const std::string& dir) {
  return {"mfg",       "init",
          "--dir",     dir,
          "--name",    "Acme",
          "--contact", "mailto:security@acme.example",
          "--policy",  "https://acme.example/security"};
}

std::vector<std::string> ProvisionArgs(const std::string& maker,
                                       const std::string& serial,
                                       const std::string& out) {
  return {"mfg",  "provision", "--maker",    maker,   "--serial",
          serial, "--model",   "Thermo One", "--out", out};
}

TEST_F(CliTest, MakerCaKeyInATokenNeedsItsPinFromTheEnvironment) {
  std::filesystem::create_directories(dir_ + "/hsm");
  auto token = crypto::testing::SoftHsmToken::Make(dir_ + "/hsm", "maker");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  const std::string maker = dir_ + "/maker";
  std::vector<std::string> init = MakerInitArgs(maker);
  for (const char* a :
       {"--pkcs11-module", crypto::testing::SoftHsmToken::kModule,
        "--pkcs11-token", "maker"}) {
    init.push_back(a);
  }
  ::unsetenv("WARDEN_PKCS11_PIN");
  ExpectOneLineError(Run(init), 2, "WARDEN_PKCS11_PIN");
  ::setenv("WARDEN_PKCS11_PIN", "000000", 1);
  ExpectOneLineError(Run(init), 1, "maker");
  EXPECT_FALSE(platform::Exists(maker));

  ::setenv("WARDEN_PKCS11_PIN", crypto::testing::SoftHsmToken::kPin, 1);
  RunResult made = Run(init);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_NE(made.out.find("PKCS#11 token \"maker\""), std::string::npos)
      << made.out;
  EXPECT_FALSE(platform::Exists(maker + "/ca.key"));
  EXPECT_FALSE(platform::Exists(maker + ".kek"));

  // The maker directory says where the key is; only the PIN is given.
  RunResult prov = Run(ProvisionArgs(maker, "SN-0001", dir_ + "/unit1"));
  EXPECT_EQ(prov.exit_code, 0) << prov.err;
  ::setenv("WARDEN_PKCS11_PIN", "000000", 1);
  ExpectOneLineError(Run(ProvisionArgs(maker, "SN-0002", dir_ + "/unit2")), 1,
                     "PIN");
  EXPECT_FALSE(platform::Exists(dir_ + "/unit2"));
  ::unsetenv("WARDEN_PKCS11_PIN");
  ExpectOneLineError(Run(ProvisionArgs(maker, "SN-0002", dir_ + "/unit2")), 2,
                     "WARDEN_PKCS11_PIN");
  EXPECT_EQ(Slurp(maker + "/serials.txt"), "SN-0001\n");
}

TEST_F(CliTest, ImportCaKeyMovesAClearKeyIntoTheKeystore) {
  const std::string maker = dir_ + "/maker";
  provision::MakerSettings s;
  s.name = "Acme";
  s.contact = "mailto:security@acme.example";
  s.policy_url = "https://acme.example/security";
  ASSERT_TRUE(
      provision::testing::MakeLegacyMaker(maker, s, SystemClock()).ok());
  RunResult old = Run(ProvisionArgs(maker, "SN-0001", dir_ + "/unit1"));
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_NE(old.err.find("import-ca-key"), std::string::npos) << old.err;

  RunResult moved = Run({"mfg", "import-ca-key", "--maker", maker});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_FALSE(platform::Exists(maker + "/ca.key"));
  EXPECT_TRUE(platform::Exists(maker + "/ca-key.json"));
  EXPECT_EQ(provision::testing::FileHoldingAPrivateKey(maker), "");
  RunResult after = Run(ProvisionArgs(maker, "SN-0002", dir_ + "/unit2"));
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.err, "");
  ExpectOneLineError(Run({"mfg", "import-ca-key", "--maker", maker}), 1,
                     "already");
}

TEST_F(CliTest, MakerInitAndProvisionEndToEnd) {
  std::string maker = dir_ + "/maker";
  RunResult init = Run({"mfg",           "init",
                        "--dir",         maker,
                        "--name",        "Acme",
                        "--contact",     "mailto:security@acme.example",
                        "--policy",      "https://acme.example/security",
                        "--support-end", "2035-06-30",
                        "--language",    "en",
                        "--language",    "de",
                        "--vendor-id",   "65521",
                        "--product-id",  "32769"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  // The CA key is sealed in a file keystore by default, never in clear.
  EXPECT_FALSE(platform::Exists(maker + "/ca.key"));
  EXPECT_TRUE(platform::Exists(maker + "/keystore/ca-key.cur"));
  EXPECT_TRUE(platform::Exists(maker + ".kek"));
  EXPECT_NE(init.out.find("2035-06-30"), std::string::npos);

  std::string unit = dir_ + "/unit1";
  std::string label = dir_ + "/label1";
  RunResult prov =
      Run({"mfg", "provision", "--maker", maker, "--serial", "SN-0001",
           "--model", "Thermostat T1", "--out", unit, "--firmware-version",
           "1.2.3", "--label", label, "--json"});
  ASSERT_EQ(prov.exit_code, 0) << prov.err;
  Result<schema::Json> j = schema::ParseJson(prov.out, {});
  ASSERT_TRUE(j.ok()) << prov.out;
  EXPECT_EQ((*j)["serial"], "SN-0001");
  std::string passcode = (*j)["passcode"].get<std::string>();
  std::string manual = (*j)["manual_code"].get<std::string>();
  EXPECT_EQ(passcode.size(), 8u);
  EXPECT_EQ(manual.size(), 11u);
  EXPECT_EQ((*j)["qr_payload"].get<std::string>().rfind("MT:", 0), 0u);
  EXPECT_EQ((*j)["device_dir"], unit);
  EXPECT_EQ((*j)["certificate_fingerprint"].get<std::string>().size(), 64u);
  for (const char* f : {"identity.key", "identity.crt", "ca.crt", "device.json",
                        "pairing.json"}) {
    std::string path = unit + "/" + f;
    ASSERT_TRUE(platform::Exists(path)) << f;
    std::string content = Slurp(path);
    EXPECT_EQ(content.find(passcode), std::string::npos) << f;
    EXPECT_EQ(content.find(manual), std::string::npos) << f;
  }
  EXPECT_NE(Slurp(label + "/label.txt").find("SN-0001"), std::string::npos);

  // The human form shows the code once, formatted, with a QR drawing.
  RunResult human =
      Run({"mfg", "provision", "--maker", maker, "--serial", "SN-0002",
           "--model", "Thermostat T1", "--out", dir_ + "/unit2"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("setup code"), std::string::npos);
  EXPECT_NE(human.out.find("MT:"), std::string::npos);
  EXPECT_NE(human.out.find("\xe2\x96\x88"), std::string::npos);  // a block
  EXPECT_FALSE(platform::Exists(dir_ + "/label2"));

  // The same serial twice is a failed operation, not a usage error.
  RunResult again =
      Run({"mfg", "provision", "--maker", maker, "--serial", "SN-0001",
           "--model", "Thermostat T1", "--out", dir_ + "/unit3"});
  ExpectOneLineError(again, 1);
  EXPECT_FALSE(platform::Exists(dir_ + "/unit3"));
}

TEST_F(CliTest, StatusOfAnEmptyHome) {
  RunResult r = Owner({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no paired devices"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat(home_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  RunResult j = Owner({"status", "--json"});
  EXPECT_EQ(j.exit_code, 0);
  EXPECT_EQ(schema::ParseJson(j.out, {}).value(),
            schema::Json({{"devices", schema::Json::array()}}));
  ExpectOneLineError(Owner({"get", "nothere", "setpoint"}), 1,
                     "no device named");
}

}  // namespace
}  // namespace warden::cli
