#include "app/app_host.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "events/log.h"
#include "gtest/gtest.h"

namespace warden::app {
namespace {

using schema::Json;
using namespace std::chrono_literals;

// Runs the loop until `done` holds. The limit only keeps a broken build from
// hanging; no assertion depends on how long anything took.
bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done) {
  auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    io.restart();
    io.run_for(5ms);
  }
  return true;
}

Status RunCommand(boost::asio::io_context& io, AppHost& host, std::string key,
                  Json value) {
  std::optional<Status> result;
  boost::asio::co_spawn(io, host.Command(std::move(key), std::move(value)),
                        [&](std::exception_ptr, Status s) { result = s; });
  if (!RunUntil(io, [&] { return result.has_value(); })) {
    return InternalError("command never completed");
  }
  return *result;
}

bool Gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/warden-app-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

AppOptions ThermostatOptions(const std::string& state_dir) {
  AppOptions o;
  o.argv = {WARDEN_THERMOSTAT_PATH};
  o.env = {"WARDEN_APP_STATE_DIR=" + state_dir};
  o.restart_backoff_min = 50ms;
  return o;
}

AppOptions FakeOptions(const std::string& mode) {
  AppOptions o;
  o.argv = {WARDEN_FAKE_APP_PATH, mode};
  o.restart_backoff_min = 50ms;
  o.restart_backoff_max = 200ms;
  return o;
}

class AppHostTest : public ::testing::Test {
 protected:
  void Watch(AppHost& host) {
    bus_.Subscribe([this](const events::Event& e) {
      events_.push_back(events::FormatLine(e, nullptr));
    });
    host.SetEventBus(&bus_);
  }
  bool SawEvent(std::string_view part) const {
    for (const auto& e : events_) {
      if (e.find(part) != std::string::npos) return true;
    }
    return false;
  }

  boost::asio::io_context io_;
  FakeClock clock_;
  events::Bus bus_{clock_};
  std::vector<std::string> events_;
};

TEST_F(AppHostTest, ThermostatEndToEnd) {
  TempDir dir;
  AppHost host(io_, ThermostatOptions(dir.path()), clock_);
  EXPECT_EQ(RunCommand(io_, host, "setpoint", 22).code(), Code::kUnavailable);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(RunUntil(
      io_, [&] { return host.ready() && host.Value("setpoint").has_value(); }));

  std::set<std::string> keys;
  for (const auto& c : host.capabilities()) keys.insert(c.key);
  EXPECT_EQ(keys, (std::set<std::string>{"temperature", "heating", "setpoint",
                                         "mode", "schedule"}));
  ASSERT_NE(host.Find("setpoint"), nullptr);
  EXPECT_TRUE(host.Find("setpoint")->writable);
  EXPECT_FALSE(host.Find("temperature")->writable);
  EXPECT_TRUE(host.Value("temperature")->is_number());

  ASSERT_TRUE(RunCommand(io_, host, "setpoint", 22).ok());
  EXPECT_EQ(host.Value("setpoint"), Json(22));
  EXPECT_EQ(host.Values()["setpoint"], Json(22));

  Status too_hot = RunCommand(io_, host, "setpoint", 40);
  EXPECT_EQ(too_hot.code(), Code::kInvalidArgument) << too_hot.ToString();
  EXPECT_NE(too_hot.message().find("maximum"), std::string::npos);
  EXPECT_EQ(RunCommand(io_, host, "setpoint", 21.3).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(RunCommand(io_, host, "temperature", 20).code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(RunCommand(io_, host, "humidity", 20).code(), Code::kNotFound);
  EXPECT_EQ(host.Value("setpoint"), Json(22));

  ASSERT_TRUE(RunCommand(io_, host, "mode", "auto").ok());
  EXPECT_EQ(host.Value("mode"), Json("auto"));
  EXPECT_EQ(RunCommand(io_, host, "mode", "cool").code(),
            Code::kInvalidArgument);

  Json schedule = Json::object();
  for (const char* d : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) {
    schedule[d] = Json::array({{{"time", "06:30"}, {"setpoint", 20.5}}});
  }
  ASSERT_TRUE(RunCommand(io_, host, "schedule", schedule).ok());
  EXPECT_EQ(host.Value("schedule"), schedule);
  Json bad = schedule;
  bad["mon"][0]["time"] = "25:00";
  EXPECT_EQ(RunCommand(io_, host, "schedule", bad).code(),
            Code::kInvalidArgument);
  bad = schedule;
  bad.erase("sun");
  EXPECT_EQ(RunCommand(io_, host, "schedule", bad).code(),
            Code::kInvalidArgument);

  // Stop leaves no process behind.
  std::optional<pid_t> pid = host.pid();
  ASSERT_TRUE(pid.has_value());
  host.Stop();
  EXPECT_FALSE(host.ready());
  EXPECT_FALSE(host.pid().has_value());
  EXPECT_TRUE(Gone(*pid));
  EXPECT_EQ(RunCommand(io_, host, "setpoint", 21).code(), Code::kUnavailable);

  // The settings survived: a new instance starts with them.
  AppHost again(io_, ThermostatOptions(dir.path()), clock_);
  ASSERT_TRUE(again.Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] {
    return again.ready() && again.Value("schedule").has_value();
  }));
  EXPECT_EQ(again.Value("setpoint"), Json(22));
  EXPECT_EQ(again.Value("mode"), Json("auto"));
  EXPECT_EQ(again.Value("schedule"), schedule);
  again.Stop();
}

TEST_F(AppHostTest, KilledAppIsRestarted) {
  TempDir dir;
  AppHost host(io_, ThermostatOptions(dir.path()), clock_);
  Watch(host);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return host.ready(); }));
  pid_t first = *host.pid();
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(RunUntil(io_, [&] { return host.restarts() == 1; }));
  ASSERT_TRUE(RunUntil(io_, [&] { return host.ready(); }));
  EXPECT_NE(*host.pid(), first);
  EXPECT_TRUE(Gone(first));  // reaped, not a zombie
  EXPECT_TRUE(SawEvent("killed by signal 9"));
  EXPECT_TRUE(RunCommand(io_, host, "setpoint", 19.5).ok());
  EXPECT_EQ(host.Value("setpoint"), Json(19.5));
  host.Stop();
}

TEST_F(AppHostTest, InvalidMessagesAreRefusedAndChangeNothing) {
  AppHost host(io_, FakeOptions("scenario"), clock_);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(
      RunUntil(io_, [&] { return host.Value("errors_seen").has_value(); }));
  // Each of the seven invalid messages got an error back; none took effect.
  EXPECT_EQ(host.Value("errors_seen"), Json(7));
  EXPECT_EQ(host.Value("level"), Json(5));
  EXPECT_EQ(host.Values().size(), 2u);
  ASSERT_EQ(host.capabilities().size(), 2u);
  EXPECT_EQ(host.capabilities()[0].key, "level");
  EXPECT_TRUE(host.ready());
  EXPECT_EQ(host.restarts(), 0);

  Status refused = RunCommand(io_, host, "level", 7);
  EXPECT_EQ(refused.code(), Code::kFailedPrecondition);
  EXPECT_EQ(refused.message(), "seven is unlucky");
  EXPECT_EQ(host.Value("level"), Json(5));
  EXPECT_TRUE(RunCommand(io_, host, "level", 3).ok());
  EXPECT_EQ(host.Value("level"), Json(3));
  EXPECT_EQ(RunCommand(io_, host, "level", 11).code(), Code::kInvalidArgument);
  EXPECT_EQ(host.restarts(), 0);
  host.Stop();
}

TEST_F(AppHostTest, OversizedFrameClosesAndRestarts) {
  AppHost host(io_, FakeOptions("oversized"), clock_);
  Watch(host);
  ASSERT_TRUE(host.Start().ok());
  pid_t first = *host.pid();
  ASSERT_TRUE(RunUntil(io_, [&] { return host.restarts() >= 1; }));
  EXPECT_TRUE(SawEvent("exceeds the 65536-byte limit"));
  EXPECT_FALSE(host.ready());
  EXPECT_TRUE(Gone(first));
  host.Stop();
}

TEST_F(AppHostTest, NonJsonFrameClosesAndRestarts) {
  AppHost host(io_, FakeOptions("not-json"), clock_);
  Watch(host);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return host.restarts() >= 1; }));
  EXPECT_TRUE(SawEvent("not a JSON document"));
  EXPECT_TRUE(host.capabilities().empty());
  host.Stop();
}

TEST_F(AppHostTest, AppWithoutHelloIsRestarted) {
  AppOptions o = FakeOptions("silent");
  o.hello_timeout = 100ms;
  AppHost host(io_, o, clock_);
  Watch(host);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return host.restarts() >= 2; }));
  EXPECT_TRUE(SawEvent("no valid hello"));
  EXPECT_FALSE(host.ready());
  host.Stop();
}

TEST_F(AppHostTest, UnansweredCommandTimesOut) {
  AppOptions o = FakeOptions("slow");
  o.command_timeout = 100ms;
  AppHost host(io_, o, clock_);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return host.ready(); }));
  EXPECT_EQ(RunCommand(io_, host, "level", 1).code(), Code::kDeadlineExceeded);
  EXPECT_TRUE(host.ready());
  host.Stop();
}

TEST_F(AppHostTest, StopResolvesOutstandingCommand) {
  AppHost host(io_, FakeOptions("slow"), clock_);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return host.ready(); }));
  std::optional<Status> result;
  boost::asio::co_spawn(io_, host.Command("level", 1),
                        [&](std::exception_ptr, Status s) { result = s; });
  io_.restart();
  io_.poll();  // the command is sent and waits
  host.Stop();
  ASSERT_TRUE(RunUntil(io_, [&] { return result.has_value(); }));
  EXPECT_EQ(result->code(), Code::kUnavailable);
}

TEST_F(AppHostTest, MissingProgramFailsToStart) {
  AppOptions o;
  o.argv = {"/nonexistent/app"};
  AppHost host(io_, o, clock_);
  EXPECT_FALSE(host.Start().ok());
  EXPECT_FALSE(host.pid().has_value());
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // no child at all
}

TEST_F(AppHostTest, RunsAsNobodyWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  AppOptions o = ThermostatOptions("");
  o.env.clear();
  o.run_as_user = "nobody";
  AppHost host(io_, o, clock_);
  Status st = host.Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(RunUntil(io_, [&] { return host.ready(); }));
  std::ifstream status("/proc/" + std::to_string(*host.pid()) + "/status");
  std::string line;
  std::string uid_line;
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) uid_line = line;
  }
  std::istringstream fields(uid_line.substr(4));
  uid_t real = 0, effective = 0;
  fields >> real >> effective;
  EXPECT_EQ(real, 65534u);
  EXPECT_EQ(effective, 65534u);
  host.Stop();
}

}  // namespace
}  // namespace warden::app
