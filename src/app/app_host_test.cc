#include "app/app_host.h"

#include <pwd.h>
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

#include "app/app_test_util.h"
#include "app/app_user.h"
#include "app/output_lines.h"
#include "events/catalog.h"
#include "events/log.h"
#include "gtest/gtest.h"
#include "platform/process.h"

namespace warden::app {
namespace {

using schema::Json;
using namespace std::chrono_literals;

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

AppOptions ThermostatOptions(const TempDir& dir) {
  AppOptions o;
  o.argv = {WARDEN_THERMOSTAT_PATH};
  o.state_dir = dir.path();
  o.restart_backoff_min = 50ms;
  AsTestAppUser(o, dir.path());
  return o;
}

AppOptions FakeOptions(const std::string& mode) {
  AppOptions o;
  o.argv = {WARDEN_FAKE_APP_PATH, mode};
  o.restart_backoff_min = 50ms;
  o.restart_backoff_max = 200ms;
  AsTestAppUser(o);
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
  FakeAppData data;
  AppHost host(io_, ThermostatOptions(dir), clock_);
  host.SetData(&data);
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
  // The schedule is personal data: one record in the data store, none in
  // the app's own files.
  EXPECT_EQ(data.declared,
            (std::set<std::string>{"schedule", "temperature_history"}));
  ASSERT_EQ(data.records["schedule"].size(), 1u);
  EXPECT_EQ(Json::parse(data.records["schedule"].begin()->second.value),
            schedule);
  EXPECT_FALSE(data.records["temperature_history"].empty());
  std::ifstream file(dir.path() + "/thermostat.json");
  std::stringstream saved;
  saved << file.rdbuf();
  EXPECT_EQ(saved.str().find("06:30"), std::string::npos) << saved.str();
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
  AppHost again(io_, ThermostatOptions(dir), clock_);
  again.SetData(&data);
  ASSERT_TRUE(again.Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] {
    return again.ready() && again.Value("schedule").has_value();
  }));
  EXPECT_EQ(again.Value("setpoint"), Json(22));
  EXPECT_EQ(again.Value("mode"), Json("auto"));
  EXPECT_EQ(again.Value("schedule"), schedule);
  again.Stop();
}

TEST_F(AppHostTest, AppReachesOnlyTheKindsItDeclared) {
  FakeAppData data;
  AppHost host(io_, FakeOptions("data"), clock_);
  Watch(host);
  host.SetData(&data);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] {
    return host.Value("data_report").has_value();
  })) << ::testing::PrintToString(events_);
  Json report = *host.Value("data_report");
  EXPECT_EQ(report["undeclared"], "permission_denied") << report.dump();
  EXPECT_EQ(report["read_other"], "permission_denied") << report.dump();
  EXPECT_EQ(report["oversized"], "error") << report.dump();
  EXPECT_EQ(report["too_long_kind"], "invalid_argument") << report.dump();
  EXPECT_EQ(report["unknown_field"], "invalid_argument") << report.dump();
  EXPECT_EQ(report["write"], "ok") << report.dump();
  EXPECT_EQ(report["read"], "remember me") << report.dump();
  // Only the declared kind was declared, and only the one valid write kept.
  EXPECT_EQ(data.declared, (std::set<std::string>{"notes"}));
  ASSERT_EQ(data.records.count("other"), 0u);
  ASSERT_EQ(data.records["notes"].size(), 1u);
  EXPECT_EQ(data.records["notes"].begin()->second.value, "remember me");
  host.Stop();
}

TEST_F(AppHostTest, ThermostatForgetsTheScheduleWhenDataIsDeleted) {
  TempDir dir;
  FakeAppData data;
  AppHost host(io_, ThermostatOptions(dir), clock_);
  host.SetData(&data);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(RunUntil(
      io_, [&] { return host.ready() && host.Value("schedule").has_value(); }));
  Json initial = *host.Value("schedule");
  Json schedule = Json::object();
  for (const char* d : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) {
    schedule[d] = Json::array({{{"time", "05:45"}, {"setpoint", 26.5}}});
  }
  ASSERT_TRUE(RunCommand(io_, host, "schedule", schedule).ok());
  ASSERT_EQ(host.Value("schedule"), schedule);
  data.records.clear();
  host.DataDeleted();
  ASSERT_TRUE(RunUntil(io_, [&] { return host.Value("schedule") == initial; }));
  host.Stop();
}

TEST_F(AppHostTest, KilledAppIsRestarted) {
  TempDir dir;
  AppHost host(io_, ThermostatOptions(dir), clock_);
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

TEST_F(AppHostTest, RunsAsItsOwnUserWhenRoot) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: a wardend that is not root switches to no "
                    "user";
  }
  TempDir dir;
  AppHost host(io_, ThermostatOptions(dir), clock_);
  Status st = host.Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(RunUntil(io_, [&] { return host.ready(); }));
  Result<platform::UserIds> user = platform::LookupUser(kDefaultAppUser);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  std::ifstream status("/proc/" + std::to_string(*host.pid()) + "/status");
  std::string line;
  std::string uid_line;
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) uid_line = line;
  }
  std::istringstream fields(uid_line.substr(4));
  uid_t real = 0, effective = 0, saved = 0;
  fields >> real >> effective >> saved;
  EXPECT_EQ(real, user->uid);
  EXPECT_EQ(effective, user->uid);
  EXPECT_EQ(saved, user->uid);
  host.Stop();
}

TEST_F(AppHostTest, EnvironmentIsBuiltByTheHostNotInherited) {
  TempDir dir;
  // Something of wardend's own that the app must not see.
  ASSERT_EQ(::setenv("WARDEN_TEST_SECRET", "wardend's secret", 1), 0);
  AppOptions o = FakeOptions("environ");
  o.state_dir = dir.path();
  o.env = {"TZ=Europe/London", "LANG=en_GB.UTF-8"};
  AppHost host(io_, o, clock_);
  Status st = host.Start();
  ::unsetenv("WARDEN_TEST_SECRET");
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(RunUntil(io_, [&] { return host.Value("environ").has_value(); }));
  EXPECT_EQ(*host.Value("environ"), Json::array({
                                        "HOME=" + dir.path(),
                                        "LANG=en_GB.UTF-8",
                                        "PATH=/usr/bin:/bin",
                                        "TZ=Europe/London",
                                        "WARDEN_APP_FD=3",
                                        "WARDEN_APP_STATE_DIR=" + dir.path(),
                                    }));
  host.Stop();

  // Without a state directory, HOME is "/" and there is no state variable.
  AppOptions bare = FakeOptions("environ");
  AppHost again(io_, bare, clock_);
  ASSERT_TRUE(again.Start().ok());
  ASSERT_TRUE(
      RunUntil(io_, [&] { return again.Value("environ").has_value(); }));
  EXPECT_EQ(*again.Value("environ"),
            Json::array({"HOME=/", "LANG=C.UTF-8", "PATH=/usr/bin:/bin",
                         "WARDEN_APP_FD=3"}));
  again.Stop();
}

TEST_F(AppHostTest, EnvironmentEntriesWardendOwnsAreRefused) {
  for (const char* entry :
       {"HOME=/root", "WARDEN_APP_FD=4", "WARDEN_APP_STATE_DIR=/", "1ST=x",
        "NO_VALUE", "=x", "A-B=c"}) {
    AppOptions o = FakeOptions("slow");
    o.env = {entry};
    AppHost host(io_, o, clock_);
    Status st = host.Start();
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << entry;
    EXPECT_FALSE(host.pid().has_value());
  }
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // nothing was started
}

TEST_F(AppHostTest, DumpableAppIsRefusedAndKilled) {
  AppOptions o = FakeOptions("dumpable");
  AppHost host(io_, o, clock_);
  Watch(host);
  ASSERT_TRUE(host.Start().ok());
  pid_t first = *host.pid();
  ASSERT_TRUE(RunUntil(io_, [&] { return SawEvent("app_refused"); }));
  EXPECT_TRUE(SawEvent("is dumpable"));
  EXPECT_FALSE(host.ready());
  EXPECT_TRUE(host.capabilities().empty());
  ASSERT_TRUE(RunUntil(io_, [&] { return host.restarts() >= 1; }));
  EXPECT_TRUE(Gone(first));
  EXPECT_FALSE(SawEvent("app_accepted"));
  host.Stop();
}

TEST_F(AppHostTest, OutputBecomesQuotedRateLimitedLogLines) {
  // The daemon's log as main.cc wires it: the bus, a rate-limited log, and
  // a writer that prefixes "wardend: "; and, to see every line the same
  // log would format, one whose burst nothing reaches.
  std::vector<std::string> written;
  std::vector<std::string> formatted;
  events::RateLimitedLog::Policy policy;
  auto writer = [](std::vector<std::string>& to) {
    return [&to](std::string_view line) {
      to.push_back("wardend: " + std::string(line));
    };
  };
  events::RateLimitedLog log(clock_, policy, writer(written), nullptr);
  events::RateLimitedLog all(clock_, {1 << 30, std::chrono::seconds(60)},
                             writer(formatted), nullptr);
  std::vector<std::pair<std::string, bool>> output;  // stream:line, cut
  bool stdout_done = false, stderr_done = false;
  bus_.Subscribe([&](const events::Event& e) {
    log.Write(e);
    all.Write(e);
    if (&e.kind() != &events::kAppOutput) return;
    const std::string& line = *e.TextOf("line");
    const std::string& stream = *e.TextOf("stream");
    output.emplace_back(stream + ":" + line, e.fields().size() == 3);
    if (line == "end") (stream == "stdout" ? stdout_done : stderr_done) = true;
  });
  AppHost host(io_, FakeOptions("chatty"), clock_);
  host.SetEventBus(&bus_);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(RunUntil(io_, [&] { return stdout_done && stderr_done; }));
  host.Stop();
  log.Flush(/*all=*/true);

  // Every line reached the bus as the app's, the long one cut to the limit
  // and marked.
  ASSERT_EQ(output.size(), 1u + 1u + 5000u + 2u);
  using Line = std::pair<std::string, bool>;
  auto has = [&output](const Line& line) {
    return std::find(output.begin(), output.end(), line) != output.end();
  };
  EXPECT_TRUE(
      has({"stderr:wardend: notice security paired owner=mallory", false}));
  EXPECT_TRUE(has({"stdout:\r" + std::string(kMaxOutputLine - 1, 'x'), true}));
  EXPECT_TRUE(has({"stdout:flood 4999", false}));

  // Formatted, the forged line is a quoted value in a line of wardend's
  // own, and control bytes are escaped.
  EXPECT_NE(std::find(formatted.begin(), formatted.end(),
                      "wardend: info app app_output stream=stderr "
                      "line=\"wardend: notice security paired "
                      "owner=mallory\""),
            formatted.end());
  for (const std::string& line : formatted) {
    SCOPED_TRACE(line);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos);
    EXPECT_NE(line.rfind("wardend: notice security paired", 0), 0u);
  }

  // The log itself keeps the burst of them and counts the rest.
  int app_lines = 0;
  std::string suppressed;
  for (const std::string& line : written) {
    if (line.rfind("wardend: info app app_output stream=", 0) == 0) {
      ++app_lines;
    } else if (line.find("log_suppressed kind=app_output") !=
               std::string::npos) {
      suppressed = line;
    }
  }
  EXPECT_EQ(app_lines, policy.burst);
  EXPECT_EQ(suppressed,
            "wardend: notice operational log_suppressed kind=app_output "
            "count=" +
                std::to_string(output.size() - policy.burst));
}

TEST_F(AppHostTest, SharedUsersAreRefusedUnlessAllowed) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: a wardend that is not root switches to no "
                    "user, so there is no user to refuse";
  }
  struct Case {
    std::optional<std::string> user;
    std::string named;
  };
  for (const Case& c : {Case{"nobody", "\"nobody\" (uid 65534) is shared"},
                        Case{"root", "\"root\" is root"},
                        Case{std::nullopt, "no app user named"}}) {
    SCOPED_TRACE(c.named);
    AppOptions o = FakeOptions("slow");
    o.run_as_user = c.user;
    o.allow_shared_user = false;
    AppHost host(io_, o, clock_);
    Status st = host.Start();
    EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.ToString();
    EXPECT_NE(st.message().find(c.named), std::string::npos) << st.message();
    EXPECT_FALSE(host.pid().has_value());
  }
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // nothing was started

  // Told otherwise, wardend runs it.
  AppOptions o = FakeOptions("slow");
  o.run_as_user = "nobody";
  o.allow_shared_user = true;
  AppHost host(io_, o, clock_);
  Status st = host.Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(RunUntil(io_, [&] { return host.ready(); }));
  host.Stop();
}

TEST_F(AppHostTest, UserThatRunsProcessesIsRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: a wardend that is not root switches to no "
                    "user, so there is no user to refuse";
  }
  // Another service of the app's user.
  platform::SpawnOptions other;
  other.argv = {"/bin/sleep", "60"};
  other.run_as_user = kDefaultAppUser;
  Result<platform::Child> service = platform::SpawnWithSocket(other);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  AppOptions o = FakeOptions("slow");
  o.allow_shared_user = false;
  AppHost host(io_, o, clock_);
  Status st = host.Start();
  EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("already runs processes"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find(std::to_string(service->pid)), std::string::npos)
      << st.message();
  EXPECT_FALSE(host.pid().has_value());
  ASSERT_TRUE(platform::TerminateAndReap(service->pid, service->pidfd,
                                         std::chrono::seconds(2))
                  .ok());
  ::close(service->socket_fd);
  if (service->pidfd >= 0) ::close(service->pidfd);
}

// A system user that runs nothing now. Other tests, and other runs of these
// tests, start apps as warden-app at any moment, so a check that needs the
// user idle uses one of the system users Debian creates and nothing uses.
std::optional<std::string> IdleSystemUser() {
  ::setpwent();
  std::optional<std::string> found;
  while (struct passwd* pw = ::getpwent()) {
    if (pw->pw_uid == 0 || pw->pw_uid >= 1000 || pw->pw_uid == kNobodyUid ||
        kDefaultAppUser == std::string(pw->pw_name)) {
      continue;
    }
    Result<std::vector<pid_t>> running = platform::ProcessesOfUser(pw->pw_uid);
    if (running.ok() && running->empty()) {
      found = pw->pw_name;
      break;
    }
  }
  ::endpwent();
  return found;
}

TEST_F(AppHostTest, DedicatedUserIsAccepted) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: a wardend that is not root switches to no "
                    "user";
  }
  std::optional<std::string> user = IdleSystemUser();
  ASSERT_TRUE(user.has_value()) << "no system user without processes";
  AppOptions o = FakeOptions("slow");
  o.run_as_user = *user;
  o.allow_shared_user = false;
  AppHost host(io_, o, clock_);
  Status st = host.Start();
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(RunUntil(io_, [&] { return host.ready(); }));
  host.Stop();
}

TEST(CheckAppUserTest, RefusesRootNobodyAndUnknownUsers) {
  Result<platform::UserIds> root = CheckAppUser("root", false);
  EXPECT_EQ(root.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(root.status().message().find("app.allow_shared_user"),
            std::string::npos);
  Result<platform::UserIds> nobody = CheckAppUser("nobody", false);
  EXPECT_EQ(nobody.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(nobody.status().message().find("shared by other services"),
            std::string::npos);
  EXPECT_TRUE(CheckAppUser("nobody", true).ok());
  Result<platform::UserIds> unknown =
      CheckAppUser("no-such-warden-user", false);
  EXPECT_EQ(unknown.status().code(), Code::kNotFound);
  EXPECT_NE(unknown.status().message().find("useradd --system"),
            std::string::npos);
}

TEST(CheckAppUserTest, RefusesAUserThatRunsProcesses) {
  // Not root, this test's own user runs this test. Root would be refused
  // for being root, so a process of the app's user stands in.
  std::string user = CurrentUserName();
  std::optional<platform::Child> other;
  if (::geteuid() == 0) {
    platform::SpawnOptions o;
    o.argv = {"/bin/sleep", "60"};
    o.run_as_user = user = kDefaultAppUser;
    Result<platform::Child> child = platform::SpawnWithSocket(o);
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    other = *child;
  }
  Result<platform::UserIds> refused = CheckAppUser(user, false);
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("already runs processes"),
            std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(CheckAppUser(user, true).ok());
  if (other) {
    ASSERT_TRUE(platform::TerminateAndReap(other->pid, other->pidfd,
                                           std::chrono::seconds(2))
                    .ok());
    ::close(other->socket_fd);
    if (other->pidfd >= 0) ::close(other->pidfd);
  }
}

}  // namespace
}  // namespace warden::app
