// The crash-safe installer: streams a verified target into the inactive
// slot, marks it for a trial boot, commits it after a healthy start or
// rolls it back.
//
// What the update metadata (TUF) has verified about a target comes in as a
// plain Target; the image bytes come as a stream through a SlotWriter, in
// order, resumable at the offset the writer gives (a ranged download). The
// bytes are hashed as they are written (no second pass) and the length is
// enforced as they arrive. Memory is flat in the image size: nothing is
// buffered beyond the caller's chunk.
//
// The state, persisted in the state directory ("update.state", replaced
// atomically through the Env), moves
//
//   idle/committed/rolled_back --Offer--> downloading --Finish--> verified
//     --MarkForTrial--> trial_pending (boot environment set; reboot)
//     --Resume after the reboot, booted the new slot--> trial
//     --health check passes--> committed
//     --health check fails, or the boot step fell back--> rolled_back
//
// and Resume, called at every start, finishes whatever a crash or power cut
// interrupted. The invariants every crash test checks:
//   - the boot environment marks a slot for a trial only once the slot's
//     bytes are durable and verified and their SHA-256 is recorded in the
//     state; a slot being written has no recorded hash;
//   - the version floor ("version_floor", the newest version committed)
//     is only ever raised, each time by one atomic replace.
// Durability of the image: the slot file is synced every
// `checkpoint_bytes`, and the number of durable bytes recorded in the
// state; after a crash the download resumes from there (at most one
// checkpoint is lost) and that durable prefix is hashed once, from the
// slot, to bring the hash state back.
//
// Not thread-safe. Errors of the refusals (each also an event):
//   kPermissionDenied   wrong hardware model (Refusal::kWrongHardware)
//   kRollback           not newer than the version floor (kOlderVersion)
//   kFailedPrecondition the running version is below the target's minimum
//                       (kBelowMinimumFrom)
//   kInvalidArgument    a malformed target (kBadTarget)
//   kResourceExhausted  more bytes than the target's length (kTooManyBytes)
//   kIntegrity          fewer bytes (kWrongLength), or a digest that does
//                       not match (kWrongHash)
// A refusal leaves the committed slot, the boot environment, the version
// floor and the committed version as they were.
#ifndef WARDEN_UPDATE_INSTALLER_H_
#define WARDEN_UPDATE_INSTALLER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/hash.h"
#include "platform/env.h"
#include "update/boot_control.h"

namespace warden::update {

// What the update metadata says about an image, already verified there.
struct Target {
  std::string name;
  uint64_t length = 0;
  std::string sha256_hex;  // at least one of the two digests
  std::string sha512_hex;
  std::string version;           // dotted numbers (version.h)
  std::string hardware_model;    // must be the device's
  std::string min_from_version;  // empty: any running version may update
};

enum class Phase {
  kIdle,
  kDownloading,
  kVerified,
  kTrialPending,
  kTrial,
  kCommitted,
  kRolledBack,
};
const char* PhaseName(Phase p);

enum class Refusal {
  kNone,
  kBadTarget,
  kWrongHardware,
  kOlderVersion,
  kBelowMinimumFrom,
  kTooManyBytes,
  kWrongLength,
  kWrongHash,
};
const char* RefusalName(Refusal r);

struct UpdateEvent {
  enum class Kind {
    kAvailable,   // a target was offered
    kStarted,     // its download began (or resumed)
    kInstalled,   // verified in the inactive slot, trial boot set
    kCommitted,   // the trial passed its health check
    kRolledBack,  // the trial failed, hung, or was abandoned
    kRefused,     // see `refusal`
  };
  Kind kind;
  std::string version;
  Refusal refusal = Refusal::kNone;
  std::string detail;  // why, for kRefused and kRolledBack
};

// Called with each event, synchronously. May be empty.
using EventSink = std::function<void(const UpdateEvent&)>;

// After a trial boot: wardend up, the app up and answering, and the
// maker's extra check, composed by the caller. Ok commits; an error rolls
// back. A check that hangs is ended by the watchdog, and the boot counter
// rolls back.
using HealthCheck = std::function<Status()>;

struct InstallerOptions {
  std::string state_dir;                  // must exist
  std::array<std::string, 2> slot_paths;  // A, B
  std::string hardware_model;
  // The committed slot's version when there is no state yet (first start).
  std::string factory_version;
  uint64_t max_image_bytes = uint64_t{4} << 30;
  // Synced and recorded this often: what a crash can cost. Each checkpoint
  // is an fsync and an atomic state write, so much smaller costs speed.
  uint64_t checkpoint_bytes = 8 << 20;
};

// The persisted state (update.state).
struct InstallerState {
  Phase phase = Phase::kIdle;
  std::string committed_version;
  // SHA-256 hex of what each slot holds, as verified; empty while a slot
  // is being written or holds nothing verified.
  std::array<std::string, 2> slot_sha256;
  // The target under way (phases downloading to trial and rolled_back).
  Target target;
  Slot target_slot = Slot::kB;
  uint64_t durable_bytes = 0;  // downloading: bytes synced to the slot
};

// What the caller should do after Resume.
enum class Next {
  kNothing,   // idle, committed or rolled back, running the committed slot
  kDownload,  // a download is under way: OpenSlotWriter and go on
  kReboot,    // reboot: a trial is set, or a rollback needs the old slot
};

class Installer;

// The stream into the inactive slot; has the shape of net::DownloadSink
// (AsDownloadSink below adapts it). Write refuses a byte past the target's
// length at once; any failed Write ends the writer (later calls fail), and
// a new one from OpenSlotWriter resumes from what is durable.
class SlotWriter {
 public:
  ~SlotWriter();
  SlotWriter(const SlotWriter&) = delete;
  SlotWriter& operator=(const SlotWriter&) = delete;

  // Bytes the slot held when this writer was opened (what a ranged
  // download asks past), then every byte written.
  uint64_t offset() const { return written_; }
  Status Write(ByteView bytes);
  // The server sent the whole image instead of the rest: start over at 0.
  Status Restart();

 private:
  friend class Installer;
  SlotWriter(Installer& installer, std::unique_ptr<platform::File> file,
             uint64_t written);
  Status Checkpoint();

  Installer& installer_;
  std::unique_ptr<platform::File> file_;
  uint64_t written_ = 0;
  uint64_t durable_ = 0;
  bool failed_ = false;
  crypto::Hasher sha256_{crypto::HashAlg::kSha256};
  crypto::Hasher sha512_{crypto::HashAlg::kSha512};
};

// Adapts a SlotWriter to a sink interface of the same shape (offset,
// Write, Restart), such as net::DownloadSink, without this layer seeing
// it: `AsDownloadSink<net::DownloadSink> sink(writer);`.
template <typename SinkBase>
class AsDownloadSink final : public SinkBase {
 public:
  explicit AsDownloadSink(SlotWriter& writer) : writer_(writer) {}
  uint64_t offset() const override { return writer_.offset(); }
  Status Write(ByteView bytes) override { return writer_.Write(bytes); }
  Status Restart() override { return writer_.Restart(); }

 private:
  SlotWriter& writer_;
};

class Installer {
 public:
  // Loads the state, or makes it on first start (the committed slot's
  // version is options.factory_version and its SHA-256 is read from the
  // slot). `env` and `boot` must outlive the installer. kDataLoss for a
  // damaged state file.
  static Result<std::unique_ptr<Installer>> Open(platform::Env& env,
                                                 BootControl& boot,
                                                 InstallerOptions options,
                                                 EventSink events);

  const InstallerState& state() const { return state_; }
  // The version floor, never lowered.
  Result<std::string> VersionFloor();

  // Checks `target` against the device (hardware, floor, minimum-from)
  // and starts its download into the inactive slot; the same target while
  // it is downloading resumes. kFailedPrecondition while another update
  // is past downloading; the refusals above.
  Status Offer(const Target& target);
  // The writer for the download under way, positioned at the durable
  // offset (the prefix re-hashed from the slot). kFailedPrecondition
  // unless downloading.
  Result<std::unique_ptr<SlotWriter>> OpenSlotWriter();
  // Ends the download: checks length and digests, syncs, records the
  // slot's hash: verified. The refusals kWrongLength and kWrongHash end
  // the update (idle).
  Status FinishDownload(SlotWriter& writer);
  // Marks the verified slot for a trial boot: trial_pending. The caller
  // reboots.
  Status MarkForTrial();
  // At every start: finishes what an interruption left and, in a trial
  // boot, runs `health` and commits or rolls back.
  Result<Next> Resume(const HealthCheck& health);

 private:
  friend class SlotWriter;
  Installer(platform::Env& env, BootControl& boot, InstallerOptions options,
            EventSink events);
  Status Save(const InstallerState& next);
  Status RaiseFloor(const std::string& version);
  Status Refuse(Refusal why, Status status);
  void Emit(UpdateEvent::Kind kind, std::string detail = "",
            Refusal refusal = Refusal::kNone);
  Status RollBack(std::string why);

  platform::Env& env_;
  BootControl& boot_;
  InstallerOptions options_;
  EventSink events_;
  InstallerState state_;
};

}  // namespace warden::update

#endif  // WARDEN_UPDATE_INSTALLER_H_
