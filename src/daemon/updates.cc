#include "daemon/updates.h"

#include "platform/file.h"

namespace warden::daemon {
namespace {

constexpr size_t kMaxMetadataFile = 5000 * 1000;

Result<update::Slot> SlotFromCmdline() {
  WARDEN_ASSIGN_OR_RETURN(std::string cmdline,
                          platform::ReadFile("/proc/cmdline", 64 * 1024));
  size_t at = cmdline.find("warden_slot=");
  if (at == std::string::npos) {
    return FailedPreconditionError(
        "the kernel command line names no warden_slot");
  }
  return update::ParseSlot(cmdline.substr(at + 12, 1));
}

}  // namespace

Result<DeviceBoot> StartUpdates(const UpdateConfig& config,
                                const std::string& state_dir,
                                const Clock& clock) {
  platform::Env& env = platform::DefaultEnv();
  DeviceBoot out;
  std::array<std::string, 2> slots;
  update::Slot booted = update::Slot::kA;
  if (!config.slots.dir.empty()) {
    auto file = std::make_unique<update::FileBootEnv>(env, config.slots.dir);
    slots = {file->SlotPath(update::Slot::kA),
             file->SlotPath(update::Slot::kB)};
    auto vars = file->Load();
    if (!vars.ok() && vars.status().code() == Code::kNotFound) {
      WARDEN_TRY(file->Store(update::FactoryBootVars(config.slots.bootlimit)));
    } else if (!vars.ok()) {
      return vars.status();
    }
    out.store = std::move(file);
    if (config.slots.simulate_boot) {
      WARDEN_ASSIGN_OR_RETURN(update::BootDecision d,
                              update::SimulateBoot(*out.store));
      booted = d.slot;
      out.trial = d.trial;
    } else {
      WARDEN_ASSIGN_OR_RETURN(booted, SlotFromCmdline());
    }
  } else {
    // The boot environment is reachable (update/uboot_env.h), but the
    // slots' block devices are not configurable yet.
    return FailedPreconditionError(
        "update: the U-Boot backend has no slot devices configured yet; use "
        "slots.dir");
  }
  out.boot = std::make_unique<update::BootControl>(*out.store, booted);
  out.booted_image = slots[static_cast<int>(booted)];

  updater::UpdateSettings s;
  s.state_dir = platform::JoinPath(state_dir, "update");
  s.repository_url = config.repository;
  s.ca_file = config.ca_file;
  WARDEN_ASSIGN_OR_RETURN(s.initial_root,
                          platform::ReadFile(config.root_file, 512 * 1024));
  if (!config.factory_targets_file.empty()) {
    WARDEN_ASSIGN_OR_RETURN(
        s.factory_targets,
        platform::ReadFile(config.factory_targets_file, kMaxMetadataFile));
  }
  s.hardware_model = config.hardware_model;
  s.max_deferral = std::chrono::hours(config.max_defer_hours);
  update::InstallerOptions o;
  o.slot_paths = slots;
  o.factory_version = config.factory_version;
  WARDEN_ASSIGN_OR_RETURN(
      out.service, updater::UpdateService::Open(env, clock, *out.boot,
                                                std::move(o), std::move(s)));
  out.service->CheckIntegrity();
  return out;
}

}  // namespace warden::daemon
