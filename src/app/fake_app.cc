// A misbehaving app for the AppHost tests. It speaks the app socket protocol
// by hand (not through the SDK) so it can send what the SDK never would.
//   oversized  announces a 1 MiB frame
//   not-json   sends a frame that is not JSON
//   silent     sends nothing
//   slow       says hello, then never answers commands
//   scenario   sends a series of invalid messages between valid ones,
//              counting the errors it gets back, then serves commands for
//              "level" (refusing 7)
//   environ    publishes its whole environment as "environ"
//   chatty     writes a forged log line to stderr, an overlong line and a
//              flood of lines to stdout, "end" to both, then says hello
//   dumpable   like slow, but stays dumpable
//   data       declares the kind "notes", then tries data requests wardend
//              must refuse (an undeclared kind, an oversized value, an
//              unknown field) and ones it must serve, and publishes what
//              came back as "data_report"
// Every mode but "dumpable" first makes itself non-dumpable, as the SDK
// does, so that wardend accepts its hello.
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace {

using Json = nlohmann::json;
int g_fd = 3;

bool WriteAll(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(g_fd, data.data() + done, data.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string Header(uint32_t n) {
  std::string h(4, '\0');
  h[0] = static_cast<char>(n >> 24);
  h[1] = static_cast<char>(n >> 16);
  h[2] = static_cast<char>(n >> 8);
  h[3] = static_cast<char>(n);
  return h;
}

bool SendRaw(const std::string& body) {
  return WriteAll(Header(static_cast<uint32_t>(body.size())) + body);
}

bool Send(const Json& j) { return SendRaw(j.dump()); }

bool ReadExact(char* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(g_fd, buf + done, n - done);
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

std::optional<Json> Receive() {
  unsigned char h[4];
  if (!ReadExact(reinterpret_cast<char*>(h), 4)) return std::nullopt;
  uint32_t n = (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) |
               (uint32_t{h[2]} << 8) | uint32_t{h[3]};
  if (n > 64 * 1024) return std::nullopt;
  std::string body(n, '\0');
  if (!ReadExact(body.data(), n)) return std::nullopt;
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

Json Hello(const Json& caps) {
  return {{"type", "hello"},
          {"protocol", 1},
          {"app", "fake"},
          {"version", "0"},
          {"capabilities", caps}};
}

Json Caps() {
  return Json::array(
      {{{"key", "level"},
        {"description", "a level"},
        {"writable", true},
        {"schema", {{"type", "integer"}, {"minimum", 0}, {"maximum", 10}}}},
       {{"key", "errors_seen"},
        {"description", "errors received"},
        {"writable", false},
        {"schema", {{"type", "integer"}}}}});
}

// Sends `j` and returns whether wardend answered with an error.
int SendExpectingError(const Json& j) {
  if (!Send(j)) std::exit(2);
  std::optional<Json> reply = Receive();
  if (!reply) std::exit(2);
  return (*reply)["type"] == "error" ? 1 : 0;
}

int Scenario() {
  int errors = 0;
  Json bad_caps = Caps();
  bad_caps[0]["key"] = "Bad-Key";
  errors += SendExpectingError(Hello(bad_caps));
  errors +=
      SendExpectingError({{"type", "state"}, {"key", "level"}, {"value", 1}});
  if (!Send(Hello(Caps()))) return 2;
  std::optional<Json> welcome = Receive();
  if (!welcome || (*welcome)["type"] != "welcome") return 3;
  errors += SendExpectingError(Hello(Caps()));
  if (!Send({{"type", "state"}, {"key", "level"}, {"value", 5}})) return 2;
  errors +=
      SendExpectingError({{"type", "state"}, {"key", "level"}, {"value", 99}});
  errors +=
      SendExpectingError({{"type", "state"}, {"key", "nope"}, {"value", 1}});
  errors +=
      SendExpectingError({{"type", "result"}, {"id", 12345}, {"ok", true}});
  errors += SendExpectingError(
      {{"type", "state"}, {"key", "level"}, {"value", 1}, {"extra", 1}});
  if (!Send({{"type", "state"}, {"key", "errors_seen"}, {"value", errors}})) {
    return 2;
  }
  for (;;) {
    std::optional<Json> m = Receive();
    if (!m) return 0;
    if ((*m)["type"] != "command") continue;
    Json result = {{"type", "result"}, {"id", (*m)["id"]}};
    if ((*m)["value"] == 7) {
      result["ok"] = false;
      result["error"] = "seven is unlucky";
    } else {
      Send({{"type", "state"}, {"key", (*m)["key"]}, {"value", (*m)["value"]}});
      result["ok"] = true;
    }
    if (!Send(result)) return 0;
  }
}

// Sends a data request and returns wardend's data_result for it.
Json DataCall(Json request, uint64_t id) {
  request["id"] = id;
  if (!Send(request)) std::exit(2);
  for (;;) {
    std::optional<Json> reply = Receive();
    if (!reply) std::exit(2);
    if ((*reply)["type"] == "data_result" && (*reply)["id"] == id) {
      return *reply;
    }
  }
}

std::string Outcome(const Json& reply) {
  if (reply["ok"] == true) return "ok";
  return reply.value("code", std::string("?"));
}

int Data() {
  Json caps = Json::array({{{"key", "data_report"},
                            {"description", "what data requests returned"},
                            {"writable", false},
                            {"schema", {{"type", "object"}}}}});
  Json hello = Hello(caps);
  hello["data"] = Json::array({{{"name", "notes"},
                                {"category", "usage"},
                                {"purpose", "notes for the test"},
                                {"retention_seconds", 3600},
                                {"may_leave_device", false}}});
  if (!Send(hello)) return 2;
  std::optional<Json> welcome = Receive();
  if (!welcome || (*welcome)["type"] != "welcome") return 3;
  Json report = Json::object();
  report["undeclared"] = Outcome(
      DataCall({{"type", "data_write"}, {"kind", "other"}, {"value", "x"}}, 1));
  // Past the JSON limits the message is not read at all, so the refusal
  // is a plain error, without the id.
  if (!Send({{"type", "data_write"},
             {"id", 2},
             {"kind", "notes"},
             {"value", std::string(9000, 'x')}})) {
    return 2;
  }
  std::optional<Json> refusal = Receive();
  report["oversized"] = refusal ? (*refusal)["type"] : Json("closed");
  report["too_long_kind"] = Outcome(DataCall(
      {{"type", "data_write"}, {"kind", std::string(33, 'k')}, {"value", "x"}},
      7));
  report["unknown_field"] = Outcome(DataCall(
      {{"type", "data_write"}, {"kind", "notes"}, {"value", "x"}, {"x", 1}},
      3));
  Json written = DataCall(
      {{"type", "data_write"}, {"kind", "notes"}, {"value", "remember me"}}, 4);
  report["write"] = Outcome(written);
  Json read = DataCall({{"type", "data_read"},
                        {"kind", "notes"},
                        {"record", written.value("record", 0)}},
                       5);
  report["read"] = read.value("value", std::string());
  report["read_other"] = Outcome(
      DataCall({{"type", "data_read"}, {"kind", "other"}, {"record", 1}}, 6));
  if (!Send({{"type", "state"}, {"key", "data_report"}, {"value", report}})) {
    return 2;
  }
  while (Receive()) {
  }
  return 0;
}

extern "C" char** environ;

int Environ() {
  std::vector<std::string> entries;
  for (char** e = environ; *e != nullptr; ++e) entries.emplace_back(*e);
  std::sort(entries.begin(), entries.end());
  Json caps = Json::array(
      {{{"key", "environ"},
        {"description", "the app's environment"},
        {"writable", false},
        {"schema", {{"type", "array"}, {"items", {{"type", "string"}}}}}}});
  if (!Send(Hello(caps))) return 2;
  if (!Receive()) return 2;  // welcome
  if (!Send({{"type", "state"}, {"key", "environ"}, {"value", entries}})) {
    return 2;
  }
  while (Receive()) {
  }
  return 0;
}

int Chatty() {
  std::fputs("wardend: notice security paired owner=mallory\n", stderr);
  std::fputs(("\r" + std::string(3000, 'x') + "\n").c_str(), stdout);
  for (int i = 0; i < 5000; ++i) std::printf("flood %d\n", i);
  std::fputs("end\n", stdout);
  std::fputs("end\n", stderr);
  std::fflush(stdout);
  std::fflush(stderr);
  if (!Send(Hello(Caps()))) return 2;
  while (Receive()) {
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 64;
  std::string mode = argv[1];
  if (mode != "dumpable" && ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return 70;
  }
  const char* fd = std::getenv("WARDEN_APP_FD");
  if (fd == nullptr) return 64;
  g_fd = std::atoi(fd);
  if (mode == "oversized") {
    WriteAll(Header(1024 * 1024));
    ::pause();
    return 0;
  }
  if (mode == "not-json") {
    SendRaw("{\"type\": \"hello\",");
    ::pause();
    return 0;
  }
  if (mode == "silent") {
    ::pause();
    return 0;
  }
  if (mode == "slow" || mode == "dumpable") {
    Send(Hello(Caps()));
    while (Receive()) {
    }
    return 0;
  }
  if (mode == "scenario") return Scenario();
  if (mode == "environ") return Environ();
  if (mode == "chatty") return Chatty();
  if (mode == "data") return Data();
  return 64;
}
