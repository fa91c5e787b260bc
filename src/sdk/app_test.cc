#include "warden/app.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace warden::sdk {
namespace {

using Json = nlohmann::json;

// Plays wardend on the other end of a socket pair.
class Peer {
 public:
  explicit Peer(int fd) : fd_(fd) {}
  ~Peer() { ::close(fd_); }
  void SendRaw(const std::string& body, uint32_t announced) {
    std::string frame(4, '\0');
    frame[0] = static_cast<char>(announced >> 24);
    frame[1] = static_cast<char>(announced >> 16);
    frame[2] = static_cast<char>(announced >> 8);
    frame[3] = static_cast<char>(announced);
    frame += body;
    ASSERT_EQ(::write(fd_, frame.data(), frame.size()),
              static_cast<ssize_t>(frame.size()));
  }
  void Send(const Json& j) {
    std::string body = j.dump();
    SendRaw(body, static_cast<uint32_t>(body.size()));
  }
  Json Receive() {
    unsigned char h[4];
    if (!ReadExact(reinterpret_cast<char*>(h), 4)) return nullptr;
    uint32_t n = (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) |
                 (uint32_t{h[2]} << 8) | uint32_t{h[3]};
    std::string body(n, '\0');
    if (!ReadExact(body.data(), n)) return nullptr;
    return Json::parse(body);
  }
  void Close() {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  bool ReadExact(char* buf, size_t n) {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::read(fd_, buf + done, n - done);
      if (r <= 0) return false;
      done += static_cast<size_t>(r);
    }
    return true;
  }
  int fd_;
};

class SdkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    peer_ = std::make_unique<Peer>(pair[0]);
    std::string error;
    app_ = App::FromFd(pair[1], &error);
    ASSERT_TRUE(app_.has_value()) << error;
    app_->Declare({"level", "a level", true, {{"type", "integer"}}});
    app_->Declare({"reading", "a reading", false, {{"type", "number"}}});
  }

  // Start with wardend's welcome already waiting.
  void StartWelcomed() {
    peer_->Send({{"type", "welcome"}, {"protocol", 1}});
    std::string error;
    ASSERT_TRUE(app_->Start("test", "1.2", &error)) << error;
    Json hello = peer_->Receive();
    EXPECT_EQ(hello["type"], "hello");
  }

  std::unique_ptr<Peer> peer_;
  std::optional<App> app_;
};

TEST_F(SdkTest, HelloCarriesDeclaredCapabilities) {
  peer_->Send({{"type", "welcome"}, {"protocol", 1}});
  std::string error;
  ASSERT_TRUE(app_->Start("test", "1.2", &error)) << error;
  Json hello = peer_->Receive();
  EXPECT_EQ(hello["type"], "hello");
  EXPECT_EQ(hello["protocol"], 1);
  EXPECT_EQ(hello["app"], "test");
  EXPECT_EQ(hello["version"], "1.2");
  ASSERT_EQ(hello["capabilities"].size(), 2u);
  EXPECT_EQ(hello["capabilities"][0],
            (Json{{"key", "level"},
                  {"description", "a level"},
                  {"writable", true},
                  {"schema", {{"type", "integer"}}}}));
}

TEST_F(SdkTest, RefusedHelloReportsWardendReason) {
  peer_->Send({{"type", "error"}, {"message", "schema does not compile"}});
  std::string error;
  EXPECT_FALSE(app_->Start("test", "1", &error));
  EXPECT_NE(error.find("schema does not compile"), std::string::npos);
}

TEST_F(SdkTest, InvalidKeyIsRefusedLocally) {
  app_->Declare({"Bad", "", false, {{"type", "number"}}});
  std::string error;
  EXPECT_FALSE(app_->Start("test", "1", &error));
  EXPECT_NE(error.find("Bad"), std::string::npos);
}

TEST_F(SdkTest, CommandsReachTheHandlerAndAreAnswered) {
  StartWelcomed();
  std::string seen_key;
  Json seen_value;
  app_->OnCommand(
      [&](const std::string& key, const Json& value, std::string* why) {
        seen_key = key;
        seen_value = value;
        if (value == 7) {
          *why = "seven is unlucky";
          return false;
        }
        return true;
      });
  peer_->Send({{"type", "command"}, {"id", 1}, {"key", "level"}, {"value", 3}});
  peer_->Send({{"type", "command"}, {"id", 2}, {"key", "level"}, {"value", 7}});
  std::string error;
  Json first, second;
  while (first.is_null()) {
    ASSERT_TRUE(app_->ProcessPending(1000, &error)) << error;
    first = peer_->Receive();
  }
  EXPECT_EQ(first, (Json{{"type", "result"}, {"id", 1}, {"ok", true}}));
  // The second command has arrived by now, if not with the first.
  ASSERT_TRUE(app_->ProcessPending(0, &error)) << error;
  second = peer_->Receive();
  EXPECT_EQ(second, (Json{{"type", "result"},
                          {"id", 2},
                          {"ok", false},
                          {"error", "seven is unlucky"}}));
  EXPECT_EQ(seen_key, "level");
  EXPECT_EQ(seen_value, 7);
}

TEST_F(SdkTest, ThrowingHandlerRefusesTheCommand) {
  StartWelcomed();
  app_->OnCommand([](const std::string&, const Json&, std::string*) -> bool {
    throw std::runtime_error("boom");
  });
  peer_->Send({{"type", "command"}, {"id", 5}, {"key", "level"}, {"value", 1}});
  std::string error;
  ASSERT_TRUE(app_->ProcessPending(1000, &error)) << error;
  Json result = peer_->Receive();
  EXPECT_EQ(result["ok"], false);
  EXPECT_NE(result["error"].get<std::string>().find("boom"), std::string::npos);
}

TEST_F(SdkTest, PublishSendsStateForDeclaredKeysOnly) {
  StartWelcomed();
  std::string error;
  ASSERT_TRUE(app_->Publish("reading", 21.5, &error)) << error;
  EXPECT_EQ(peer_->Receive(),
            (Json{{"type", "state"}, {"key", "reading"}, {"value", 21.5}}));
  EXPECT_FALSE(app_->Publish("unknown", 1, &error));
  // A value too large for one frame is refused before anything is sent.
  EXPECT_FALSE(app_->Publish("reading", std::string(70000, 'x'), &error));
  // Invalid UTF-8 cannot be encoded; no exception escapes.
  EXPECT_FALSE(app_->Publish("reading", std::string("\xff"), &error));
}

TEST_F(SdkTest, RefusalsReachTheObserver) {
  StartWelcomed();
  std::string refusal;
  app_->OnRefusal([&](const std::string& m) { refusal = m; });
  peer_->Send({{"type", "error"}, {"message", "reading: not a number"}});
  std::string error;
  ASSERT_TRUE(app_->ProcessPending(1000, &error)) << error;
  EXPECT_EQ(refusal, "reading: not a number");
}

TEST_F(SdkTest, OversizedFrameFromWardendEndsTheSession) {
  StartWelcomed();
  peer_->SendRaw("", 1024 * 1024);
  std::string error;
  EXPECT_FALSE(app_->ProcessPending(1000, &error));
  EXPECT_NE(error.find("oversized"), std::string::npos);
}

TEST_F(SdkTest, ClosedSocketEndsTheSession) {
  StartWelcomed();
  peer_->Close();
  std::string error;
  EXPECT_FALSE(app_->ProcessPending(1000, &error));
}

TEST(SdkEnvironmentTest, ConnectingMakesTheProcessNonDumpable) {
  // execve leaves a program dumpable: readable by its user's other
  // processes. Connecting must undo that before anything else.
  ASSERT_EQ(::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  ::setenv("WARDEN_APP_FD", std::to_string(pair[1]).c_str(), 1);
  std::string error;
  std::optional<App> app = App::FromEnvironment(&error);
  ASSERT_TRUE(app.has_value()) << error;
  EXPECT_EQ(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);

  // Also on the direct path, and even when the descriptor is refused.
  ASSERT_EQ(::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
  EXPECT_FALSE(App::FromFd(0, &error).has_value());
  EXPECT_EQ(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
  ::unsetenv("WARDEN_APP_FD");
  ::close(pair[0]);
}

TEST(SdkEnvironmentTest, MissingDescriptorIsAnError) {
  ::unsetenv("WARDEN_APP_FD");
  std::string error;
  EXPECT_FALSE(App::FromEnvironment(&error).has_value());
  EXPECT_NE(error.find("WARDEN_APP_FD"), std::string::npos);
  ::setenv("WARDEN_APP_FD", "0", 1);  // not a socket
  EXPECT_FALSE(App::FromEnvironment(&error).has_value());
  ::unsetenv("WARDEN_APP_FD");
}

TEST(SdkFileTest, AtomicWriteReplacesContent) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("warden-sdk-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = dir + "/settings.json";
  std::string error;
  ASSERT_TRUE(WriteFileAtomic(path, "one", &error)) << error;
  ASSERT_TRUE(WriteFileAtomic(path, "two", &error)) << error;
  EXPECT_EQ(ReadSmallFile(path, 100, &error), "two");
  EXPECT_FALSE(ReadSmallFile(path, 2, &error).has_value());
  // Only the file itself is left: no temporaries.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
  std::filesystem::remove_all(dir);
}

TEST_F(SdkTest, DataKindsDeclaredBeforeStartGoWithTheHello) {
  std::string error;
  ASSERT_TRUE(app_->DeclareData(
      {"schedule", "usage", "heating times", 3600, false}, &error));
  EXPECT_FALSE(app_->DeclareData({"Bad Name", "usage", "p", 1, false}, &error));
  peer_->Send({{"type", "welcome"}, {"protocol", 1}});
  ASSERT_TRUE(app_->Start("test", "1.2", &error)) << error;
  Json hello = peer_->Receive();
  EXPECT_EQ(hello["data"], (Json::array({{{"name", "schedule"},
                                          {"category", "usage"},
                                          {"purpose", "heating times"},
                                          {"retention_seconds", 3600},
                                          {"may_leave_device", false}}})));
}

TEST_F(SdkTest, DataRequestsWaitForTheirAnswerAndDeferCommands) {
  StartWelcomed();
  int commands = 0;
  app_->OnCommand([&](const std::string&, const Json&, std::string*) {
    ++commands;
    return true;
  });
  // A command arrives before the answer to the write.
  peer_->Send({{"type", "command"}, {"id", 9}, {"key", "level"}, {"value", 1}});
  peer_->Send(
      {{"type", "data_result"}, {"id", 1}, {"ok", true}, {"record", 42}});
  std::string error;
  std::optional<int64_t> id = app_->WriteRecord("notes", "remember", &error);
  ASSERT_TRUE(id.has_value()) << error;
  EXPECT_EQ(*id, 42);
  Json request = peer_->Receive();
  EXPECT_EQ(request, (Json{{"type", "data_write"},
                           {"id", 1},
                           {"kind", "notes"},
                           {"value", "remember"}}));
  // The command waited for the next ProcessPending, and is answered there.
  EXPECT_EQ(commands, 0);
  ASSERT_TRUE(app_->ProcessPending(0, &error)) << error;
  EXPECT_EQ(commands, 1);
  EXPECT_EQ(peer_->Receive(),
            (Json{{"type", "result"}, {"id", 9}, {"ok", true}}));
}

TEST_F(SdkTest, RefusedDataRequestReportsWardendReason) {
  StartWelcomed();
  peer_->Send({{"type", "data_result"},
               {"id", 1},
               {"ok", false},
               {"code", "permission_denied"},
               {"error", "kind \"other\" was not declared by this app"}});
  std::string error;
  EXPECT_FALSE(app_->WriteRecord("other", "x", &error).has_value());
  EXPECT_NE(error.find("not declared"), std::string::npos) << error;
}

TEST_F(SdkTest, DeletionReturnsTheReceiptAndTellsTheApp) {
  StartWelcomed();
  bool told = false;
  app_->OnDataDeleted([&] { told = true; });
  Json receipt = {{"receipt", {{"requested_by", "device button"}}},
                  {"signature", "c2ln"}};
  peer_->Send({{"type", "data_deleted"}});
  peer_->Send(
      {{"type", "data_result"}, {"id", 1}, {"ok", true}, {"receipt", receipt}});
  std::string error;
  std::optional<std::string> got = app_->DeleteAllPersonalData(&error);
  ASSERT_TRUE(got.has_value()) << error;
  EXPECT_EQ(Json::parse(*got), receipt);
  EXPECT_EQ(peer_->Receive(), (Json{{"type", "data_delete_all"}, {"id", 1}}));
  ASSERT_TRUE(app_->ProcessPending(0, &error)) << error;
  EXPECT_TRUE(told);
}

TEST_F(SdkTest, OversizedRecordIsRefusedLocally) {
  StartWelcomed();
  std::string error;
  EXPECT_FALSE(app_->WriteRecord(
                       "notes", std::string(kMaxDataValueSize + 1, 'x'), &error)
                   .has_value());
  EXPECT_NE(error.find("8192"), std::string::npos) << error;
}

}  // namespace
}  // namespace warden::sdk
