// Software integrity: whether a slot holds exactly the image a signed
// release describes.
//
// When a release is installed, the metadata that vouched for it is kept
// beside the updater's state: the top-level targets role that names the
// image and the root whose keys signed it (its own chain to the trusted
// root was checked by the TUF refresh that fetched it). At every start,
// and before the app is launched from a slot, the slot is checked against
// that record: the root signs itself to its threshold, the targets role
// carries the root's targets threshold, it names `<hardware_model>.img`,
// and the slot's length and every listed digest (sha256, sha512) match.
//
// Expiry is deliberately not checked: an installed release stays valid
// after its metadata expires (expiry protects a client fetching new
// metadata from a frozen mirror, not an image already verified and
// installed). What this catches is a slot whose bytes changed after they
// were verified: tampering with the installed system, or its decay.
//
// A factory device has no install record. Its image is checked the same
// way against a signed targets file of the factory release (configured,
// shipped read-only with the device) and the initial trusted root; the
// record is then written, so later starts check it like any release.
#ifndef WARDEN_UPDATER_INTEGRITY_H_
#define WARDEN_UPDATER_INTEGRITY_H_

#include <string>
#include <string_view>

#include "base/status.h"
#include "platform/env.h"
#include "update/boot_control.h"

namespace warden::updater {

// What a slot's check found.
struct SlotCheck {
  std::string version;        // custom.warden.version of the release, if given
  std::string support_until;  // custom.warden.support_until, if given
  std::string sha256_hex;
};

// The record of what was installed in each slot, under `dir`.
class InstallRecords {
 public:
  // `dir` is created on first Save. `env` must outlive this object.
  InstallRecords(platform::Env& env, std::string dir);

  // Keeps `root` and `targets` (the metadata files as fetched) as the
  // record of `slot`, replacing the old one (root first: a crash between
  // leaves a record that fails its check, never one that passes wrongly).
  // kStorage-like errors of the Env.
  Status Save(update::Slot slot, std::string_view root,
              std::string_view targets);

  // Checks `slot_path` against the record of `slot` for `image_name`, as
  // described above. kNotFound when there is no record; kIntegrity when
  // the image's length or a digest differs, or the record names no such
  // image; kBadSignature when a signature threshold is not met; kDataLoss
  // for a record that does not parse.
  Result<SlotCheck> Check(update::Slot slot, const std::string& slot_path,
                          const std::string& image_name);

  // The same check against metadata given directly (the factory release).
  Result<SlotCheck> CheckWith(std::string_view root, std::string_view targets,
                              const std::string& slot_path,
                              const std::string& image_name);

  // The record's files for `slot` ("root.json", "targets.json").
  std::string RecordDir(update::Slot slot) const;

 private:
  platform::Env& env_;
  std::string dir_;
};

}  // namespace warden::updater

#endif  // WARDEN_UPDATER_INTEGRITY_H_
