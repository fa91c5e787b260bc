// A/B slots and the boot environment, after U-Boot's conventions.
//
// The device has two slots (A and B) for the system image. One is
// committed: the one known to work. To try a new image the updater writes
// it into the other slot and marks that slot for a trial boot. The boot
// step (U-Boot's script, or SimulateBoot below for tests and demos) reads
// the boot environment at every start:
//
//   upgrade_available=1  a trial is pending: bootcount is incremented (and
//                        saved) before booting warden_slot; once bootcount
//                        passes bootlimit the trial is abandoned (U-Boot's
//                        altbootcmd): warden_slot goes back to
//                        warden_committed, upgrade_available to 0, and the
//                        committed slot boots.
//   upgrade_available=0  warden_committed boots.
//
// The variables: warden_committed and warden_slot ("A" or "B"),
// upgrade_available ("0" or "1"), bootcount and bootlimit (decimal).
// Every change is one write of the whole environment, atomic in the
// backend (a file replaced atomically; libubootenv's redundant copies), so
// a power cut leaves the old environment or the new one.
//
// Which slot did boot is not in the environment: U-Boot tells the kernel
// (on its command line) and the caller hands it to BootControl.
#ifndef WARDEN_UPDATE_BOOT_CONTROL_H_
#define WARDEN_UPDATE_BOOT_CONTROL_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "platform/env.h"

namespace warden::update {

enum class Slot { kA = 0, kB = 1 };

inline Slot OtherSlot(Slot s) { return s == Slot::kA ? Slot::kB : Slot::kA; }
// "A" or "B".
const char* SlotName(Slot s);
// "A" or "B"; anything else is kDataLoss (a damaged environment).
Result<Slot> ParseSlot(std::string_view name);

using BootVars = std::map<std::string, std::string>;

// Where the boot environment lives. Implementations: FileBootEnv (below)
// and UbootBootEnv (uboot_env.h).
class BootEnvStore {
 public:
  virtual ~BootEnvStore() = default;
  // All the variables. kNotFound when there is no environment yet.
  virtual Result<BootVars> Load() = 0;
  // Replaces the whole environment with `vars` in one atomic, durable
  // write: after a power cut the old environment or `vars`, never a mix.
  virtual Status Store(const BootVars& vars) = 0;
};

// The boot environment as a small "key=value" file (one a line, at most
// 4 KiB) under a directory, replaced atomically through an Env; the slot
// images are "slot_a.img" and "slot_b.img" beside it. For tests and demos.
class FileBootEnv : public BootEnvStore {
 public:
  // `dir` must exist. `env` must outlive this object.
  FileBootEnv(platform::Env& env, std::string dir);
  Result<BootVars> Load() override;
  Status Store(const BootVars& vars) override;
  std::string SlotPath(Slot s) const;
  const std::string& dir() const { return dir_; }

 private:
  platform::Env& env_;
  std::string dir_;
};

// "key=value\n" lines: keys [a-z0-9_]+, values printable ASCII (no
// control characters). Parse: kDataLoss on a malformed line, a repeated
// key or more than 4 KiB.
Result<BootVars> ParseBootVars(std::string_view text);
std::string FormatBootVars(const BootVars& vars);

// The environment of a device fresh from the factory: slot A committed, no
// trial, `bootlimit` attempts allowed to a trial.
BootVars FactoryBootVars(int bootlimit);

struct BootStatus {
  Slot booted = Slot::kA;     // the slot running now
  Slot committed = Slot::kA;  // warden_committed
  // The slot the next boot will try (upgrade_available=1), if any.
  std::optional<Slot> trial;
  int bootcount = 0;
  int bootlimit = 0;
  // The boot step gave up a trial and fell back to the committed slot:
  // no trial pending and bootcount past bootlimit. Cleared by
  // CancelTrial and CommitBooted.
  bool fell_back = false;
};

// Reads and changes the boot environment for the running system. Each
// change is one Store of the environment.
class BootControl {
 public:
  // `store` must outlive this object; `booted` is the slot running now.
  BootControl(BootEnvStore& store, Slot booted);

  // kDataLoss when a variable is missing or malformed.
  Result<BootStatus> Read();
  // Marks `slot` for trial boots: warden_slot=slot, upgrade_available=1,
  // bootcount=0. kFailedPrecondition when `slot` is the committed slot or
  // is not the inactive one (the booted slot must be the committed one).
  Status MarkTrial(Slot slot);
  // Commits the booted slot: warden_committed=warden_slot=booted,
  // upgrade_available=0, bootcount=0.
  Status CommitBooted();
  // Abandons a trial (pending or running): warden_slot=warden_committed,
  // upgrade_available=0, bootcount=0. The next boot is the committed slot.
  Status CancelTrial();

  Slot booted() const { return booted_; }

 private:
  BootEnvStore& store_;
  Slot booted_;
};

struct BootDecision {
  Slot slot = Slot::kA;    // the slot that boots
  bool trial = false;      // a trial boot of warden_slot
  bool fell_back = false;  // a trial was given up on this boot
};

// The boot step, as U-Boot's script does it (above): may Store the
// environment once (the counted attempt, or the fall-back). kDataLoss on
// a damaged environment.
Result<BootDecision> SimulateBoot(BootEnvStore& store);

}  // namespace warden::update

#endif  // WARDEN_UPDATE_BOOT_CONTROL_H_
