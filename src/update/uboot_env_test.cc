// The libubootenv backend against environment files the test makes, named
// by an fw_env.config as on a device (two copies: redundant).
#include "update/uboot_env.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "platform/file.h"

namespace warden::update {
namespace {

constexpr size_t kEnvSize = 0x4000;

class UbootEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/warden-uboot-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    for (const char* name : {"env0", "env1"}) {
      std::ofstream(dir_ + "/" + name, std::ios::binary)
          << std::string(kEnvSize, '\xff');
    }
    config_ = dir_ + "/fw_env.config";
    std::ofstream(config_) << dir_ << "/env0 0x0 0x4000\n"
                           << dir_ << "/env1 0x0 0x4000\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_, config_;
};

TEST_F(UbootEnvTest, BlankFlashHasNoEnvironment) {
  UbootBootEnv env(config_);
  EXPECT_EQ(env.Load().status().code(), Code::kNotFound);
}

TEST_F(UbootEnvTest, StoredVariablesReadBackAndStaleOnesGo) {
  UbootBootEnv env(config_);
  BootVars vars = FactoryBootVars(3);
  vars["leftover"] = "x";
  ASSERT_TRUE(env.Store(vars).ok());
  ASSERT_TRUE(env.Store(FactoryBootVars(3)).ok());
  auto back = env.Load();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, FactoryBootVars(3));
}

TEST_F(UbootEnvTest, TrialCountsAndFallsBackInTheUbootEnvironment) {
  UbootBootEnv env(config_);
  ASSERT_TRUE(env.Store(FactoryBootVars(1)).ok());
  BootControl from_a(env, Slot::kA);
  ASSERT_TRUE(from_a.MarkTrial(Slot::kB).ok());
  auto first = SimulateBoot(env);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->slot, Slot::kB);
  EXPECT_EQ(env.Load()->at("bootcount"), "1");
  auto second = SimulateBoot(env);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->slot, Slot::kA);
  EXPECT_TRUE(second->fell_back);
  BootControl back(env, Slot::kA);
  EXPECT_TRUE(back.Read()->fell_back);
}

TEST_F(UbootEnvTest, DamagedNewerCopyLeavesTheOlderOne) {
  UbootBootEnv env(config_);
  BootVars old_vars = FactoryBootVars(3);
  ASSERT_TRUE(env.Store(old_vars).ok());
  BootVars new_vars = old_vars;
  new_vars["bootcount"] = "2";
  ASSERT_TRUE(env.Store(new_vars).ok());
  // A power cut in the middle of the second store: garble the copy it
  // wrote (the one that now holds bootcount=2).
  std::string which;
  for (const char* name : {"env0", "env1"}) {
    auto text = platform::ReadFile(dir_ + "/" + name, kEnvSize);
    ASSERT_TRUE(text.ok());
    if (text->find("bootcount=2") != std::string::npos) which = name;
  }
  ASSERT_FALSE(which.empty());
  {
    std::fstream f(dir_ + "/" + which,
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f << "garbage";
  }
  auto back = env.Load();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, old_vars);
}

}  // namespace
}  // namespace warden::update
