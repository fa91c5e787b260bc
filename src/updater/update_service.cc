#include "updater/update_service.h"

#include <cctype>

#include "base/time_format.h"
#include "base/version.h"
#include "platform/file.h"
#include "tuf/error.h"
#include "tuf/updater.h"
#include "updater/fetchers.h"

namespace warden::updater {
namespace {

constexpr size_t kMaxSmallFile = 4096;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

std::string CodeOf(const Status& status) {
  tuf::Error e = tuf::ErrorOf(status);
  if (e != tuf::Error::kNone) return "tuf/" + std::string(tuf::ErrorName(e));
  return std::string(CodeName(status.code()));
}

std::string WardenField(const tuf::Json& custom, const char* name) {
  if (!custom.is_object() || !custom.contains("warden")) return "";
  const tuf::Json& w = custom["warden"];
  if (!w.is_object() || !w.contains(name) || !w[name].is_string()) return "";
  return w[name].get<std::string>();
}

}  // namespace

const char* ServiceEventName(ServiceEvent::Kind kind) {
  switch (kind) {
    case ServiceEvent::Kind::kAvailable:
      return "update_available";
    case ServiceEvent::Kind::kStarted:
      return "update_started";
    case ServiceEvent::Kind::kInstalled:
      return "update_installed";
    case ServiceEvent::Kind::kCommitted:
      return "update_committed";
    case ServiceEvent::Kind::kRolledBack:
      return "update_rolled_back";
    case ServiceEvent::Kind::kRefused:
      return "update_refused";
    case ServiceEvent::Kind::kDeferred:
      return "update_deferred";
    case ServiceEvent::Kind::kTamper:
      return "tamper";
    case ServiceEvent::Kind::kSupportEnded:
      return "support_ended";
  }
  return "update";
}

struct UpdateService::Session {
  Source source;
  std::unique_ptr<HttpFetcher> http;
  std::unique_ptr<DirFetcher> dir;
  std::unique_ptr<tuf::Updater> tuf;
  std::string targets_base;  // ".../targets"
  tuf::Fetcher& fetcher() {
    return http ? static_cast<tuf::Fetcher&>(*http)
                : static_cast<tuf::Fetcher&>(*dir);
  }
};

UpdateService::UpdateService(platform::Env& env, const Clock& clock,
                             update::BootControl& boot, UpdateSettings settings)
    : env_(env),
      clock_(clock),
      boot_(boot),
      settings_(std::move(settings)),
      records_(env, platform::JoinPath(settings_.state_dir, "installed")) {}

UpdateService::~UpdateService() = default;

Result<std::unique_ptr<UpdateService>> UpdateService::Open(
    platform::Env& env, const Clock& clock, update::BootControl& boot,
    update::InstallerOptions installer, UpdateSettings settings) {
  WARDEN_TRY(platform::MakeDirs(env, settings.state_dir, 0700));
  std::unique_ptr<UpdateService> s(
      new UpdateService(env, clock, boot, std::move(settings)));
  installer.state_dir = s->settings_.state_dir;
  s->slot_paths_ = installer.slot_paths;
  installer.hardware_model = s->settings_.hardware_model;
  UpdateService* self = s.get();
  WARDEN_ASSIGN_OR_RETURN(
      s->installer_,
      update::Installer::Open(
          env, boot, std::move(installer),
          [self](const update::UpdateEvent& e) { self->OnInstallerEvent(e); }));
  if (!platform::Exists(env,
                        platform::JoinPath(s->MetadataDir(), "root.json"))) {
    WARDEN_TRY(tuf::Updater::Initialize(env, s->MetadataDir(),
                                        s->settings_.initial_root)
                   .WithContext("the initial trusted root"));
  }
  auto deferred = platform::ReadFile(
      env, platform::JoinPath(s->settings_.state_dir, "deferred"),
      kMaxSmallFile);
  if (deferred.ok()) {
    char* end = nullptr;
    long long v = std::strtoll(deferred->c_str(), &end, 10);
    if (end != deferred->c_str()) s->deferred_until_ = v;
  }
  s->installer_state_ = s->installer_->state();
  return s;
}

std::string UpdateService::MetadataDir() const {
  return platform::JoinPath(settings_.state_dir, "metadata");
}

std::string UpdateService::staging_dir() const {
  return platform::JoinPath(settings_.state_dir, "staging");
}

void UpdateService::Emit(ServiceEvent event) {
  std::lock_guard lock(mu_);
  events_.push_back(std::move(event));
}

std::vector<ServiceEvent> UpdateService::TakeEvents() {
  std::lock_guard lock(mu_);
  return std::exchange(events_, {});
}

void UpdateService::SetOutcome(std::string outcome, std::string detail) {
  std::lock_guard lock(mu_);
  last_outcome_ = std::move(outcome);
  last_detail_ = std::move(detail);
}

void UpdateService::OnInstallerEvent(const update::UpdateEvent& e) {
  ServiceEvent out{ServiceEvent::Kind::kAvailable, e.version, "", e.detail};
  switch (e.kind) {
    case update::UpdateEvent::Kind::kAvailable:
      out.kind = ServiceEvent::Kind::kAvailable;
      break;
    case update::UpdateEvent::Kind::kStarted:
      out.kind = ServiceEvent::Kind::kStarted;
      break;
    case update::UpdateEvent::Kind::kInstalled:
      out.kind = ServiceEvent::Kind::kInstalled;
      SetOutcome("installed", e.version);
      break;
    case update::UpdateEvent::Kind::kCommitted:
      out.kind = ServiceEvent::Kind::kCommitted;
      SetOutcome("committed", e.version);
      break;
    case update::UpdateEvent::Kind::kRolledBack:
      out.kind = ServiceEvent::Kind::kRolledBack;
      SetOutcome("rolled_back", e.detail);
      break;
    case update::UpdateEvent::Kind::kRefused:
      out.kind = ServiceEvent::Kind::kRefused;
      out.code = update::RefusalName(e.refusal);
      SetOutcome("refused: " + out.code, e.detail);
      break;
  }
  Emit(std::move(out));
}

Status UpdateService::Refuse(const Status& status) {
  if (tuf::ErrorOf(status) != tuf::Error::kNone) {
    std::string code = CodeOf(status);
    Emit({ServiceEvent::Kind::kRefused, "", code, status.message()});
    SetOutcome("refused: " + code, status.message());
  }
  return status;
}

const IntegrityState& UpdateService::CheckIntegrity() {
  IntegrityState st;
  st.checked = true;
  const update::Slot booted = boot_.booted();
  const std::string& path = slot_paths_[static_cast<int>(booted)];
  auto check = records_.Check(booted, path, image_name());
  if (!check.ok() && check.status().code() == Code::kNotFound &&
      !settings_.factory_targets.empty()) {
    // A factory device: the factory release's signed targets and the
    // initial root vouch for the image; once they do, they are its record.
    check = records_.CheckWith(settings_.initial_root,
                               settings_.factory_targets, path, image_name());
    if (check.ok()) {
      Status saved = records_.Save(booted, settings_.initial_root,
                                   settings_.factory_targets);
      if (!saved.ok()) check = saved;
    }
  }
  if (check.ok()) {
    st.ok = true;
    st.version = check->version;
    st.support_until = check->support_until;
  } else {
    st.ok = false;
    st.reason = std::string("slot ") + update::SlotName(booted) + ": " +
                check.status().ToString();
    Emit({ServiceEvent::Kind::kTamper, "", CodeOf(check.status()), st.reason});
  }
  std::lock_guard lock(mu_);
  integrity_ = st;
  return integrity_;
}

Result<update::Next> UpdateService::Resume(const update::HealthCheck& health) {
  auto next = installer_->Resume(health);
  std::lock_guard lock(mu_);
  installer_state_ = installer_->state();
  return next;
}

Result<std::unique_ptr<UpdateService::Session>> UpdateService::OpenSession(
    const Source& source) {
  auto session = std::make_unique<Session>();
  session->source = source;
  std::string base;
  if (source.kind == Source::Kind::kRepository) {
    if (settings_.repository_url.empty()) {
      return FailedPreconditionError("no update repository is configured");
    }
    net::HttpsOptions o;
    if (settings_.ca_file.empty()) {
      o.ca_dir = "/etc/ssl/certs";
    } else {
      o.ca_file = settings_.ca_file;
    }
    o.connect_timeout = settings_.connect_timeout;
    o.user_agent = "wardend";
    WARDEN_ASSIGN_OR_RETURN(HttpFetcher f, HttpFetcher::Create(std::move(o)));
    session->http = std::make_unique<HttpFetcher>(std::move(f));
    base = settings_.repository_url;
  } else {
    session->dir = std::make_unique<DirFetcher>(env_, source.dir);
    base = session->dir->root();
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  session->targets_base = base + "/targets";
  WARDEN_ASSIGN_OR_RETURN(
      session->tuf,
      tuf::Updater::Open(env_, clock_, session->fetcher(), MetadataDir(),
                         base + "/metadata", session->targets_base));
  return session;
}

Result<update::Target> UpdateService::TargetOf(Session& session) {
  Status refreshed = session.tuf->Refresh();
  if (!refreshed.ok()) return Refuse(refreshed);
  auto info = session.tuf->GetTargetInfo(image_name());
  if (!info.ok()) return Refuse(info.status());
  update::Target t;
  t.name = info->path;
  t.length = info->file.length;
  for (const auto& [alg, hex] : info->file.hashes) {
    if (alg == "sha256") t.sha256_hex = Lower(hex);
    if (alg == "sha512") t.sha512_hex = Lower(hex);
  }
  t.version = WardenField(info->file.custom, "version");
  t.hardware_model = WardenField(info->file.custom, "hardware_model");
  t.min_from_version = WardenField(info->file.custom, "min_from_version");
  return t;
}

namespace {

// One long operation at a time: holds `busy` from a successful claim until
// the end of the scope.
class BusyClaim {
 public:
  explicit BusyClaim(std::atomic<bool>& busy)
      : busy_(busy), held_(!busy.exchange(true)) {}
  ~BusyClaim() {
    if (held_) busy_ = false;
  }
  BusyClaim(const BusyClaim&) = delete;
  BusyClaim& operator=(const BusyClaim&) = delete;
  bool held() const { return held_; }

 private:
  std::atomic<bool>& busy_;
  const bool held_;
};

}  // namespace

Result<std::optional<update::Target>> UpdateService::Check(
    const Source& source) {
  BusyClaim claim(busy_);
  if (!claim.held()) return FailedPreconditionError("busy");
  WARDEN_ASSIGN_OR_RETURN(auto session, OpenSession(source));
  WARDEN_ASSIGN_OR_RETURN(update::Target t, TargetOf(*session));
  WARDEN_ASSIGN_OR_RETURN(std::string floor, installer_->VersionFloor());
  auto newer = CompareVersionText(t.version, floor);
  std::lock_guard lock(mu_);
  if (!newer.ok() || *newer <= 0) {
    available_version_.clear();
    return std::optional<update::Target>();
  }
  available_version_ = t.version;
  return std::optional<update::Target>(t);
}

Status UpdateService::SaveSource(const Source& source) {
  std::string text = source.kind == Source::Kind::kRepository
                         ? std::string("repository\n")
                         : "dir\n" + source.dir + "\n";
  return platform::WriteFileAtomic(
      env_, platform::JoinPath(settings_.state_dir, "source"), text, 0600);
}

Result<Source> UpdateService::LoadSource() {
  WARDEN_ASSIGN_OR_RETURN(
      std::string text,
      platform::ReadFile(env_,
                         platform::JoinPath(settings_.state_dir, "source"),
                         kMaxSmallFile));
  Source s;
  if (text.rfind("dir\n", 0) == 0) {
    s.kind = Source::Kind::kDirectory;
    s.dir = text.substr(4);
    while (!s.dir.empty() && s.dir.back() == '\n') s.dir.pop_back();
  }
  return s;
}

Result<update::Next> UpdateService::Download(Session& session) {
  const update::InstallerState& st = installer_->state();
  const update::Target& t = st.target;
  std::string name = t.name;
  if (session.tuf->root().consistent_snapshot) {
    name = t.sha256_hex + "." + name;
  }
  const std::string url = session.targets_base + "/" + tuf::QuoteName(name);
  WARDEN_ASSIGN_OR_RETURN(auto writer, installer_->OpenSlotWriter());
  Status got = session.http
                   ? session.http->DownloadImage(url, *writer, t.length)
                   : session.dir->CopyImage(url, *writer, t.length);
  if (!got.ok()) {
    SetOutcome("interrupted", got.ToString());
    std::lock_guard lock(mu_);
    installer_state_ = installer_->state();
    return got;
  }
  Status finished = installer_->FinishDownload(*writer);
  if (finished.ok()) finished = installer_->MarkForTrial();
  std::lock_guard lock(mu_);
  installer_state_ = installer_->state();
  if (!finished.ok()) return finished;
  return update::Next::kReboot;
}

Result<update::Next> UpdateService::Install(const Source& source) {
  BusyClaim claim(busy_);
  if (!claim.held()) return FailedPreconditionError("busy");
  WARDEN_ASSIGN_OR_RETURN(auto session, OpenSession(source));
  WARDEN_ASSIGN_OR_RETURN(update::Target t, TargetOf(*session));
  WARDEN_ASSIGN_OR_RETURN(std::string floor, installer_->VersionFloor());
  auto newer = CompareVersionText(t.version, floor);
  // A release that failed its trial is not tried again: only a newer one.
  const bool failed_before =
      installer_->state().phase == update::Phase::kRolledBack &&
      installer_->state().target.sha256_hex == t.sha256_hex;
  if (failed_before ||
      (newer.ok() && *newer <= 0 &&
       installer_->state().phase != update::Phase::kDownloading)) {
    std::lock_guard lock(mu_);
    available_version_.clear();
    return update::Next::kNothing;
  }
  {
    std::lock_guard lock(mu_);
    available_version_ = t.version;
  }
  const update::Slot slot = update::OtherSlot(boot_.booted());
  // The record first: it names the new image, which the slot does not hold
  // until the download verified, so it cannot vouch for anything earlier
  // (and the inactive slot is not booted until then).
  auto root = platform::ReadFile(
      env_, platform::JoinPath(MetadataDir(), "root.json"), 512 * 1024);
  auto targets = platform::ReadFile(
      env_, platform::JoinPath(MetadataDir(), "targets.json"), 5000 * 1000);
  if (!root.ok()) return root.status();
  if (!targets.ok()) return targets.status();
  // Both before the offer: once the installer says downloading, a restart
  // resumes from the recorded source, so it must be durable by then.
  WARDEN_TRY(records_.Save(slot, *root, *targets));
  WARDEN_TRY(SaveSource(source));
  Status offered = installer_->Offer(t);
  if (!offered.ok()) {
    std::lock_guard lock(mu_);
    installer_state_ = installer_->state();
    return offered;
  }
  return Download(*session);
}

Result<update::Next> UpdateService::ResumeDownload() {
  BusyClaim claim(busy_);
  if (!claim.held()) return FailedPreconditionError("busy");
  if (installer_->state().phase != update::Phase::kDownloading) {
    return update::Next::kNothing;
  }
  WARDEN_ASSIGN_OR_RETURN(Source source, LoadSource());
  WARDEN_ASSIGN_OR_RETURN(auto session, OpenSession(source));
  // The target stays the one offered; the refresh only brings the trusted
  // metadata up to date so that the image URL is the repository's.
  WARDEN_ASSIGN_OR_RETURN(update::Target t, TargetOf(*session));
  if (t.sha256_hex != installer_->state().target.sha256_hex) {
    // The repository moved on: start the newer release instead, with the
    // metadata that names it as the slot's record.
    WARDEN_ASSIGN_OR_RETURN(
        std::string root,
        platform::ReadFile(env_, platform::JoinPath(MetadataDir(), "root.json"),
                           512 * 1024));
    WARDEN_ASSIGN_OR_RETURN(
        std::string targets,
        platform::ReadFile(env_,
                           platform::JoinPath(MetadataDir(), "targets.json"),
                           5000 * 1000));
    WARDEN_TRY(records_.Save(installer_->state().target_slot, root, targets));
    WARDEN_TRY(installer_->Offer(t));
  }
  return Download(*session);
}

Status UpdateService::CopyFile(const std::string& from, tuf::ByteSink& sink) {
  WARDEN_ASSIGN_OR_RETURN(auto in, env_.Open(from, platform::OpenOptions{}));
  std::vector<char> buf(64 * 1024);
  for (uint64_t offset = 0;;) {
    WARDEN_ASSIGN_OR_RETURN(size_t n,
                            in->ReadAt(offset, buf.data(), buf.size()));
    if (n == 0) return Status::Ok();
    WARDEN_TRY(
        sink.Write(ByteView(reinterpret_cast<const uint8_t*>(buf.data()), n)));
    offset += n;
  }
}

Status UpdateService::Repair(const Source& source) {
  BusyClaim claim(busy_);
  if (!claim.held()) return FailedPreconditionError("busy");
  const update::Slot booted = boot_.booted();
  const std::string path = slot_paths_[static_cast<int>(booted)];
  const std::string dir = records_.RecordDir(booted);
  WARDEN_ASSIGN_OR_RETURN(
      std::string root_bytes,
      platform::ReadFile(env_, platform::JoinPath(dir, "root.json"),
                         512 * 1024));
  WARDEN_ASSIGN_OR_RETURN(
      std::string targets_bytes,
      platform::ReadFile(env_, platform::JoinPath(dir, "targets.json"),
                         5000 * 1000));
  WARDEN_ASSIGN_OR_RETURN(
      auto targets, tuf::Parse<tuf::Targets>(targets_bytes, {5000 * 1000}));
  auto it = targets.signed_.targets.find(image_name());
  if (it == targets.signed_.targets.end()) {
    return IntegrityError("the record names no " + image_name());
  }
  std::string sha256;
  if (auto h = it->second.hashes.find("sha256"); h != it->second.hashes.end()) {
    sha256 = Lower(h->second);
  }
  const std::string temp = path + ".repair";
  // The release streams into `temp` through a fixed buffer, never whole in
  // memory (images are as large as a slot), its length capped at the
  // record's; the whole file is checked against the record below.
  platform::OpenOptions create;
  create.write = true;
  create.create = platform::OpenOptions::Create::kTruncate;
  create.mode = 0755;
  WARDEN_ASSIGN_OR_RETURN(auto out, env_.Open(temp, create));
  struct FileSink : tuf::ByteSink {
    platform::File& file;
    uint64_t limit;
    uint64_t written = 0;
    FileSink(platform::File& f, uint64_t l) : file(f), limit(l) {}
    Status Write(ByteView b) override {
      if (b.size() > limit - written) {
        return ResourceExhaustedError("more bytes than the recorded release");
      }
      written += b.size();
      return file.Append(
          std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    }
  } sink(*out, it->second.length);
  // The other slot first: when it holds the very bytes, no fetch is needed.
  const std::string other =
      slot_paths_[static_cast<int>(update::OtherSlot(booted))];
  auto from_other =
      records_.CheckWith(root_bytes, targets_bytes, other, image_name());
  Status copied;
  if (from_other.ok()) {
    copied = CopyFile(other, sink);
  } else {
    WARDEN_ASSIGN_OR_RETURN(auto session, OpenSession(source));
    Status refreshed = session->tuf->Refresh();
    if (!refreshed.ok()) {
      (void)platform::RemoveFile(env_, temp);
      return Refuse(refreshed);
    }
    std::string name = image_name();
    if (session->tuf->root().consistent_snapshot) name = sha256 + "." + name;
    // The repository serves the release by its hash: the record's bytes.
    copied = session->fetcher().FetchTo(
        session->targets_base + "/" + tuf::QuoteName(name), it->second.length,
        sink);
  }
  if (copied.ok()) copied = out->Sync();
  Status closed = out->Close();
  if (copied.ok()) copied = closed;
  if (!copied.ok()) {
    (void)platform::RemoveFile(env_, temp);
    return copied;
  }
  auto verified =
      records_.CheckWith(root_bytes, targets_bytes, temp, image_name());
  if (!verified.ok()) {
    (void)platform::RemoveFile(env_, temp);
    return verified.status();
  }
  WARDEN_TRY(env_.Rename(temp, path));
  WARDEN_TRY(env_.SyncDir(platform::DirName(path)));
  CheckIntegrity();
  return Status::Ok();
}

Status UpdateService::Defer(int hours) {
  if (hours < 0 || std::chrono::hours(hours) > settings_.max_deferral) {
    return InvalidArgumentError("a deferral is 0 to " +
                                std::to_string(settings_.max_deferral.count()) +
                                " hours");
  }
  const int64_t until = UnixSeconds(clock_.Now()) + int64_t{hours} * 3600;
  WARDEN_TRY(platform::WriteFileAtomic(
      env_, platform::JoinPath(settings_.state_dir, "deferred"),
      std::to_string(until), 0600));
  {
    std::lock_guard lock(mu_);
    deferred_until_ = until;
  }
  Emit({ServiceEvent::Kind::kDeferred, "", "",
        FormatTimestamp(FromUnixSeconds(until))});
  return Status::Ok();
}

bool UpdateService::Deferred() const {
  std::lock_guard lock(mu_);
  return deferred_until_ && UnixSeconds(clock_.Now()) < *deferred_until_;
}

void UpdateService::CheckSupport() {
  UpdateSnapshot s = Snapshot();
  if (s.supported) return;
  std::lock_guard lock(mu_);
  if (support_end_reported_) return;
  support_end_reported_ = true;
  events_.push_back({ServiceEvent::Kind::kSupportEnded, s.current_version, "",
                     "security support ended " + s.support_until});
}

UpdateSnapshot UpdateService::Snapshot() const {
  std::lock_guard lock(mu_);
  UpdateSnapshot s;
  s.phase = update::PhaseName(installer_state_.phase);
  s.busy = busy_.load();
  s.current_version = installer_state_.committed_version;
  s.available_version = available_version_;
  s.last_outcome = last_outcome_;
  s.last_detail = last_detail_;
  // Across a restart, the installer's phase still tells how the last
  // update ended.
  if (s.last_outcome.empty() &&
      (installer_state_.phase == update::Phase::kRolledBack ||
       installer_state_.phase == update::Phase::kCommitted)) {
    s.last_outcome = s.phase;
  }
  s.integrity = integrity_;
  s.support_until = integrity_.support_until;
  if (!s.support_until.empty()) {
    auto end = ParseDate(s.support_until);
    // Supported through the whole of the last day, UTC.
    s.supported = end.ok() && clock_.Now() < *end + std::chrono::hours(24);
  }
  if (deferred_until_ && UnixSeconds(clock_.Now()) < *deferred_until_) {
    s.deferred_until = deferred_until_;
  }
  return s;
}

}  // namespace warden::updater
