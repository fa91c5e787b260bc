// Test only (target warden_update_testing): a simulated device with the
// file-backed boot environment, for the installer's tests and crash tests.
//
// Under a root directory: boot/ holds the boot environment and the two
// slot images, state/ the installer's state. PowerOn runs the boot step
// and opens the installer on the slot that booted, as a real start would.
#ifndef WARDEN_UPDATE_TESTING_SIM_DEVICE_H_
#define WARDEN_UPDATE_TESTING_SIM_DEVICE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/env.h"
#include "update/boot_control.h"
#include "update/installer.h"

namespace warden::update::testing {

inline constexpr char kHardware[] = "thermostat-rev2";
inline constexpr char kFactoryVersion[] = "1.0.0";

// Lays out a factory-fresh device under `root` (an existing directory) on
// `env`: slot A holds `factory_image` and is committed; the installer's
// state is made (as at the first start).
Status MakeDevice(platform::Env& env, const std::string& root,
                  std::string_view factory_image, int bootlimit = 3);

// A target for `image` with both digests, for kHardware.
Target MakeTarget(std::string_view image, std::string version,
                  std::string min_from = "");

class SimDevice {
 public:
  SimDevice(platform::Env& env, std::string root, uint64_t checkpoint = 4096);

  // The boot step, then the installer opened on the booted slot.
  Status PowerOn();

  const BootDecision& last_boot() const { return last_boot_; }
  Installer& installer() { return *installer_; }
  BootControl& boot() { return *boot_; }
  FileBootEnv& boot_env() { return boot_env_; }
  std::vector<UpdateEvent>& events() { return events_; }
  std::string slot_path(Slot s) const { return boot_env_.SlotPath(s); }

  // Opens a writer and writes what `image` holds past its offset, in
  // chunks of `chunk` bytes, then finishes the download.
  Status Download(std::string_view image, size_t chunk = 1000);
  // Offer, Download and MarkForTrial.
  Status Stage(const Target& target, std::string_view image);
  // What a slot holds.
  Result<std::string> SlotContent(Slot s);

 private:
  platform::Env& env_;
  std::string root_;
  uint64_t checkpoint_;
  FileBootEnv boot_env_;
  BootDecision last_boot_;
  std::unique_ptr<BootControl> boot_;
  std::unique_ptr<Installer> installer_;
  std::vector<UpdateEvent> events_;
};

}  // namespace warden::update::testing

#endif  // WARDEN_UPDATE_TESTING_SIM_DEVICE_H_
