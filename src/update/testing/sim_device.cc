#include "update/testing/sim_device.h"

#include "base/bytes.h"
#include "crypto/hash.h"
#include "platform/file.h"

namespace warden::update::testing {

Status MakeDevice(platform::Env& env, const std::string& root,
                  std::string_view factory_image, int bootlimit) {
  const std::string boot = platform::JoinPath(root, "boot");
  WARDEN_TRY(platform::MakeDirs(env, boot, 0700));
  WARDEN_TRY(platform::MakeDirs(env, platform::JoinPath(root, "state"), 0700));
  FileBootEnv store(env, boot);
  WARDEN_TRY(platform::WriteFileAtomic(env, store.SlotPath(Slot::kA),
                                       factory_image, 0600));
  WARDEN_TRY(store.Store(FactoryBootVars(bootlimit)));
  SimDevice device(env, root);
  return device.PowerOn();
}

Target MakeTarget(std::string_view image, std::string version,
                  std::string min_from) {
  Target t;
  t.name = "thermostat-" + version + ".img";
  t.length = image.size();
  t.sha256_hex =
      HexEncode(crypto::Digest(crypto::HashAlg::kSha256, AsBytes(image)));
  t.sha512_hex =
      HexEncode(crypto::Digest(crypto::HashAlg::kSha512, AsBytes(image)));
  t.version = std::move(version);
  t.hardware_model = kHardware;
  t.min_from_version = std::move(min_from);
  return t;
}

SimDevice::SimDevice(platform::Env& env, std::string root, uint64_t checkpoint)
    : env_(env),
      root_(std::move(root)),
      checkpoint_(checkpoint),
      boot_env_(env, platform::JoinPath(root_, "boot")) {}

Status SimDevice::PowerOn() {
  installer_.reset();
  boot_.reset();
  WARDEN_ASSIGN_OR_RETURN(last_boot_, SimulateBoot(boot_env_));
  boot_ = std::make_unique<BootControl>(boot_env_, last_boot_.slot);
  InstallerOptions o;
  o.state_dir = platform::JoinPath(root_, "state");
  o.slot_paths = {boot_env_.SlotPath(Slot::kA), boot_env_.SlotPath(Slot::kB)};
  o.hardware_model = kHardware;
  o.factory_version = kFactoryVersion;
  o.checkpoint_bytes = checkpoint_;
  WARDEN_ASSIGN_OR_RETURN(
      installer_,
      Installer::Open(env_, *boot_, o,
                      [this](const UpdateEvent& e) { events_.push_back(e); }));
  return Status::Ok();
}

Status SimDevice::Download(std::string_view image, size_t chunk) {
  WARDEN_ASSIGN_OR_RETURN(auto writer, installer_->OpenSlotWriter());
  for (uint64_t off = writer->offset(); off < image.size(); off += chunk) {
    WARDEN_TRY(writer->Write(AsBytes(image.substr(off, chunk))));
  }
  return installer_->FinishDownload(*writer);
}

Status SimDevice::Stage(const Target& target, std::string_view image) {
  WARDEN_TRY(installer_->Offer(target));
  WARDEN_TRY(Download(image));
  return installer_->MarkForTrial();
}

Result<std::string> SimDevice::SlotContent(Slot s) {
  return platform::ReadFile(env_, slot_path(s), 1 << 26);
}

}  // namespace warden::update::testing
