// The update service of wardend: joins the TUF client (tuf/updater.h) and
// the crash-safe installer (update/installer.h).
//
// An update, from the top:
//   1. Refresh the metadata from the source (the maker's repository over
//      HTTPS, or a local copy of it in the published layout, checked the
//      same way) into the trusted metadata under state_dir/metadata; the
//      first trusted root is the one the configuration names.
//   2. Look up `<hardware_model>.img` and turn its signed description and
//      custom.warden fields into an update::Target.
//   3. Keep the signed metadata as the install record of the inactive slot
//      (integrity.h), offer the target to the installer, and stream the
//      image into the slot writer: over HTTPS with ranged resume, or from
//      the local copy. The installer hashes as it writes and refuses a
//      byte past the signed length, a short image or a wrong digest.
//   4. Mark the slot for a trial boot: the caller reboots (Next::kReboot).
// A download interrupted by a crash or restart is resumed from the last
// checkpoint by ResumeDownload, from the source it began with.
//
// Every refusal is a ServiceEvent of kind kRefused with a stable code: the
// TUF error name ("tuf/expired", "tuf/threshold", ...) or the installer's
// refusal ("older_version", "wrong_hash", ...).
//
// Threads: the long operations (Check, Install, ResumeDownload, Repair)
// run on a worker thread, one at a time (kFailedPrecondition "busy"
// otherwise); Snapshot, TakeEvents, Defer and the setters may be called
// from any thread. The service publishes nothing itself: the caller takes
// the events and publishes them from its loop.
#ifndef WARDEN_UPDATER_UPDATE_SERVICE_H_
#define WARDEN_UPDATER_UPDATE_SERVICE_H_

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "platform/env.h"
#include "tuf/fetcher.h"
#include "update/boot_control.h"
#include "update/installer.h"
#include "updater/integrity.h"

namespace warden::updater {

struct UpdateSettings {
  // The service's own directory (created): metadata/, installed/, the
  // installer's state, staging/ for uploaded copies.
  std::string state_dir;
  // The repository's base URL, https only; empty: local copies only.
  std::string repository_url;
  // A PEM bundle to trust for the repository; empty: the system store.
  std::string ca_file;
  // The first trusted root (the bytes of a root.json).
  std::string initial_root;
  // The signed top-level targets file of the factory release, which the
  // factory image must match at first start; empty: none shipped.
  std::string factory_targets;
  std::string hardware_model;
  // The longest deferral an owner may ask for.
  std::chrono::hours max_deferral{24 * 14};
  std::chrono::milliseconds connect_timeout{10000};
};

// Where an update comes from.
struct Source {
  enum class Kind { kRepository, kDirectory };
  Kind kind = Kind::kRepository;
  std::string dir;  // kDirectory: the copy's root (metadata/, targets/)
};

struct ServiceEvent {
  enum class Kind {
    kAvailable,
    kStarted,
    kInstalled,
    kCommitted,
    kRolledBack,
    kRefused,
    kDeferred,
    kTamper,
    kSupportEnded,
  };
  Kind kind;
  std::string version;
  std::string code;    // kRefused: the TUF or installer code
  std::string detail;  // why, for kRefused, kRolledBack, kTamper
};
const char* ServiceEventName(ServiceEvent::Kind kind);

// The integrity of the booted slot, as found at start.
struct IntegrityState {
  bool checked = false;  // false: no update section, nothing checked
  bool ok = false;
  std::string reason;   // when not ok
  std::string version;  // of the release the slot verified as
  std::string support_until;
};

struct UpdateSnapshot {
  std::string phase;  // update::PhaseName
  bool busy = false;
  std::string current_version;
  std::string available_version;
  std::string last_outcome;  // "", "committed", "rolled_back", "refused: CODE"
  std::string last_detail;
  std::string support_until;  // of the running release; "" when unknown
  bool supported = true;
  std::optional<int64_t> deferred_until;  // unix seconds
  IntegrityState integrity;
};

class UpdateService {
 public:
  // Opens the installer over `boot` (which must outlive the service) with
  // `installer` options (its state_dir is set to settings.state_dir), and
  // trusts settings.initial_root when no root is trusted yet. Errors of
  // Installer::Open, tuf::Updater::Initialize and the Env.
  static Result<std::unique_ptr<UpdateService>> Open(
      platform::Env& env, const Clock& clock, update::BootControl& boot,
      update::InstallerOptions installer, UpdateSettings settings);
  ~UpdateService();

  // At start, before the app: checks the booted slot against its install
  // record (or, on a factory device, against settings.factory_targets and
  // the initial root, then records it). A mismatch is a kTamper event and
  // integrity().ok false: the caller must not launch the slot's code.
  const IntegrityState& CheckIntegrity();
  const IntegrityState& integrity() const { return integrity_; }

  // At start, after the integrity check: Installer::Resume with `health`
  // (run only in a trial boot).
  Result<update::Next> Resume(const update::HealthCheck& health);

  // Refreshes the metadata from `source` and returns the newest target for
  // this device, or nullopt when it is what runs already (or older). A
  // TUF failure is returned (and a kRefused event).
  Result<std::optional<update::Target>> Check(const Source& source);

  // Check, then offer, download and mark for trial. Next::kNothing when
  // there is nothing newer; kReboot once a trial is set.
  Result<update::Next> Install(const Source& source);

  // Goes on with a download a restart interrupted (phase downloading).
  Result<update::Next> ResumeDownload();

  // In safe mode: restores the booted slot to the release its record
  // names, from `source` (or the other slot when it holds those very
  // bytes), checking every byte; then the integrity check runs again.
  Status Repair(const Source& source);

  // Defers automatic installs by `hours` from now; kInvalidArgument over the
  // maximum deferral. Persisted.
  Status Defer(int hours);
  // Whether automatic work is deferred now.
  bool Deferred() const;

  // A copy of the state, for the API.
  UpdateSnapshot Snapshot() const;
  // The events since the last call, in order.
  std::vector<ServiceEvent> TakeEvents();

  // Checks the support period of the running release against the clock
  // and raises kSupportEnded once when it has passed.
  void CheckSupport();

  const UpdateSettings& settings() const { return settings_; }
  std::string staging_dir() const;
  std::string image_name() const { return settings_.hardware_model + ".img"; }

 private:
  // Streams the file `from` into `sink` through a fixed buffer.
  Status CopyFile(const std::string& from, tuf::ByteSink& sink);
  UpdateService(platform::Env& env, const Clock& clock,
                update::BootControl& boot, UpdateSettings settings);
  void Emit(ServiceEvent event);
  void OnInstallerEvent(const update::UpdateEvent& e);
  Status Refuse(const Status& status);
  void SetOutcome(std::string outcome, std::string detail);

  struct Session;
  Result<std::unique_ptr<Session>> OpenSession(const Source& source);
  Result<update::Target> TargetOf(Session& session);
  Result<update::Next> Download(Session& session);
  Status SaveSource(const Source& source);
  Result<Source> LoadSource();
  std::string MetadataDir() const;

  platform::Env& env_;
  const Clock& clock_;
  update::BootControl& boot_;
  UpdateSettings settings_;
  InstallRecords records_;
  std::unique_ptr<update::Installer> installer_;
  std::array<std::string, 2> slot_paths_;
  IntegrityState integrity_;

  std::atomic<bool> busy_{false};
  mutable std::mutex mu_;  // guards what follows
  std::vector<ServiceEvent> events_;
  std::string available_version_;
  std::string last_outcome_;
  std::string last_detail_;
  std::optional<int64_t> deferred_until_;
  bool support_end_reported_ = false;
  update::InstallerState installer_state_;  // a copy for Snapshot
};

}  // namespace warden::updater

#endif  // WARDEN_UPDATER_UPDATE_SERVICE_H_
