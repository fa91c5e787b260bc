// wardend's boot step and updater wiring: which slot booted, the updater
// opened on it, and the integrity of what is about to run.
#ifndef WARDEN_DAEMON_UPDATES_H_
#define WARDEN_DAEMON_UPDATES_H_

#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "daemon/config.h"
#include "update/boot_control.h"
#include "updater/update_service.h"

namespace warden::daemon {

struct DeviceBoot {
  std::unique_ptr<update::BootEnvStore> store;
  std::unique_ptr<update::BootControl> boot;
  std::unique_ptr<updater::UpdateService> service;
  std::string booted_image;  // the booted slot's image: the app's program
  bool trial = false;        // this start is a trial boot
};

// With the file backend: makes the factory boot environment when there is
// none (slot A must hold the factory image), runs the boot step when
// configured, and reads the booted slot. With U-Boot: the slot the kernel
// command line names ("warden_slot=A" or "B"). Then opens the updater and
// checks the booted slot's integrity (service->integrity()). Errors: a
// damaged boot environment (kDataLoss), unreadable files, the updater's.
Result<DeviceBoot> StartUpdates(const UpdateConfig& config,
                                const std::string& state_dir,
                                const Clock& clock);

}  // namespace warden::daemon

#endif  // WARDEN_DAEMON_UPDATES_H_
