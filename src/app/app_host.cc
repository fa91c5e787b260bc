#include "app/app_host.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <map>
#include <set>

#include "app/app_user.h"
#include "app/output_lines.h"
#include "events/catalog.h"
#include "platform/process.h"

namespace warden::app {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using schema::Json;

// A writer that stops reading is cut off rather than buffered without end.
constexpr size_t kMaxQueuedFrames = 256;
constexpr size_t kMaxQueuedBytes = 1024 * 1024;
constexpr size_t kMaxPendingCommands = 64;
constexpr size_t kMaxExtraEnvironment = 64;

bool ValidEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// The app's whole environment but WARDEN_APP_FD, which the spawn adds.
Result<std::vector<std::string>> AppEnvironment(const AppOptions& options) {
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/bin:/bin"},
      {"LANG", "C.UTF-8"},
      {"HOME", options.state_dir.empty() ? "/" : options.state_dir},
  };
  if (!options.state_dir.empty()) {
    env["WARDEN_APP_STATE_DIR"] = options.state_dir;
  }
  if (options.env.size() > kMaxExtraEnvironment) {
    return InvalidArgumentError("app environment: more than 64 entries");
  }
  for (const std::string& entry : options.env) {
    size_t eq = entry.find('=');
    std::string name = entry.substr(0, eq);
    if (eq == std::string::npos || !ValidEnvName(name)) {
      return InvalidArgumentError("app environment: not NAME=value: " + entry);
    }
    if (name == "HOME" || name.rfind("WARDEN_APP_", 0) == 0) {
      return InvalidArgumentError("app environment: " + name +
                                  " is set by wardend");
    }
    env[name] = entry.substr(eq + 1);
  }
  std::vector<std::string> out;
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

}  // namespace

// One process of the app and its connection.
struct Run {
  explicit Run(asio::io_context& io)
      : socket(io),
        pidfd(io),
        stdout_pipe(io),
        stderr_pipe(io),
        hello_timer(io),
        write_signal(io) {}

  pid_t pid = -1;
  uid_t uid = 0;
  bool reaped = false;
  bool ended = false;  // connection closed; the process is being killed
  bool hello_done = false;
  // The kinds of personal data this process declared: the only ones its
  // data requests may name.
  std::set<std::string, std::less<>> data_kinds;
  MonoTime started_at{};
  asio::local::stream_protocol::socket socket;
  asio::posix::stream_descriptor pidfd;        // not open without pidfd support
  asio::posix::stream_descriptor stdout_pipe;  // the app's output, read here
  asio::posix::stream_descriptor stderr_pipe;
  std::unique_ptr<asio::signal_set> sigchld;  // fallback exit watch
  asio::steady_timer hello_timer;
  asio::steady_timer write_signal;  // cancelled when `out` gains a frame
  std::deque<std::string> out;
  size_t out_bytes = 0;
};

struct Pending {
  explicit Pending(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;  // cancelled when the answer is in
  std::optional<Status> result;
  std::shared_ptr<Run> run;
};

struct AppHost::Impl : std::enable_shared_from_this<AppHost::Impl> {
  Impl(asio::io_context& io_in, AppOptions options_in, Clock& clock_in)
      : io(io_in),
        options(std::move(options_in)),
        clock(clock_in),
        restart_timer(io_in),
        backoff(options.restart_backoff_min) {}

  asio::io_context& io;
  AppOptions options;
  Clock& clock;
  events::Bus* bus = nullptr;
  AppData* data = nullptr;
  std::vector<std::string> environment;  // built at Start()
  bool started = false;
  bool stopped = false;
  std::shared_ptr<Run> current;
  std::vector<Capability> capabilities;
  std::map<std::string, Json, std::less<>> values;
  std::map<uint64_t, std::shared_ptr<Pending>> pending;
  uint64_t next_id = 1;
  int restarts = 0;
  asio::steady_timer restart_timer;
  std::chrono::milliseconds backoff;

  void Publish(events::Event event) {
    if (bus) bus->Publish(std::move(event));
  }

  Status SpawnRun();
  void EndRun(const std::shared_ptr<Run>& run, const std::string& reason,
              bool kill);
  bool Enqueue(const std::shared_ptr<Run>& run, const Json& message);
  void SendError(const std::shared_ptr<Run>& run, const std::string& message);
  void Handle(const std::shared_ptr<Run>& run, AppMessage message);
  void AcceptHello(const std::shared_ptr<Run>& run, HelloMessage hello);
  void HandleData(const std::shared_ptr<Run>& run, DataRequest request);
  std::optional<std::string> IsolationProblem(const Run& run);
  std::chrono::milliseconds NextBackoff(const Run& run);

  static asio::awaitable<void> ReadLoop(std::shared_ptr<Impl> self,
                                        std::shared_ptr<Run> run);
  static asio::awaitable<void> WriteLoop(std::shared_ptr<Impl> self,
                                         std::shared_ptr<Run> run);
  static asio::awaitable<void> OutputLoop(std::shared_ptr<Impl> self,
                                          std::shared_ptr<Run> run,
                                          bool is_stderr);
  static asio::awaitable<void> HelloWatch(std::shared_ptr<Impl> self,
                                          std::shared_ptr<Run> run);
  static asio::awaitable<void> ExitWatch(std::shared_ptr<Impl> self,
                                         std::shared_ptr<Run> run);
  static asio::awaitable<Status> Command(std::shared_ptr<Impl> self,
                                         std::string key, Json value);
};

Status AppHost::Impl::SpawnRun() {
  platform::SpawnOptions spawn;
  spawn.argv = options.argv;
  spawn.env = environment;
  spawn.run_as_user = options.run_as_user;
  spawn.capture_output = true;
  WARDEN_ASSIGN_OR_RETURN(platform::Child child,
                          platform::SpawnWithSocket(spawn));
  auto run = std::make_shared<Run>(io);
  run->pid = child.pid;
  run->uid = child.uid;
  run->started_at = clock.Monotonic();
  error_code ec;
  run->socket.assign(asio::local::stream_protocol(), child.socket_fd, ec);
  if (!ec) {
    child.socket_fd = -1;
    run->stdout_pipe.assign(child.stdout_fd, ec);
  }
  if (!ec) {
    child.stdout_fd = -1;
    run->stderr_pipe.assign(child.stderr_fd, ec);
  }
  if (!ec) child.stderr_fd = -1;
  if (!ec && child.pidfd >= 0) {
    run->pidfd.assign(child.pidfd, ec);
    if (!ec) child.pidfd = -1;
  }
  if (!ec && !run->pidfd.is_open()) {
    run->sigchld = std::make_unique<asio::signal_set>(io, SIGCHLD);
  }
  if (ec) {
    for (int fd :
         {child.socket_fd, child.stdout_fd, child.stderr_fd, child.pidfd}) {
      if (fd >= 0) ::close(fd);
    }
    platform::TerminateAndReap(child.pid, -1, std::chrono::milliseconds(0))
        .status()
        .IgnoreError();
    return InternalError("cannot watch the app: " + ec.message());
  }
  current = run;
  Publish(events::Event(events::kAppStarted)
              .Int("pid", run->pid)
              .Int("uid", static_cast<int64_t>(run->uid)));
  auto self = shared_from_this();
  asio::co_spawn(io, ReadLoop(self, run), asio::detached);
  asio::co_spawn(io, WriteLoop(self, run), asio::detached);
  asio::co_spawn(io, OutputLoop(self, run, false), asio::detached);
  asio::co_spawn(io, OutputLoop(self, run, true), asio::detached);
  asio::co_spawn(io, HelloWatch(self, run), asio::detached);
  asio::co_spawn(io, ExitWatch(self, run), asio::detached);
  return Status::Ok();
}

void AppHost::Impl::EndRun(const std::shared_ptr<Run>& run,
                           const std::string& reason, bool kill) {
  if (run->ended) return;
  run->ended = true;
  Publish(events::Event(events::kAppDisconnected).Text("reason", reason));
  error_code ec;
  run->socket.close(ec);
  run->hello_timer.cancel();
  run->write_signal.cancel();
  run->out.clear();
  run->out_bytes = 0;
  for (auto it = pending.begin(); it != pending.end();) {
    if (it->second->run == run) {
      it->second->result = UnavailableError("the app went away: " + reason);
      it->second->timer.cancel();
      it = pending.erase(it);
    } else {
      ++it;
    }
  }
  if (kill && !run->reaped) {
    int fd = run->pidfd.is_open() ? run->pidfd.native_handle() : -1;
    platform::SendSignal(run->pid, fd, SIGKILL).IgnoreError();
  }
}

bool AppHost::Impl::Enqueue(const std::shared_ptr<Run>& run,
                            const Json& message) {
  if (run->ended) return false;
  Result<std::string> frame = EncodeMessage(message);
  if (!frame.ok()) return false;
  if (run->out.size() >= kMaxQueuedFrames ||
      run->out_bytes + frame->size() > kMaxQueuedBytes) {
    EndRun(run, "the app does not read its socket", true);
    return false;
  }
  run->out_bytes += frame->size();
  run->out.push_back(std::move(frame).value());
  run->write_signal.cancel();
  return true;
}

void AppHost::Impl::SendError(const std::shared_ptr<Run>& run,
                              const std::string& message) {
  Publish(events::Event(events::kAppMessageRefused).Text("reason", message));
  if (!Enqueue(run, Json{{"type", "error"}, {"message", message}})) {
    // The reason may quote bytes that do not encode; send it without.
    Enqueue(run, Json{{"type", "error"}, {"message", "message refused"}});
  }
}

void AppHost::Impl::AcceptHello(const std::shared_ptr<Run>& run,
                                HelloMessage hello) {
  // Without a store the declarations are not kept, and every data request
  // is refused with that reason.
  if (!hello.data.empty() && data != nullptr) {
    Status declared = data->Declare(hello.data);
    if (!declared.ok()) {
      SendError(run, "hello: data: " + declared.message());
      return;
    }
    for (const DataKind& kind : hello.data) run->data_kinds.insert(kind.name);
  }
  // Values survive a restart only where the new declaration still admits
  // them.
  std::map<std::string, Json, std::less<>> kept;
  for (const auto& cap : hello.capabilities) {
    auto it = values.find(cap.key);
    if (it != values.end() && !cap.schema.Check(it->second)) {
      kept.emplace(cap.key, std::move(it->second));
    }
  }
  values = std::move(kept);
  capabilities = std::move(hello.capabilities);
  run->hello_done = true;
  run->hello_timer.cancel();
  Enqueue(run, Json{{"type", "welcome"}, {"protocol", kProtocolVersion}});
  Publish(events::Event(events::kAppAccepted)
              .Text("app", hello.app)
              .Text("version", hello.version)
              .Int("capabilities", static_cast<int64_t>(capabilities.size())));
}

void AppHost::Impl::Handle(const std::shared_ptr<Run>& run,
                           AppMessage message) {
  if (auto* hello = std::get_if<HelloMessage>(&message)) {
    if (run->hello_done) {
      SendError(run, "hello already received");
      return;
    }
    if (std::optional<std::string> problem = IsolationProblem(*run)) {
      Publish(events::Event(events::kAppRefused).Text("reason", *problem));
      EndRun(run, *problem, true);
      return;
    }
    AcceptHello(run, std::move(*hello));
    return;
  }
  if (!run->hello_done) {
    SendError(run, "the first message must be a valid hello");
    return;
  }
  if (auto* state = std::get_if<StateMessage>(&message)) {
    const Capability* cap = nullptr;
    for (const auto& c : capabilities) {
      if (c.key == state->key) cap = &c;
    }
    if (cap == nullptr) {
      SendError(run, "state: unknown capability \"" + state->key + "\"");
      return;
    }
    if (auto v = cap->schema.Check(state->value)) {
      SendError(run, "state " + state->key + ": " + v->pointer + ": " +
                         v->message + " (" + v->rule + ")");
      return;
    }
    values[state->key] = std::move(state->value);
    return;
  }
  if (auto* request = std::get_if<DataRequest>(&message)) {
    HandleData(run, std::move(*request));
    return;
  }
  auto& result = std::get<ResultMessage>(message);
  auto it = pending.find(result.id);
  if (it == pending.end() || it->second->run != run) {
    SendError(run, "result: no outstanding command with id " +
                       std::to_string(result.id));
    return;
  }
  it->second->result =
      result.ok ? Status::Ok() : FailedPreconditionError(result.error);
  it->second->timer.cancel();
  pending.erase(it);
}

void AppHost::Impl::HandleData(const std::shared_ptr<Run>& run,
                               DataRequest request) {
  auto refuse = [&](const Status& status) {
    Publish(events::Event(events::kAppMessageRefused)
                .Text("reason", status.message()));
    Json reply = {{"type", "data_result"},
                  {"id", request.id},
                  {"ok", false},
                  {"code", std::string(CodeName(status.code()))},
                  {"error", status.message()}};
    if (!Enqueue(run, reply)) {
      reply["error"] = "refused";
      Enqueue(run, reply);
    }
  };
  if (!request.refusal.empty()) {
    refuse(InvalidArgumentError(request.refusal));
    return;
  }
  if (data == nullptr) {
    refuse(FailedPreconditionError("this device keeps no personal data store"));
    return;
  }
  if (request.op != DataOp::kDeclare && request.op != DataOp::kDeleteAll &&
      !run->data_kinds.contains(request.kind)) {
    refuse(PermissionDeniedError("kind \"" + request.kind +
                                 "\" was not declared by this app"));
    return;
  }
  Json reply = {{"type", "data_result"}, {"id", request.id}, {"ok", true}};
  switch (request.op) {
    case DataOp::kDeclare: {
      Status st = data->Declare(request.kinds);
      if (!st.ok()) return refuse(st);
      for (const DataKind& kind : request.kinds) {
        run->data_kinds.insert(kind.name);
      }
      break;
    }
    case DataOp::kWrite: {
      Result<int64_t> id = data->Write(request.kind, request.value);
      if (!id.ok()) return refuse(id.status());
      reply["record"] = *id;
      break;
    }
    case DataOp::kRead: {
      Result<AppData::Record> record = data->Read(request.kind, request.record);
      if (!record.ok()) return refuse(record.status());
      reply["record"] = record->id;
      reply["created_at"] = record->created_at;
      reply["value"] = std::move(record->value);
      break;
    }
    case DataOp::kList: {
      Result<std::vector<AppData::Record>> records =
          data->List(request.kind, request.after, request.limit);
      if (!records.ok()) return refuse(records.status());
      Json list = Json::array();
      for (const AppData::Record& r : *records) {
        list.push_back({{"record", r.id}, {"created_at", r.created_at}});
      }
      reply["records"] = std::move(list);
      break;
    }
    case DataOp::kErase: {
      Status st = data->Erase(request.kind, request.record);
      if (!st.ok()) return refuse(st);
      break;
    }
    case DataOp::kDeleteAll: {
      Result<std::string> receipt = data->DeleteAll();
      if (!receipt.ok()) return refuse(receipt.status());
      Json parsed = Json::parse(*receipt, nullptr, false);
      reply["receipt"] = parsed.is_discarded() ? Json(nullptr) : parsed;
      break;
    }
  }
  // A record that is not UTF-8 text (written by an older app) cannot be
  // encoded: the app is told rather than left waiting.
  if (!Enqueue(run, reply)) {
    refuse(DataLossError("the answer cannot be sent as a frame"));
  }
}

std::optional<std::string> AppHost::Impl::IsolationProblem(const Run& run) {
  // A root process's /proc entries are root's whether or not it is
  // dumpable, so there is nothing to read; only allow_shared_user gets
  // here.
  if (run.uid == 0) return std::nullopt;
  Result<uid_t> owner = platform::ProcFilesOwner(run.pid);
  if (!owner.ok()) {
    return "cannot tell whether the app is dumpable: " +
           owner.status().ToString();
  }
  if (*owner != 0) {
    return "the app is dumpable, so any process of its user could read its "
           "memory and take its socket: an app not built on the SDK must "
           "call prctl(PR_SET_DUMPABLE, 0) before its hello";
  }
  return std::nullopt;
}

std::chrono::milliseconds AppHost::Impl::NextBackoff(const Run& run) {
  if (clock.Monotonic() - run.started_at >= options.stable_run) {
    backoff = options.restart_backoff_min;
  }
  std::chrono::milliseconds delay = backoff;
  backoff = std::min(backoff * 2, options.restart_backoff_max);
  if (backoff < options.restart_backoff_min) {
    backoff = options.restart_backoff_min;
  }
  return delay;
}

asio::awaitable<void> AppHost::Impl::ReadLoop(std::shared_ptr<Impl> self,
                                              std::shared_ptr<Run> run) {
  std::string body;
  while (!run->ended) {
    std::array<uint8_t, 4> header;
    error_code ec;
    co_await asio::async_read(run->socket, asio::buffer(header),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (run->ended) co_return;
    if (ec) {
      self->EndRun(run, "connection closed: " + ec.message(), true);
      co_return;
    }
    Result<uint32_t> size = ParseFrameHeader(header);
    if (!size.ok()) {
      self->EndRun(run, size.status().message(), true);
      co_return;
    }
    body.resize(*size);  // at most kMaxFrameSize
    co_await asio::async_read(run->socket, asio::buffer(body),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (run->ended) co_return;
    if (ec) {
      self->EndRun(run, "connection closed: " + ec.message(), true);
      co_return;
    }
    Result<AppMessage> message = ParseAppMessage(body);
    // The buffer is reused for the next frame, and a shorter one would
    // leave this one's tail behind: it may be personal data the app just
    // wrote or published.
    std::fill(body.begin(), body.end(), '\0');
    if (!message.ok()) {
      if (message.status().code() == Code::kDataLoss) {
        self->EndRun(run, message.status().message(), true);
        co_return;
      }
      self->SendError(run, message.status().message());
      continue;
    }
    self->Handle(run, std::move(message).value());
  }
}

asio::awaitable<void> AppHost::Impl::WriteLoop(std::shared_ptr<Impl> self,
                                               std::shared_ptr<Run> run) {
  while (!run->ended) {
    if (run->out.empty()) {
      error_code ec;
      run->write_signal.expires_at(asio::steady_timer::time_point::max());
      co_await run->write_signal.async_wait(
          asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // The frame stays queued (and counted) while it is written.
    error_code ec;
    co_await asio::async_write(run->socket, asio::buffer(run->out.front()),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (run->ended) co_return;
    if (ec) {
      self->EndRun(run, "write failed: " + ec.message(), true);
      co_return;
    }
    run->out_bytes -= run->out.front().size();
    run->out.pop_front();
  }
}

asio::awaitable<void> AppHost::Impl::OutputLoop(std::shared_ptr<Impl> self,
                                                std::shared_ptr<Run> run,
                                                bool is_stderr) {
  asio::posix::stream_descriptor& pipe =
      is_stderr ? run->stderr_pipe : run->stdout_pipe;
  const char* stream = is_stderr ? "stderr" : "stdout";
  OutputLines lines;
  auto publish = [&self, stream](std::string_view line, bool cut) {
    events::Event event(events::kAppOutput);
    event.Text("stream", stream).Text("line", std::string(line));
    if (cut) event.Flag("cut", true);
    self->Publish(std::move(event));
  };
  std::array<char, 4096> buffer;
  for (;;) {
    error_code ec;
    size_t n = co_await pipe.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (self->stopped && !pipe.is_open()) co_return;
    lines.Feed(std::string_view(buffer.data(), n), publish);
    if (ec) break;  // end of file once the app and what it started are gone
  }
  lines.Finish(publish);
}

asio::awaitable<void> AppHost::Impl::HelloWatch(std::shared_ptr<Impl> self,
                                                std::shared_ptr<Run> run) {
  error_code ec;
  run->hello_timer.expires_after(self->options.hello_timeout);
  co_await run->hello_timer.async_wait(
      asio::redirect_error(asio::use_awaitable, ec));
  if (!run->hello_done && !run->ended) {
    self->EndRun(run, "no valid hello in time", true);
  }
}

asio::awaitable<void> AppHost::Impl::ExitWatch(std::shared_ptr<Impl> self,
                                               std::shared_ptr<Run> run) {
  platform::ExitStatus status;
  if (run->pidfd.is_open()) {
    error_code ec;
    co_await run->pidfd.async_wait(
        asio::posix::stream_descriptor::wait_read,
        asio::redirect_error(asio::use_awaitable, ec));
    if (run->reaped) co_return;  // Stop() reaped it
    for (;;) {
      Result<std::optional<platform::ExitStatus>> r =
          platform::TryReap(run->pid);
      if (!r.ok()) break;  // not our child any more: nothing to reap
      if (*r) {
        status = **r;
        break;
      }
      // Woken without an exit (cancelled): wait again.
      co_await run->pidfd.async_wait(
          asio::posix::stream_descriptor::wait_read,
          asio::redirect_error(asio::use_awaitable, ec));
      if (run->reaped) co_return;
    }
  } else {
    for (;;) {
      Result<std::optional<platform::ExitStatus>> r =
          platform::TryReap(run->pid);
      if (!r.ok()) break;
      if (*r) {
        status = **r;
        break;
      }
      error_code ec;
      co_await run->sigchld->async_wait(
          asio::redirect_error(asio::use_awaitable, ec));
      if (run->reaped) co_return;
    }
  }
  run->reaped = true;
  self->EndRun(run, "app " + status.ToString(), false);
  error_code ignored;
  run->pidfd.close(ignored);
  if (run->sigchld) run->sigchld->cancel(ignored);
  self->Publish(
      events::Event(events::kAppExited).Text("status", status.ToString()));

  while (!self->stopped) {
    std::chrono::milliseconds delay = self->NextBackoff(*run);
    self->Publish(events::Event(events::kAppRestarting)
                      .Int("delay_ms", static_cast<int64_t>(delay.count())));
    self->restart_timer.expires_after(delay);
    error_code ec;
    co_await self->restart_timer.async_wait(
        asio::redirect_error(asio::use_awaitable, ec));
    if (self->stopped) co_return;
    Status st = self->SpawnRun();
    if (st.ok()) {
      ++self->restarts;
      co_return;
    }
    self->Publish(
        events::Event(events::kAppRestartFailed).Text("error", st.ToString()));
  }
}

asio::awaitable<Status> AppHost::Impl::Command(std::shared_ptr<Impl> self,
                                               std::string key, Json value) {
  std::shared_ptr<Run> run = self->current;
  if (run == nullptr || run->ended || !run->hello_done) {
    co_return UnavailableError("the app is not running");
  }
  const Capability* cap = nullptr;
  for (const auto& c : self->capabilities) {
    if (c.key == key) cap = &c;
  }
  if (cap == nullptr) co_return NotFoundError("unknown capability: " + key);
  if (!cap->writable) {
    co_return FailedPreconditionError(key + " is read-only");
  }
  if (auto v = cap->schema.Check(value)) {
    co_return InvalidArgumentError(v->pointer + ": " + v->message + " (" +
                                   v->rule + ")");
  }
  if (self->pending.size() >= kMaxPendingCommands) {
    co_return ResourceExhaustedError("too many commands outstanding");
  }
  uint64_t id = self->next_id++;
  Json command = {
      {"type", "command"}, {"id", id}, {"key", key}, {"value", value}};
  Result<std::string> frame = EncodeMessage(command);
  if (!frame.ok()) co_return frame.status();
  auto pending = std::make_shared<Pending>(self->io);
  pending->run = run;
  self->pending.emplace(id, pending);
  if (!self->Enqueue(run, command)) {
    self->pending.erase(id);
    co_return UnavailableError("the app went away");
  }
  error_code ec;
  pending->timer.expires_after(self->options.command_timeout);
  co_await pending->timer.async_wait(
      asio::redirect_error(asio::use_awaitable, ec));
  self->pending.erase(id);
  if (pending->result) co_return *pending->result;
  if (self->stopped) co_return UnavailableError("the app was stopped");
  co_return DeadlineExceededError("the app did not answer in time");
}

AppHost::AppHost(asio::io_context& io, AppOptions options, Clock& clock)
    : impl_(std::make_shared<Impl>(io, std::move(options), clock)) {}

AppHost::~AppHost() {
  Stop();
  // Coroutines still queued on the io_context may outlive the host; the
  // bus may not.
  impl_->bus = nullptr;
}

void AppHost::SetEventBus(events::Bus* bus) { impl_->bus = bus; }

void AppHost::SetData(AppData* data) { impl_->data = data; }

Status AppHost::Start() {
  if (impl_->started) return FailedPreconditionError("already started");
  if (impl_->options.argv.empty()) {
    return InvalidArgumentError("no app program configured");
  }
  WARDEN_ASSIGN_OR_RETURN(impl_->environment, AppEnvironment(impl_->options));
  if (::geteuid() == 0) {
    if (!impl_->options.run_as_user && !impl_->options.allow_shared_user) {
      return FailedPreconditionError(
          "no app user named while wardend runs as root: the app would run "
          "as root");
    }
    if (impl_->options.run_as_user) {
      WARDEN_TRY(CheckAppUser(*impl_->options.run_as_user,
                              impl_->options.allow_shared_user)
                     .status());
    }
  }
  WARDEN_TRY(impl_->SpawnRun());
  impl_->started = true;
  impl_->stopped = false;
  return Status::Ok();
}

void AppHost::Stop() {
  Impl& impl = *impl_;
  impl.stopped = true;
  impl.restart_timer.cancel();
  // A waiting command whose app is gone must not wait for its timeout.
  for (auto& [id, p] : impl.pending) {
    p->result = UnavailableError("the app was stopped");
    p->timer.cancel();
  }
  impl.pending.clear();
  std::shared_ptr<Run> run = impl.current;
  if (run == nullptr) return;
  if (!run->reaped) {
    int fd = run->pidfd.is_open() ? run->pidfd.native_handle() : -1;
    platform::TerminateAndReap(run->pid, fd, impl.options.stop_grace)
        .status()
        .IgnoreError();
    run->reaped = true;
  }
  impl.EndRun(run, "stopped", false);
  error_code ignored;
  run->pidfd.close(ignored);
  run->stdout_pipe.close(ignored);
  run->stderr_pipe.close(ignored);
  if (run->sigchld) run->sigchld->cancel(ignored);
}

bool AppHost::ready() const {
  const auto& run = impl_->current;
  return run != nullptr && !run->ended && run->hello_done;
}

const std::vector<Capability>& AppHost::capabilities() const {
  return impl_->capabilities;
}

const Capability* AppHost::Find(std::string_view key) const {
  for (const auto& c : impl_->capabilities) {
    if (c.key == key) return &c;
  }
  return nullptr;
}

Json AppHost::Values() const {
  Json out = Json::object();
  for (const auto& [key, value] : impl_->values) out[key] = value;
  return out;
}

std::optional<Json> AppHost::Value(std::string_view key) const {
  auto it = impl_->values.find(key);
  if (it == impl_->values.end()) return std::nullopt;
  return it->second;
}

asio::awaitable<Status> AppHost::Command(std::string key, Json value) {
  return Impl::Command(impl_, std::move(key), std::move(value));
}

void AppHost::DataDeleted() {
  const auto& run = impl_->current;
  if (run == nullptr || run->ended || !run->hello_done) return;
  impl_->Enqueue(run, Json{{"type", "data_deleted"}});
}

int AppHost::restarts() const { return impl_->restarts; }

std::optional<pid_t> AppHost::pid() const {
  const auto& run = impl_->current;
  if (run == nullptr || run->reaped) return std::nullopt;
  return run->pid;
}

}  // namespace warden::app
