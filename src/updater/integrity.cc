#include "updater/integrity.h"

#include "crypto/hash.h"
#include "platform/file.h"
#include "tuf/metadata.h"

namespace warden::updater {
namespace {

constexpr size_t kMaxRootBytes = 512 * 1024;
constexpr size_t kMaxTargetsBytes = 5000 * 1000;
constexpr size_t kChunk = 64 * 1024;

Status AsIntegrity(const Status& st) {
  if (tuf::ErrorOf(st) == tuf::Error::kThreshold) {
    return BadSignatureError(st.message());
  }
  return DataLossError("install record: " + st.message());
}

}  // namespace

InstallRecords::InstallRecords(platform::Env& env, std::string dir)
    : env_(env), dir_(std::move(dir)) {}

std::string InstallRecords::RecordDir(update::Slot slot) const {
  return platform::JoinPath(dir_, update::SlotName(slot));
}

Status InstallRecords::Save(update::Slot slot, std::string_view root,
                            std::string_view targets) {
  const std::string dir = RecordDir(slot);
  WARDEN_TRY(platform::MakeDirs(env_, dir, 0700));
  // The targets file goes first and the root last: until both are
  // replaced the pair does not verify (new targets, old root's keys may
  // still sign them, but the targets name the new image the slot does not
  // hold yet), so no crash leaves a record that passes for bytes it does
  // not describe.
  WARDEN_TRY(platform::WriteFileAtomic(
      env_, platform::JoinPath(dir, "targets.json"), targets, 0600));
  return platform::WriteFileAtomic(env_, platform::JoinPath(dir, "root.json"),
                                   root, 0600);
}

Result<SlotCheck> InstallRecords::Check(update::Slot slot,
                                        const std::string& slot_path,
                                        const std::string& image_name) {
  const std::string dir = RecordDir(slot);
  auto root = platform::ReadFile(env_, platform::JoinPath(dir, "root.json"),
                                 kMaxRootBytes);
  if (!root.ok()) {
    if (root.status().code() == Code::kNotFound) {
      return NotFoundError(std::string("no install record for slot ") +
                           update::SlotName(slot));
    }
    return root.status();
  }
  WARDEN_ASSIGN_OR_RETURN(
      std::string targets,
      platform::ReadFile(env_, platform::JoinPath(dir, "targets.json"),
                         kMaxTargetsBytes));
  return CheckWith(*root, targets, slot_path, image_name);
}

Result<SlotCheck> InstallRecords::CheckWith(std::string_view root_bytes,
                                            std::string_view targets_bytes,
                                            const std::string& slot_path,
                                            const std::string& image_name) {
  tuf::ParseLimits root_limits;
  root_limits.max_bytes = kMaxRootBytes;
  auto root = tuf::Parse<tuf::Root>(root_bytes, root_limits);
  if (!root.ok()) return AsIntegrity(root.status());
  const tuf::Root& r = root->signed_;
  auto role = r.roles.find("root");
  auto targets_role = r.roles.find("targets");
  if (role == r.roles.end() || targets_role == r.roles.end()) {
    return DataLossError("install record: the root lacks a role");
  }
  Status st = tuf::VerifyThreshold(root->signed_json, root->signatures, r.keys,
                                   role->second, "root");
  if (!st.ok()) return AsIntegrity(st);

  tuf::ParseLimits targets_limits;
  targets_limits.max_bytes = kMaxTargetsBytes;
  auto targets = tuf::Parse<tuf::Targets>(targets_bytes, targets_limits);
  if (!targets.ok()) return AsIntegrity(targets.status());
  st = tuf::VerifyThreshold(targets->signed_json, targets->signatures, r.keys,
                            targets_role->second, "targets");
  if (!st.ok()) return AsIntegrity(st);

  auto it = targets->signed_.targets.find(image_name);
  if (it == targets->signed_.targets.end()) {
    return IntegrityError("the signed release names no " + image_name);
  }
  const tuf::TargetFile& file = it->second;

  WARDEN_ASSIGN_OR_RETURN(auto slot, env_.Open(slot_path, {}));
  WARDEN_ASSIGN_OR_RETURN(uint64_t size, slot->Size());
  if (size != file.length) {
    return IntegrityError("the slot holds " + std::to_string(size) +
                          " bytes, the release " + std::to_string(file.length));
  }
  crypto::Hasher sha256(crypto::HashAlg::kSha256);
  crypto::Hasher sha512(crypto::HashAlg::kSha512);
  std::string buf(kChunk, '\0');
  for (uint64_t at = 0; at < size;) {
    WARDEN_ASSIGN_OR_RETURN(size_t n, slot->ReadAt(at, buf.data(), kChunk));
    if (n == 0) return IntegrityError("the slot shrank while it was read");
    ByteView chunk = AsBytes(std::string_view(buf.data(), n));
    sha256.Update(chunk);
    sha512.Update(chunk);
    at += n;
  }
  SlotCheck out;
  out.sha256_hex = HexEncode(sha256.Finish());
  const std::string sha512_hex = HexEncode(sha512.Finish());
  bool any = false;
  for (const auto& [alg, hex] : file.hashes) {
    const std::string* got = alg == "sha256"   ? &out.sha256_hex
                             : alg == "sha512" ? &sha512_hex
                                               : nullptr;
    if (got == nullptr) continue;
    std::string want = hex;
    for (char& c : want) c = static_cast<char>(std::tolower(c));
    if (want != *got) {
      return IntegrityError("the slot's " + alg +
                            " differs from the signed release's");
    }
    any = true;
  }
  if (!any) return IntegrityError("the signed release lists no usable digest");
  const tuf::Json& custom = file.custom;
  if (custom.is_object() && custom.contains("warden") &&
      custom["warden"].is_object()) {
    const tuf::Json& w = custom["warden"];
    if (w.contains("version") && w["version"].is_string()) {
      out.version = w["version"].get<std::string>();
    }
    if (w.contains("support_until") && w["support_until"].is_string()) {
      out.support_until = w["support_until"].get<std::string>();
    }
  }
  return out;
}

}  // namespace warden::updater
