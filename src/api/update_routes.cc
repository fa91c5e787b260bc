#include "api/update_routes.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "base/bytes.h"
#include "events/catalog.h"
#include "platform/file.h"

namespace warden::api {
namespace {

using http::status;
using http::verb;

constexpr std::string_view kSourceSchema = R"({
  "type": "object", "additionalProperties": false,
  "properties": {"source": {"enum": ["repository", "upload"]}}})";
constexpr std::string_view kDeferSchema = R"({
  "type": "object", "required": ["hours"], "additionalProperties": false,
  "properties": {"hours": {"type": "integer", "minimum": 0,
                           "maximum": 8760}}})";
// A piece of a repository copy: the contract's file names only (top-level
// roles and the images by their hash), at most 6 KiB a piece (8 KiB of
// base64: the JSON limit on one string), in order.
constexpr std::string_view kUploadSchema = R"({
  "type": "object", "additionalProperties": false,
  "properties": {
    "reset": {"const": true},
    "path": {"type": "string", "maxLength": 200, "pattern":
      "^(metadata/([0-9]{1,9}\\.(root|snapshot|targets)|root|timestamp)\\.json|targets/[0-9a-f]{64}\\.[a-z0-9][a-z0-9-]{0,62}\\.img)$"},
    "offset": {"type": "integer", "minimum": 0, "maximum": 1099511627776},
    "data": {"type": "string", "maxLength": 8192}}})";

// What an uploaded copy may hold in all, and in how many files.
constexpr uint64_t kMaxStagedBytes = uint64_t{512} << 20;
constexpr size_t kMaxStagedFiles = 64;

const events::Kind& KindOf(updater::ServiceEvent::Kind k) {
  using K = updater::ServiceEvent::Kind;
  switch (k) {
    case K::kAvailable:
      return events::kUpdateAvailable;
    case K::kStarted:
      return events::kUpdateStarted;
    case K::kInstalled:
      return events::kUpdateInstalled;
    case K::kCommitted:
      return events::kUpdateCommitted;
    case K::kRolledBack:
      return events::kUpdateRolledBack;
    case K::kRefused:
      return events::kUpdateRefused;
    case K::kDeferred:
      return events::kUpdateDeferred;
    case K::kTamper:
      return events::kTamper;
    case K::kSupportEnded:
      return events::kSupportEnded;
  }
  return events::kUpdateFailed;
}

ApiError Conflict(std::string message) {
  return MakeError(status::conflict, Code::kFailedPrecondition,
                   std::move(message));
}

}  // namespace

UpdateRunner::UpdateRunner(boost::asio::any_io_executor loop,
                           updater::UpdateService& service,
                           worker::WorkerPool& pool, events::Bus& events,
                           std::function<void()> reboot,
                           std::function<void()> repaired, bool automatic)
    : loop_(std::move(loop)),
      service_(service),
      pool_(pool),
      events_(events),
      reboot_(std::move(reboot)),
      repaired_(std::move(repaired)),
      automatic_(automatic) {}

void UpdateRunner::PublishEvents() {
  for (const updater::ServiceEvent& e : service_.TakeEvents()) {
    events::Event out(KindOf(e.kind));
    if (!e.version.empty()) out.Text("version", e.version);
    if (!e.code.empty()) out.Text("code", e.code);
    if (!e.detail.empty()) out.Text("detail", e.detail);
    events_.Publish(out);
  }
}

Status UpdateRunner::Start(Op op, updater::Source source) {
  if (running_) return FailedPreconditionError("an update is under way");
  running_ = true;
  boost::asio::co_spawn(loop_, Run(op, std::move(source)),
                        boost::asio::detached);
  return Status::Ok();
}

boost::asio::awaitable<void> UpdateRunner::Run(Op op, updater::Source source) {
  updater::UpdateService* s = &service_;
  bool reboot = false;
  Status failed;
  if (op == Op::kReinstall) {
    auto job = [s, source] { return s->Repair(source); };
    failed = co_await pool_.Run(std::move(job));
  } else if (op == Op::kCheck && (!automatic_ || service_.Deferred())) {
    auto job = [s, source]() -> Status { return s->Check(source).status(); };
    failed = co_await pool_.Run(std::move(job));
  } else {
    auto job = [s, source, op]() -> Result<update::Next> {
      if (op == Op::kResumeDownload) return s->ResumeDownload();
      return s->Install(source);
    };
    auto next = co_await pool_.Run(std::move(job));
    if (next.ok()) {
      reboot = *next == update::Next::kReboot;
    } else {
      failed = next.status();
    }
  }
  running_ = false;
  PublishEvents();
  if (!failed.ok() && failed.code() != Code::kRollback) {
    // Refusals were published as such; this is what was left.
    events_.Publish(
        events::Event(events::kUpdateFailed).Text("error", failed.ToString()));
  }
  if (op == Op::kReinstall && failed.ok() && service_.integrity().ok &&
      repaired_) {
    repaired_();
  }
  if (reboot && reboot_) reboot_();
}

Status UpdateRoutes::Register(Router& router) {
  WARDEN_TRY(router.Add({verb::get, "/v1/update", Access::kOwner, "", false,
                         Immediate([this](Call& c) { return GetStatus(c); })}));
  WARDEN_TRY(router.Add({verb::post, "/v1/update/check", Access::kOwner,
                         std::string(kSourceSchema), true,
                         Immediate([this](Call& c) { return Check(c); })}));
  WARDEN_TRY(router.Add({verb::post, "/v1/update/install", Access::kAdmin,
                         std::string(kSourceSchema), true,
                         Immediate([this](Call& c) { return Install(c); })}));
  WARDEN_TRY(router.Add({verb::post, "/v1/update/defer", Access::kAdmin,
                         std::string(kDeferSchema), false,
                         Immediate([this](Call& c) { return Defer(c); })}));
  WARDEN_TRY(router.Add({verb::post, "/v1/update/upload", Access::kAdmin,
                         std::string(kUploadSchema), false,
                         Immediate([this](Call& c) { return Upload(c); })}));
  return router.Add({verb::post, "/v1/update/reinstall", Access::kAdmin,
                     std::string(kSourceSchema), true,
                     Immediate([this](Call& c) { return Reinstall(c); })});
}

schema::Json UpdateRoutes::StatusJson(const updater::UpdateSnapshot& s) {
  schema::Json j = {
      {"phase", s.phase},
      {"busy", s.busy},
      {"current_version", s.current_version},
      {"available_version", s.available_version},
      {"last_outcome", s.last_outcome},
      {"last_detail", s.last_detail},
      {"support_until", s.support_until},
      {"supported", s.supported},
      {"integrity", {{"ok", s.integrity.ok}, {"reason", s.integrity.reason}}},
  };
  j["deferred_until"] = s.deferred_until ? schema::Json(*s.deferred_until)
                                         : schema::Json(nullptr);
  return j;
}

std::optional<Response> UpdateRoutes::Unavailable(Call& call) {
  if (runner_ != nullptr) return std::nullopt;
  return call.Error(MakeError(status::service_unavailable, Code::kUnavailable,
                              "no updater is configured"));
}

namespace {
updater::Source SourceOf(const Call& call, updater::UpdateService& s) {
  if (call.body.value("source", "repository") == "upload") {
    return {updater::Source::Kind::kDirectory, s.staging_dir()};
  }
  return {};
}
}  // namespace

Response UpdateRoutes::GetStatus(Call& call) {
  if (auto r = Unavailable(call)) return std::move(*r);
  updater::UpdateSnapshot s = runner_->service().Snapshot();
  s.busy = s.busy || runner_->running();
  schema::Json j = StatusJson(s);
  j["automatic"] = runner_->automatic();
  return call.Json(status::ok, j);
}

Response UpdateRoutes::Check(Call& call) {
  if (auto r = Unavailable(call)) return std::move(*r);
  Status st = runner_->Start(UpdateRunner::Op::kCheck,
                             SourceOf(call, runner_->service()));
  if (!st.ok()) return call.Error(Conflict(st.message()));
  return call.Json(status::accepted, {{"started", "check"}});
}

Response UpdateRoutes::Install(Call& call) {
  if (auto r = Unavailable(call)) return std::move(*r);
  if (!runner_->service().integrity().ok) {
    return call.Error(
        Conflict("the booted slot failed its integrity check: reinstall"));
  }
  Status st = runner_->Start(UpdateRunner::Op::kInstall,
                             SourceOf(call, runner_->service()));
  if (!st.ok()) return call.Error(Conflict(st.message()));
  return call.Json(status::accepted, {{"started", "install"}});
}

Response UpdateRoutes::Defer(Call& call) {
  if (auto r = Unavailable(call)) return std::move(*r);
  Status st = runner_->service().Defer(call.body["hours"].get<int>());
  runner_->PublishEvents();
  if (!st.ok()) {
    return call.Error(MakeError(status::bad_request, Code::kInvalidArgument,
                                st.message(), "hours", "maximum"));
  }
  return GetStatus(call);
}

Response UpdateRoutes::Reinstall(Call& call) {
  if (auto r = Unavailable(call)) return std::move(*r);
  if (runner_->service().integrity().ok) {
    return call.Error(Conflict("the booted slot verifies: nothing to repair"));
  }
  Status st = runner_->Start(UpdateRunner::Op::kReinstall,
                             SourceOf(call, runner_->service()));
  if (!st.ok()) return call.Error(Conflict(st.message()));
  return call.Json(status::accepted, {{"started", "reinstall"}});
}

Response UpdateRoutes::Upload(Call& call) {
  if (auto r = Unavailable(call)) return std::move(*r);
  if (runner_->running()) return call.Error(Conflict("an update is under way"));
  platform::Env& env = platform::DefaultEnv();
  const std::string dir = runner_->service().staging_dir();
  if (call.body.contains("reset")) {
    Status st = platform::RemoveTree(env, dir);
    if (!st.ok() && st.code() != Code::kNotFound) return call.Error(st);
    return call.Json(status::ok, {{"staged_bytes", 0}});
  }
  if (!call.body.contains("path") || !call.body.contains("offset") ||
      !call.body.contains("data")) {
    return call.Error(MakeError(status::bad_request, Code::kInvalidArgument,
                                "a piece needs path, offset and data", "path",
                                "required"));
  }
  const std::string path = call.body["path"].get<std::string>();
  const uint64_t offset = call.body["offset"].get<uint64_t>();
  auto data = Base64Decode(call.body["data"].get<std::string>());
  if (!data.ok()) {
    return call.Error(MakeError(status::bad_request, Code::kInvalidArgument,
                                "data is not base64", "data", "base64"));
  }
  const std::string file = platform::JoinPath(dir, path);
  Status st = platform::MakeDirs(env, platform::DirName(file), 0700);
  if (!st.ok()) return call.Error(st);
  // What the staging copy holds now, from the disk: the limits hold across
  // restarts of wardend too.
  uint64_t staged = 0;
  size_t count = 0;
  for (const char* sub : {"metadata", "targets"}) {
    const std::string d = platform::JoinPath(dir, sub);
    auto names = env.ListDir(d);
    if (!names.ok()) continue;
    for (const std::string& n : *names) {
      auto info = env.Stat(platform::JoinPath(d, n));
      if (info.ok()) staged += info->size;
      ++count;
    }
  }
  if (staged + data->size() > kMaxStagedBytes) {
    return call.Error(MakeError(status::payload_too_large,
                                Code::kResourceExhausted,
                                "the copy is larger than the device takes"));
  }
  if (offset == 0 && !platform::Exists(env, file) && count >= kMaxStagedFiles) {
    return call.Error(MakeError(status::payload_too_large,
                                Code::kResourceExhausted,
                                "too many files in the copy"));
  }
  platform::OpenOptions o;
  o.write = true;
  o.create = offset == 0 ? platform::OpenOptions::Create::kTruncate
                         : platform::OpenOptions::Create::kNever;
  auto f = env.Open(file, o);
  if (!f.ok()) return call.Error(f.status());
  auto size = (*f)->Size();
  if (!size.ok()) return call.Error(size.status());
  if (*size != offset) {
    return call.Error(MakeError(status::conflict, Code::kFailedPrecondition,
                                "the file holds " + std::to_string(*size) +
                                    " bytes, not " + std::to_string(offset),
                                "offset", "sequential"));
  }
  st = (*f)->WriteAt(
      offset, std::string_view(reinterpret_cast<const char*>(data->data()),
                               data->size()));
  if (st.ok()) st = (*f)->Sync();
  if (st.ok()) st = (*f)->Close();
  if (!st.ok()) return call.Error(st);
  return call.Json(status::ok, {{"path", path},
                                {"size", offset + data->size()},
                                {"staged_bytes", staged + data->size()}});
}

}  // namespace warden::api
