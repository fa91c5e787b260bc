#include "warden/app.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <random>

namespace warden::sdk {
namespace {

using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// How long a send may wait for wardend to drain the socket.
constexpr int kSendTimeoutMs = 10000;
// How long a data request waits for its answer.
constexpr int kDataTimeoutMs = 30000;
// Messages kept for ProcessPending while a data request waits; beyond it
// wardend is not following the protocol.
constexpr size_t kMaxDeferred = 256;

bool ValidKindName(const std::string& name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Json KindJson(const DataKind& k) {
  return {{"name", k.name},
          {"category", k.category},
          {"purpose", k.purpose},
          {"retention_seconds", k.retention_seconds},
          {"may_leave_device", k.may_leave_device}};
}

void SetError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

std::string Errno(std::string_view what) {
  std::string m(what);
  m += ": ";
  m += std::strerror(errno);
  return m;
}

bool ValidKey(const std::string& key) {
  if (key.empty() || key.size() > 32) return false;
  if (key[0] < 'a' || key[0] > 'z') return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Makes the process non-dumpable, so that no other process of its user can
// read its memory or environment or take its descriptors (ptrace access
// checks, proc(5)). execve made it dumpable; only the program can undo
// that.
bool MakeNonDumpable(std::string* error) {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    SetError(error, Errno("prctl(PR_SET_DUMPABLE)"));
    return false;
  }
  return true;
}

int RemainingMs(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - SteadyClock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

struct App::State {
  int fd = -1;
  std::vector<Capability> capabilities;
  CommandHandler on_command;
  RefusalHandler on_refusal;
  DataDeletedHandler on_data_deleted;
  bool started = false;
  std::string in;                    // bytes received and not yet framed
  std::vector<DataKind> data_kinds;  // declared before Start
  uint64_t next_data_id = 1;
  // Messages that arrived while a data request waited, oldest first.
  std::vector<Json> deferred;

  ~State() {
    if (fd >= 0) ::close(fd);
  }

  bool WriteAll(std::string_view data, std::string* error) {
    auto deadline =
        SteadyClock::now() + std::chrono::milliseconds(kSendTimeoutMs);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n =
          ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        int left = RemainingMs(deadline);
        if (left == 0) {
          SetError(error, "send: wardend is not reading");
          return false;
        }
        struct pollfd p = {fd, POLLOUT, 0};
        if (::poll(&p, 1, left) < 0 && errno != EINTR) {
          SetError(error, Errno("poll"));
          return false;
        }
        continue;
      }
      SetError(error, Errno("send"));
      return false;
    }
    return true;
  }

  bool Send(const Json& message, std::string* error) {
    std::string body;
    try {
      body = message.dump();
    } catch (const std::exception& e) {
      SetError(error, std::string("cannot encode message: ") + e.what());
      return false;
    }
    if (body.size() > kMaxFrameSize) {
      SetError(error, "message of " + std::to_string(body.size()) +
                          " bytes exceeds the frame limit");
      return false;
    }
    uint32_t n = static_cast<uint32_t>(body.size());
    std::string frame;
    frame.reserve(4 + body.size());
    frame.push_back(static_cast<char>((n >> 24) & 0xff));
    frame.push_back(static_cast<char>((n >> 16) & 0xff));
    frame.push_back(static_cast<char>((n >> 8) & 0xff));
    frame.push_back(static_cast<char>(n & 0xff));
    frame += body;
    return WriteAll(frame, error);
  }

  // Reads what is available. 1: got bytes, 0: nothing yet, -1: closed or
  // failed.
  int ReadAvailable(std::string* error) {
    char buf[16384];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n > 0) {
        in.append(buf, static_cast<size_t>(n));
        return 1;
      }
      if (n == 0) {
        SetError(error, "wardend closed the connection");
        return -1;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      SetError(error, Errno("recv"));
      return -1;
    }
  }

  // Takes one complete frame off `in`. 1: `*out` filled, 0: incomplete,
  // -1: the stream is broken.
  int NextMessage(Json* out, std::string* error) {
    if (in.size() < 4) return 0;
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    uint32_t n = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                 (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    if (n > kMaxFrameSize) {
      SetError(error, "wardend sent an oversized frame");
      return -1;
    }
    if (in.size() < 4 + size_t{n}) return 0;
    Json message = Json::parse(in.begin() + 4, in.begin() + 4 + n, nullptr,
                               /*allow_exceptions=*/false);
    in.erase(0, 4 + size_t{n});
    if (message.is_discarded() || !message.is_object() ||
        !message.contains("type") || !message["type"].is_string()) {
      SetError(error, "wardend sent a malformed frame");
      return -1;
    }
    *out = std::move(message);
    return 1;
  }

  // Answers a command. False only when the socket broke.
  bool HandleCommand(const Json& message, std::string* error) {
    auto id = message.find("id");
    auto key = message.find("key");
    auto value = message.find("value");
    if (id == message.end() || !id->is_number_unsigned() ||
        key == message.end() || !key->is_string() || value == message.end()) {
      SetError(error, "wardend sent a malformed command");
      return false;
    }
    std::string why;
    bool accepted = false;
    if (!on_command) {
      why = "the application handles no commands";
    } else {
      try {
        accepted = on_command(key->get<std::string>(), *value, &why);
      } catch (const std::exception& e) {
        accepted = false;
        why = std::string("handler failed: ") + e.what();
      } catch (...) {
        accepted = false;
        why = "handler failed";
      }
    }
    Json result = {{"type", "result"}, {"id", *id}, {"ok", accepted}};
    if (!accepted) {
      if (why.empty()) why = "refused";
      if (why.size() > 1024) why.resize(1024);
      result["error"] = why;
    }
    if (Send(result, error)) return true;
    if (!accepted) {
      // The reason itself may not encode (invalid UTF-8): send a plain one.
      result["error"] = "refused";
      return Send(result, error);
    }
    return false;
  }

  // Sends a data request and waits for its data_result. The answer when ok;
  // nullopt with wardend's reason otherwise.
  std::optional<Json> Call(Json request, int timeout_ms, std::string* error) {
    if (!started) {
      SetError(error, "data request before Start");
      return std::nullopt;
    }
    uint64_t id = next_data_id++;
    request["id"] = id;
    if (!Send(request, error)) return std::nullopt;
    auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      Json message;
      int got = NextMessage(&message, error);
      if (got < 0) return std::nullopt;
      if (got > 0) {
        auto mid = message.find("id");
        if (message["type"] == "data_result" && mid != message.end() &&
            mid->is_number_unsigned() && mid->get<uint64_t>() == id) {
          auto ok = message.find("ok");
          if (ok != message.end() && ok->is_boolean() && ok->get<bool>()) {
            return message;
          }
          auto why = message.find("error");
          SetError(error, why != message.end() && why->is_string()
                              ? why->get<std::string>()
                              : std::string("refused"));
          return std::nullopt;
        }
        if (message["type"] == "data_result") continue;  // a late answer
        if (deferred.size() >= kMaxDeferred) {
          SetError(error, "wardend sent too many messages without answering");
          return std::nullopt;
        }
        deferred.push_back(std::move(message));
        continue;
      }
      int left = RemainingMs(deadline);
      if (left == 0) {
        SetError(error, "no answer from wardend");
        return std::nullopt;
      }
      struct pollfd p = {fd, POLLIN, 0};
      int r = ::poll(&p, 1, left);
      if (r < 0 && errno != EINTR) {
        SetError(error, Errno("poll"));
        return std::nullopt;
      }
      if (r > 0 && ReadAvailable(error) < 0) return std::nullopt;
    }
  }

  // Handles one message outside a data request. False when the socket
  // broke.
  bool Dispatch(const Json& message, std::string* error) {
    const std::string& type = message["type"].get_ref<const std::string&>();
    if (type == "command") return HandleCommand(message, error);
    if (type == "error") HandleRefusal(message);
    if (type == "data_deleted" && on_data_deleted) {
      try {
        on_data_deleted();
      } catch (...) {
        // A throwing observer must not break the connection.
      }
    }
    // Other types are from a newer wardend or late data answers.
    return true;
  }

  void HandleRefusal(const Json& message) {
    if (!on_refusal) return;
    std::string text = "refused";
    auto m = message.find("message");
    if (m != message.end() && m->is_string()) text = m->get<std::string>();
    try {
      on_refusal(text);
    } catch (...) {
      // A throwing observer must not break the connection.
    }
  }
};

App::App(std::unique_ptr<State> state) : state_(std::move(state)) {}
App::App(App&&) noexcept = default;
App& App::operator=(App&&) noexcept = default;
App::~App() = default;

std::optional<App> App::FromEnvironment(std::string* error) {
  if (!MakeNonDumpable(error)) return std::nullopt;
  const char* value = std::getenv("WARDEN_APP_FD");
  if (value == nullptr || *value == '\0') {
    SetError(error, "WARDEN_APP_FD is not set: start the app from wardend");
    return std::nullopt;
  }
  char* end = nullptr;
  errno = 0;
  long fd = std::strtol(value, &end, 10);
  if (errno != 0 || *end != '\0' || fd < 0 || fd > 1 << 20) {
    SetError(error, "WARDEN_APP_FD is not a descriptor number");
    return std::nullopt;
  }
  return FromFd(static_cast<int>(fd), error);
}

std::optional<App> App::FromFd(int fd, std::string* error) {
  if (!MakeNonDumpable(error)) return std::nullopt;
  int type = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
      type != SOCK_STREAM) {
    SetError(error,
             "descriptor " + std::to_string(fd) + " is not a stream socket");
    return std::nullopt;
  }
  // Our own children must not inherit the connection to wardend.
  int fd_flags = ::fcntl(fd, F_GETFD);
  int fl_flags = ::fcntl(fd, F_GETFL);
  if (fd_flags < 0 || fl_flags < 0 ||
      ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) != 0 ||
      ::fcntl(fd, F_SETFL, fl_flags | O_NONBLOCK) != 0) {
    SetError(error, Errno("fcntl"));
    return std::nullopt;
  }
  auto state = std::make_unique<State>();
  state->fd = fd;
  return App(std::move(state));
}

void App::Declare(Capability capability) {
  for (auto& existing : state_->capabilities) {
    if (existing.key == capability.key) {
      existing = std::move(capability);
      return;
    }
  }
  state_->capabilities.push_back(std::move(capability));
}

void App::OnCommand(CommandHandler handler) {
  state_->on_command = std::move(handler);
}

void App::OnRefusal(RefusalHandler handler) {
  state_->on_refusal = std::move(handler);
}

void App::OnDataDeleted(DataDeletedHandler handler) {
  state_->on_data_deleted = std::move(handler);
}

int App::fd() const { return state_->fd; }

bool App::Start(std::string name, std::string version, std::string* error,
                int timeout_ms) {
  State& s = *state_;
  if (s.started) {
    SetError(error, "already started");
    return false;
  }
  if (s.capabilities.size() > kMaxCapabilities) {
    SetError(error, "more than 64 capabilities");
    return false;
  }
  Json caps = Json::array();
  for (const auto& c : s.capabilities) {
    if (!ValidKey(c.key)) {
      SetError(error, "invalid capability key: " + c.key);
      return false;
    }
    caps.push_back({{"key", c.key},
                    {"description", c.description},
                    {"writable", c.writable},
                    {"schema", c.schema}});
  }
  Json hello = {{"type", "hello"},
                {"protocol", kProtocolVersion},
                {"app", std::move(name)},
                {"version", std::move(version)},
                {"capabilities", std::move(caps)}};
  if (!s.data_kinds.empty()) {
    Json kinds = Json::array();
    for (const auto& k : s.data_kinds) kinds.push_back(KindJson(k));
    hello["data"] = std::move(kinds);
  }
  if (!s.Send(hello, error)) return false;

  auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    Json message;
    int got = s.NextMessage(&message, error);
    if (got < 0) return false;
    if (got > 0) {
      const std::string& type = message["type"].get_ref<const std::string&>();
      if (type == "welcome") {
        s.started = true;
        return true;
      }
      if (type == "error") {
        auto m = message.find("message");
        SetError(error, "wardend refused the hello: " +
                            (m != message.end() && m->is_string()
                                 ? m->get<std::string>()
                                 : std::string("no reason given")));
        return false;
      }
      continue;  // nothing else is expected before the welcome
    }
    int left = RemainingMs(deadline);
    if (left == 0) {
      SetError(error, "no welcome from wardend");
      return false;
    }
    struct pollfd p = {s.fd, POLLIN, 0};
    int r = ::poll(&p, 1, left);
    if (r < 0 && errno != EINTR) {
      SetError(error, Errno("poll"));
      return false;
    }
    if (r > 0 && s.ReadAvailable(error) < 0) return false;
  }
}

bool App::Publish(const std::string& key, const nlohmann::json& value,
                  std::string* error) {
  State& s = *state_;
  if (!s.started) {
    SetError(error, "Publish before Start");
    return false;
  }
  bool declared = false;
  for (const auto& c : s.capabilities) declared = declared || c.key == key;
  if (!declared) {
    SetError(error, "undeclared capability: " + key);
    return false;
  }
  Json message;
  try {
    message = {{"type", "state"}, {"key", key}, {"value", value}};
  } catch (const std::exception& e) {
    SetError(error, e.what());
    return false;
  }
  return s.Send(message, error);
}

bool App::ProcessPending(int timeout_ms, std::string* error) {
  State& s = *state_;
  if (!s.started) {
    SetError(error, "ProcessPending before Start");
    return false;
  }
  // Messages a data request set aside are handled without waiting.
  struct pollfd p = {s.fd, POLLIN, 0};
  int r = ::poll(&p, 1, s.deferred.empty() ? timeout_ms : 0);
  if (r < 0) {
    if (errno == EINTR) return true;
    SetError(error, Errno("poll"));
    return false;
  }
  // Read what has arrived, then handle every complete frame. The loop ends
  // when the socket has nothing more for now.
  bool closed = false;
  if (r > 0) {
    int got = s.ReadAvailable(error);
    if (got < 0) closed = true;
  }
  std::vector<Json> deferred = std::move(s.deferred);
  s.deferred.clear();
  for (const Json& message : deferred) {
    if (!s.Dispatch(message, error)) return false;
  }
  for (;;) {
    Json message;
    int got = s.NextMessage(&message, error);
    if (got < 0) return false;
    if (got == 0) break;
    if (!s.Dispatch(message, error)) return false;
  }
  return !closed;
}

bool App::DeclareData(DataKind kind, std::string* error) {
  State& s = *state_;
  if (!ValidKindName(kind.name)) {
    SetError(error, "invalid kind name: " + kind.name);
    return false;
  }
  if (s.started) {
    Json request = {{"type", "data_declare"},
                    {"kinds", Json::array({KindJson(kind)})}};
    return s.Call(std::move(request), kDataTimeoutMs, error).has_value();
  }
  for (auto& existing : s.data_kinds) {
    if (existing.name == kind.name) {
      existing = std::move(kind);
      return true;
    }
  }
  s.data_kinds.push_back(std::move(kind));
  return true;
}

std::optional<int64_t> App::WriteRecord(const std::string& kind,
                                        std::string_view value,
                                        std::string* error) {
  if (value.size() > kMaxDataValueSize) {
    SetError(error, "record value over " + std::to_string(kMaxDataValueSize) +
                        " bytes");
    return std::nullopt;
  }
  Json request = {
      {"type", "data_write"}, {"kind", kind}, {"value", std::string(value)}};
  std::optional<Json> reply =
      state_->Call(std::move(request), kDataTimeoutMs, error);
  if (!reply) return std::nullopt;
  auto id = reply->find("record");
  if (id == reply->end() || !id->is_number_integer()) {
    SetError(error, "wardend sent a malformed answer");
    return std::nullopt;
  }
  return id->get<int64_t>();
}

std::optional<DataRecord> App::ReadRecord(const std::string& kind, int64_t id,
                                          std::string* error) {
  Json request = {{"type", "data_read"}, {"kind", kind}, {"record", id}};
  std::optional<Json> reply =
      state_->Call(std::move(request), kDataTimeoutMs, error);
  if (!reply) return std::nullopt;
  auto created = reply->find("created_at");
  auto value = reply->find("value");
  if (created == reply->end() || !created->is_number_integer() ||
      value == reply->end() || !value->is_string()) {
    SetError(error, "wardend sent a malformed answer");
    return std::nullopt;
  }
  return DataRecord{id, created->get<int64_t>(), value->get<std::string>()};
}

std::optional<std::vector<DataRecord>> App::ListRecords(const std::string& kind,
                                                        int64_t after,
                                                        size_t limit,
                                                        std::string* error) {
  if (limit == 0 || limit > kMaxDataListLimit) limit = kMaxDataListLimit;
  Json request = {{"type", "data_list"},
                  {"kind", kind},
                  {"after", after},
                  {"limit", limit}};
  std::optional<Json> reply =
      state_->Call(std::move(request), kDataTimeoutMs, error);
  if (!reply) return std::nullopt;
  auto records = reply->find("records");
  if (records == reply->end() || !records->is_array()) {
    SetError(error, "wardend sent a malformed answer");
    return std::nullopt;
  }
  std::vector<DataRecord> out;
  for (const Json& r : *records) {
    auto id = r.find("record");
    auto created = r.find("created_at");
    if (!r.is_object() || id == r.end() || !id->is_number_integer() ||
        created == r.end() || !created->is_number_integer()) {
      SetError(error, "wardend sent a malformed answer");
      return std::nullopt;
    }
    out.push_back({id->get<int64_t>(), created->get<int64_t>(), {}});
  }
  return out;
}

bool App::EraseRecord(const std::string& kind, int64_t id, std::string* error) {
  Json request = {{"type", "data_erase"}, {"kind", kind}, {"record", id}};
  return state_->Call(std::move(request), kDataTimeoutMs, error).has_value();
}

std::optional<std::string> App::DeleteAllPersonalData(std::string* error,
                                                      int timeout_ms) {
  std::optional<Json> reply =
      state_->Call({{"type", "data_delete_all"}}, timeout_ms, error);
  if (!reply) return std::nullopt;
  auto receipt = reply->find("receipt");
  if (receipt == reply->end() || !receipt->is_object()) {
    SetError(error, "deleted, but wardend gave no receipt");
    return std::nullopt;
  }
  return receipt->dump();
}

std::optional<std::string> StateDir() {
  const char* dir = std::getenv("WARDEN_APP_STATE_DIR");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  return std::string(dir);
}

bool WriteFileAtomic(const std::string& path, std::string_view data,
                     std::string* error) {
  std::string dir = ".";
  auto slash = path.rfind('/');
  if (slash != std::string::npos)
    dir = slash == 0 ? "/" : path.substr(0, slash);
  std::random_device rd;
  std::string tmp =
      path + ".tmp-" + std::to_string(rd()) + std::to_string(rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    SetError(error, Errno("create " + tmp));
    return false;
  }
  size_t done = 0;
  bool ok = true;
  while (ok && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      SetError(error, Errno("write " + tmp));
      ok = false;
    } else {
      done += static_cast<size_t>(n);
    }
  }
  if (ok && ::fsync(fd) != 0) {
    SetError(error, Errno("fsync " + tmp));
    ok = false;
  }
  if (::close(fd) != 0 && ok) {
    SetError(error, Errno("close " + tmp));
    ok = false;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    SetError(error, Errno("rename " + path));
    ok = false;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return false;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    SetError(error, Errno("open " + dir));
    return false;
  }
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) {
    SetError(error, Errno("fsync " + dir));
    return false;
  }
  return true;
}

std::optional<std::string> ReadSmallFile(const std::string& path,
                                         size_t max_size, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    SetError(error, Errno("open " + path));
    return std::nullopt;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<size_t>(st.st_size) > max_size) {
    SetError(error, path + ": not a regular file of at most " +
                        std::to_string(max_size) + " bytes");
    ::close(fd);
    return std::nullopt;
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      SetError(error, Errno("read " + path));
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_size) {
      SetError(error, path + ": larger than " + std::to_string(max_size));
      ::close(fd);
      return std::nullopt;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace warden::sdk
