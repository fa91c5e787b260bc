// The boot environment in U-Boot's own environment, through libubootenv
// (the library behind fw_printenv/fw_setenv): the backend for a real
// device. Which flash area (or file) holds the environment, and whether it
// is redundant (two copies, the newer valid one wins, so a power cut
// during a store leaves the old copy), is described by an fw_env.config
// file, as for fw_setenv.
//
// libubootenv does its own I/O, not through platform::Env, so the
// fault-injection crash tests run on FileBootEnv; this backend is tested
// for its conversions against a file-backed environment.
#ifndef WARDEN_UPDATE_UBOOT_ENV_H_
#define WARDEN_UPDATE_UBOOT_ENV_H_

#include <string>

#include "update/boot_control.h"

namespace warden::update {

class UbootBootEnv : public BootEnvStore {
 public:
  // `config` is the path of an fw_env.config file.
  explicit UbootBootEnv(std::string config);
  // kNotFound when no copy of the environment is valid (a blank or
  // damaged area); kIo when the configuration or the device cannot be
  // read.
  Result<BootVars> Load() override;
  // Writes `vars` as the whole environment (variables not in `vars` are
  // removed) in one store. kIo on failure.
  Status Store(const BootVars& vars) override;

 private:
  std::string config_;
};

}  // namespace warden::update

#endif  // WARDEN_UPDATE_UBOOT_ENV_H_
