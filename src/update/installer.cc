#include "update/installer.h"

#include <charconv>
#include <utility>

#include "base/version.h"
#include "platform/file.h"

namespace warden::update {
namespace {

constexpr char kStateFile[] = "update.state";
constexpr char kFloorFile[] = "version_floor";
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxTextField = 128;

const char* const kPhaseNames[] = {"idle",          "downloading", "verified",
                                   "trial_pending", "trial",       "committed",
                                   "rolled_back"};

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsPrintable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

Result<uint64_t> ParseU64(const std::string& text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return DataLossError("update state: bad number");
  }
  return n;
}

std::string Field(const BootVars& vars, const std::string& key) {
  auto it = vars.find(key);
  return it == vars.end() ? std::string() : it->second;
}

std::string FormatState(const InstallerState& s) {
  BootVars v;
  v["phase"] = PhaseName(s.phase);
  v["committed_version"] = s.committed_version;
  v["slot_a_sha256"] = s.slot_sha256[0];
  v["slot_b_sha256"] = s.slot_sha256[1];
  if (s.phase != Phase::kIdle && s.phase != Phase::kCommitted) {
    v["target_name"] = s.target.name;
    v["target_length"] = std::to_string(s.target.length);
    v["target_sha256"] = s.target.sha256_hex;
    v["target_sha512"] = s.target.sha512_hex;
    v["target_version"] = s.target.version;
    v["target_hardware"] = s.target.hardware_model;
    v["target_min_from"] = s.target.min_from_version;
    v["target_slot"] = SlotName(s.target_slot);
    v["durable_bytes"] = std::to_string(s.durable_bytes);
  }
  return FormatBootVars(v);
}

Result<InstallerState> ParseState(std::string_view text) {
  auto vars = ParseBootVars(text);
  if (!vars.ok())
    return DataLossError("update state: " + vars.status().message());
  InstallerState s;
  const std::string phase = Field(*vars, "phase");
  bool known = false;
  for (int i = 0; i < 7; ++i) {
    if (phase == kPhaseNames[i]) {
      s.phase = static_cast<Phase>(i);
      known = true;
    }
  }
  if (!known) return DataLossError("update state: bad phase");
  s.committed_version = Field(*vars, "committed_version");
  if (!ParseVersion(s.committed_version).ok()) {
    return DataLossError("update state: bad committed version");
  }
  s.slot_sha256[0] = Field(*vars, "slot_a_sha256");
  s.slot_sha256[1] = Field(*vars, "slot_b_sha256");
  if (s.phase == Phase::kIdle || s.phase == Phase::kCommitted) return s;
  s.target.name = Field(*vars, "target_name");
  WARDEN_ASSIGN_OR_RETURN(s.target.length,
                          ParseU64(Field(*vars, "target_length")));
  s.target.sha256_hex = Field(*vars, "target_sha256");
  s.target.sha512_hex = Field(*vars, "target_sha512");
  s.target.version = Field(*vars, "target_version");
  s.target.hardware_model = Field(*vars, "target_hardware");
  s.target.min_from_version = Field(*vars, "target_min_from");
  auto slot = ParseSlot(Field(*vars, "target_slot"));
  if (!slot.ok()) return DataLossError("update state: bad target slot");
  s.target_slot = *slot;
  WARDEN_ASSIGN_OR_RETURN(s.durable_bytes,
                          ParseU64(Field(*vars, "durable_bytes")));
  return s;
}

bool SameTarget(const Target& a, const Target& b) {
  return a.name == b.name && a.length == b.length &&
         a.sha256_hex == b.sha256_hex && a.sha512_hex == b.sha512_hex &&
         a.version == b.version && a.hardware_model == b.hardware_model &&
         a.min_from_version == b.min_from_version;
}

Status CheckTarget(const Target& t, uint64_t max_bytes) {
  if (t.sha256_hex.empty() && t.sha512_hex.empty()) {
    return InvalidArgumentError("target has no digest");
  }
  if ((!t.sha256_hex.empty() &&
       (t.sha256_hex.size() != 64 || !IsHex(t.sha256_hex))) ||
      (!t.sha512_hex.empty() &&
       (t.sha512_hex.size() != 128 || !IsHex(t.sha512_hex)))) {
    return InvalidArgumentError("target digest is not lowercase hex");
  }
  if (t.length == 0 || t.length > max_bytes) {
    return InvalidArgumentError("target length out of range");
  }
  for (const std::string* s :
       {&t.name, &t.version, &t.hardware_model, &t.min_from_version}) {
    if (s->size() > kMaxTextField || !IsPrintable(*s)) {
      return InvalidArgumentError("target field too long or not printable");
    }
  }
  if (!ParseVersion(t.version).ok()) {
    return InvalidArgumentError("target version is not a dotted number");
  }
  if (!t.min_from_version.empty() && !ParseVersion(t.min_from_version).ok()) {
    return InvalidArgumentError(
        "target minimum version is not a dotted number");
  }
  return Status::Ok();
}

// SHA-256 hex of a whole file, read in fixed chunks.
Result<std::string> HashFile(platform::Env& env, const std::string& path,
                             uint64_t max_bytes) {
  WARDEN_ASSIGN_OR_RETURN(auto file, env.Open(path, platform::OpenOptions{}));
  WARDEN_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size > max_bytes)
    return ResourceExhaustedError("slot too large: " + path);
  crypto::Hasher h(crypto::HashAlg::kSha256);
  std::string buf(kReadChunk, '\0');
  for (uint64_t off = 0; off < size;) {
    WARDEN_ASSIGN_OR_RETURN(size_t n,
                            file->ReadAt(off, buf.data(), buf.size()));
    if (n == 0) break;
    h.Update(AsBytes(std::string_view(buf.data(), n)));
    off += n;
  }
  return HexEncode(h.Finish());
}

}  // namespace

const char* PhaseName(Phase p) { return kPhaseNames[static_cast<int>(p)]; }

const char* RefusalName(Refusal r) {
  switch (r) {
    case Refusal::kNone:
      return "none";
    case Refusal::kBadTarget:
      return "bad_target";
    case Refusal::kWrongHardware:
      return "wrong_hardware";
    case Refusal::kOlderVersion:
      return "older_version";
    case Refusal::kBelowMinimumFrom:
      return "below_minimum_from";
    case Refusal::kTooManyBytes:
      return "too_many_bytes";
    case Refusal::kWrongLength:
      return "wrong_length";
    case Refusal::kWrongHash:
      return "wrong_hash";
  }
  return "unknown";
}

// SlotWriter

SlotWriter::SlotWriter(Installer& installer,
                       std::unique_ptr<platform::File> file, uint64_t written)
    : installer_(installer),
      file_(std::move(file)),
      written_(written),
      durable_(written) {}

SlotWriter::~SlotWriter() = default;

Status SlotWriter::Write(ByteView bytes) {
  if (failed_) return FailedPreconditionError("slot writer: already failed");
  const Target& t = installer_.state_.target;
  if (bytes.size() > t.length - written_) {
    failed_ = true;
    file_.reset();
    return installer_.Refuse(
        Refusal::kTooManyBytes,
        ResourceExhaustedError("image longer than its target's " +
                               std::to_string(t.length) + " bytes"));
  }
  Status st = file_->WriteAt(
      written_, std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                 bytes.size()));
  if (!st.ok()) {
    failed_ = true;
    return st;
  }
  sha256_.Update(bytes);
  if (!t.sha512_hex.empty()) sha512_.Update(bytes);
  written_ += bytes.size();
  if (written_ - durable_ >= installer_.options_.checkpoint_bytes) {
    return Checkpoint();
  }
  return Status::Ok();
}

Status SlotWriter::Checkpoint() {
  Status st = file_->Sync();
  if (st.ok()) {
    InstallerState next = installer_.state_;
    next.durable_bytes = written_;
    st = installer_.Save(next);
  }
  if (!st.ok()) {
    failed_ = true;
    return st;
  }
  durable_ = written_;
  return Status::Ok();
}

Status SlotWriter::Restart() {
  if (failed_) return FailedPreconditionError("slot writer: already failed");
  failed_ = true;
  WARDEN_TRY(file_->Truncate(0));
  WARDEN_TRY(file_->Sync());
  sha256_.Reset();
  sha512_.Reset();
  written_ = durable_ = 0;
  InstallerState next = installer_.state_;
  next.durable_bytes = 0;
  WARDEN_TRY(installer_.Save(next));
  failed_ = false;
  return Status::Ok();
}

// Installer

Installer::Installer(platform::Env& env, BootControl& boot,
                     InstallerOptions options, EventSink events)
    : env_(env),
      boot_(boot),
      options_(std::move(options)),
      events_(std::move(events)) {}

Result<std::unique_ptr<Installer>> Installer::Open(platform::Env& env,
                                                   BootControl& boot,
                                                   InstallerOptions options,
                                                   EventSink events) {
  std::unique_ptr<Installer> in(
      new Installer(env, boot, std::move(options), std::move(events)));
  const std::string path =
      platform::JoinPath(in->options_.state_dir, kStateFile);
  auto text = platform::ReadFile(env, path, 4096);
  if (text.ok()) {
    WARDEN_ASSIGN_OR_RETURN(in->state_, ParseState(*text));
    return in;
  }
  if (text.status().code() != Code::kNotFound) return text.status();
  // First start: the committed slot holds the factory image.
  if (!ParseVersion(in->options_.factory_version).ok()) {
    return InvalidArgumentError("factory version is not a dotted number");
  }
  WARDEN_ASSIGN_OR_RETURN(BootStatus b, boot.Read());
  InstallerState s;
  s.phase = Phase::kIdle;
  s.committed_version = in->options_.factory_version;
  WARDEN_ASSIGN_OR_RETURN(
      s.slot_sha256[static_cast<int>(b.committed)],
      HashFile(env, in->options_.slot_paths[static_cast<int>(b.committed)],
               in->options_.max_image_bytes));
  WARDEN_TRY(in->RaiseFloor(s.committed_version));
  WARDEN_TRY(in->Save(s));
  return in;
}

Status Installer::Save(const InstallerState& next) {
  WARDEN_TRY(platform::WriteFileAtomic(
      env_, platform::JoinPath(options_.state_dir, kStateFile),
      FormatState(next), 0600));
  state_ = next;
  return Status::Ok();
}

Result<std::string> Installer::VersionFloor() {
  WARDEN_ASSIGN_OR_RETURN(
      std::string text,
      platform::ReadFile(
          env_, platform::JoinPath(options_.state_dir, kFloorFile), 256));
  if (!ParseVersion(text).ok()) {
    return DataLossError("version floor is damaged");
  }
  return text;
}

Status Installer::RaiseFloor(const std::string& version) {
  auto floor = VersionFloor();
  if (floor.ok()) {
    WARDEN_ASSIGN_OR_RETURN(int cmp, CompareVersionText(version, *floor));
    if (cmp <= 0) return Status::Ok();
  } else if (floor.status().code() != Code::kNotFound) {
    return floor.status();
  }
  return platform::WriteFileAtomic(
      env_, platform::JoinPath(options_.state_dir, kFloorFile), version, 0600);
}

void Installer::Emit(UpdateEvent::Kind kind, std::string detail,
                     Refusal refusal) {
  if (!events_) return;
  UpdateEvent e{kind, state_.target.version, refusal, std::move(detail)};
  events_(e);
}

Status Installer::Refuse(Refusal why, Status status) {
  if (state_.phase == Phase::kDownloading) {
    InstallerState next = state_;
    next.phase = Phase::kIdle;
    Status st = Save(next);
    if (!st.ok()) return st;
  }
  if (events_) {
    events_(UpdateEvent{UpdateEvent::Kind::kRefused, state_.target.version, why,
                        status.message()});
  }
  return status;
}

Status Installer::Offer(const Target& target) {
  if (events_) {
    events_(UpdateEvent{UpdateEvent::Kind::kAvailable, target.version,
                        Refusal::kNone, target.name});
  }
  auto refuse = [&](Refusal why, Status status) {
    if (events_) {
      events_(UpdateEvent{UpdateEvent::Kind::kRefused, target.version, why,
                          status.message()});
    }
    return status;
  };
  if (state_.phase == Phase::kVerified ||
      state_.phase == Phase::kTrialPending || state_.phase == Phase::kTrial) {
    return FailedPreconditionError("an update is already being installed");
  }
  Status valid = CheckTarget(target, options_.max_image_bytes);
  if (!valid.ok()) return refuse(Refusal::kBadTarget, valid);
  if (target.hardware_model != options_.hardware_model) {
    return refuse(Refusal::kWrongHardware,
                  PermissionDeniedError("target is for hardware " +
                                        target.hardware_model));
  }
  WARDEN_ASSIGN_OR_RETURN(std::string floor, VersionFloor());
  WARDEN_ASSIGN_OR_RETURN(int newer, CompareVersionText(target.version, floor));
  if (newer <= 0) {
    return refuse(Refusal::kOlderVersion,
                  RollbackError("version " + target.version +
                                " is not newer than " + floor));
  }
  if (!target.min_from_version.empty()) {
    WARDEN_ASSIGN_OR_RETURN(
        int from,
        CompareVersionText(state_.committed_version, target.min_from_version));
    if (from < 0) {
      return refuse(
          Refusal::kBelowMinimumFrom,
          FailedPreconditionError("version " + target.version +
                                  " needs at least " + target.min_from_version +
                                  " running, not " + state_.committed_version));
    }
  }
  if (state_.phase == Phase::kDownloading &&
      SameTarget(state_.target, target)) {
    Emit(UpdateEvent::Kind::kStarted, "resumed");
    return Status::Ok();
  }
  WARDEN_ASSIGN_OR_RETURN(BootStatus b, boot_.Read());
  if (b.booted != b.committed || b.trial) {
    return FailedPreconditionError("not running the committed slot");
  }
  InstallerState next = state_;
  next.phase = Phase::kDownloading;
  next.target = target;
  next.target_slot = OtherSlot(b.committed);
  next.durable_bytes = 0;
  next.slot_sha256[static_cast<int>(next.target_slot)].clear();
  WARDEN_TRY(Save(next));
  Emit(UpdateEvent::Kind::kStarted);
  return Status::Ok();
}

Result<std::unique_ptr<SlotWriter>> Installer::OpenSlotWriter() {
  if (state_.phase != Phase::kDownloading) {
    return FailedPreconditionError("no download under way");
  }
  platform::OpenOptions o;
  o.write = true;
  o.create = platform::OpenOptions::Create::kIfMissing;
  const std::string& path =
      options_.slot_paths[static_cast<int>(state_.target_slot)];
  WARDEN_ASSIGN_OR_RETURN(auto file, env_.Open(path, o));
  // A slot that is a file may have just been made: its name must survive
  // for the synced bytes in it to count.
  WARDEN_TRY(env_.SyncDir(platform::DirName(path)));
  uint64_t durable = std::min(state_.durable_bytes, state_.target.length);
  WARDEN_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size < durable) durable = 0;
  if (size != durable) WARDEN_TRY(file->Truncate(durable));
  std::unique_ptr<SlotWriter> w(new SlotWriter(*this, std::move(file), 0));
  // The hash state is not persisted: the durable prefix is hashed again,
  // once, from the slot.
  std::string buf(kReadChunk, '\0');
  while (w->written_ < durable) {
    size_t want = static_cast<size_t>(
        std::min<uint64_t>(buf.size(), durable - w->written_));
    WARDEN_ASSIGN_OR_RETURN(size_t n,
                            w->file_->ReadAt(w->written_, buf.data(), want));
    if (n == 0) return DataLossError("slot shorter than its durable prefix");
    ByteView b = AsBytes(std::string_view(buf.data(), n));
    w->sha256_.Update(b);
    if (!state_.target.sha512_hex.empty()) w->sha512_.Update(b);
    w->written_ += n;
  }
  w->durable_ = w->written_;
  return w;
}

Status Installer::FinishDownload(SlotWriter& writer) {
  if (state_.phase != Phase::kDownloading || writer.failed_ || !writer.file_) {
    return FailedPreconditionError("no download under way");
  }
  writer.failed_ = true;
  if (writer.written_ != state_.target.length) {
    writer.file_.reset();
    return Refuse(
        Refusal::kWrongLength,
        IntegrityError("image has " + std::to_string(writer.written_) +
                       " bytes, its target " +
                       std::to_string(state_.target.length)));
  }
  WARDEN_TRY(writer.file_->Sync());
  WARDEN_TRY(writer.file_->Close());
  writer.file_.reset();
  const std::string sha256 = HexEncode(writer.sha256_.Finish());
  if (!state_.target.sha256_hex.empty() && sha256 != state_.target.sha256_hex) {
    return Refuse(Refusal::kWrongHash,
                  IntegrityError("image SHA-256 does not match its target"));
  }
  if (!state_.target.sha512_hex.empty() &&
      HexEncode(writer.sha512_.Finish()) != state_.target.sha512_hex) {
    return Refuse(Refusal::kWrongHash,
                  IntegrityError("image SHA-512 does not match its target"));
  }
  InstallerState next = state_;
  next.phase = Phase::kVerified;
  next.durable_bytes = state_.target.length;
  next.slot_sha256[static_cast<int>(state_.target_slot)] = sha256;
  return Save(next);
}

Status Installer::MarkForTrial() {
  if (state_.phase != Phase::kVerified &&
      state_.phase != Phase::kTrialPending) {
    return FailedPreconditionError("no verified image to try");
  }
  if (state_.phase == Phase::kVerified) {
    InstallerState next = state_;
    next.phase = Phase::kTrialPending;
    WARDEN_TRY(Save(next));
  }
  WARDEN_TRY(boot_.MarkTrial(state_.target_slot));
  Emit(UpdateEvent::Kind::kInstalled);
  return Status::Ok();
}

Status Installer::RollBack(std::string why) {
  InstallerState next = state_;
  next.phase = Phase::kRolledBack;
  WARDEN_TRY(Save(next));
  WARDEN_TRY(boot_.CancelTrial());
  Emit(UpdateEvent::Kind::kRolledBack, std::move(why));
  return Status::Ok();
}

Result<Next> Installer::Resume(const HealthCheck& health) {
  WARDEN_ASSIGN_OR_RETURN(BootStatus b, boot_.Read());
  switch (state_.phase) {
    case Phase::kIdle:
    case Phase::kCommitted:
      if (b.fell_back || b.trial) WARDEN_TRY(boot_.CancelTrial());
      return Next::kNothing;
    case Phase::kDownloading:
      return Next::kDownload;
    case Phase::kVerified:
      WARDEN_TRY(MarkForTrial());
      return Next::kReboot;
    case Phase::kTrialPending:
      if (b.booted != state_.target_slot) {
        if (b.fell_back) {
          WARDEN_TRY(RollBack("the trial boot fell back"));
          return Next::kNothing;
        }
        // Not yet rebooted, or interrupted before the boot environment was
        // set. Set it (again): an environment seen after a failed sync may
        // not be durable.
        const bool was_set = b.trial == state_.target_slot;
        WARDEN_TRY(boot_.MarkTrial(state_.target_slot));
        if (!was_set) Emit(UpdateEvent::Kind::kInstalled);
        return Next::kReboot;
      } else {
        InstallerState next = state_;
        next.phase = Phase::kTrial;
        WARDEN_TRY(Save(next));
      }
      [[fallthrough]];
    case Phase::kTrial: {
      if (b.booted != state_.target_slot) {
        WARDEN_TRY(RollBack("the trial boot fell back"));
        return Next::kNothing;
      }
      if (b.committed != state_.target_slot) {
        Status healthy = health ? health() : Status::Ok();
        if (!healthy.ok()) {
          WARDEN_TRY(RollBack("health check: " + healthy.ToString()));
          return Next::kReboot;
        }
      }
      // Also when the environment already reads committed: what is seen
      // after a failed sync may not survive a power cut, so it is stored
      // again before the state says committed.
      WARDEN_TRY(boot_.CommitBooted());
      // The floor rises only once the boot environment has committed the
      // new slot: a crash before leaves the trial to finish or fall back.
      // (A floor write whose directory sync failed becomes durable with
      // the state's next write, in the same directory.)
      WARDEN_TRY(RaiseFloor(state_.target.version));
      InstallerState next = state_;
      next.phase = Phase::kCommitted;
      next.committed_version = state_.target.version;
      WARDEN_TRY(Save(next));
      Emit(UpdateEvent::Kind::kCommitted);
      return Next::kNothing;
    }
    case Phase::kRolledBack:
      if (b.fell_back || b.trial || b.booted != b.committed) {
        WARDEN_TRY(boot_.CancelTrial());
      }
      return b.booted != b.committed ? Next::kReboot : Next::kNothing;
  }
  return InternalError("unknown phase");
}

}  // namespace warden::update
