#include "provision/provision.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>

#include "crypto/spake2plus.h"
#include "crypto/x509.h"
#include "pairing/onboarding.h"
#include "pairing/pairing_protocol.h"
#include "platform/file.h"
#include "provision/maker.h"
#include "provision/validate.h"

namespace warden::provision {
namespace {

namespace fs = std::filesystem;

// serials.txt grows by one line per unit; 16 MiB is about 250000 units.
constexpr size_t kMaxSerialsFile = 16 * 1024 * 1024;
constexpr auto kBackdate = std::chrono::hours(1);

bool ContainsLine(std::string_view text, std::string_view line) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l == line) return true;
    pos = end + 1;
  }
  return false;
}

// The directory's path without trailing slashes, so that "<dir>.tmp-X" is
// a sibling rather than a child.
std::string StripSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// pairing.json, assembled by hand so that the one copy holding w0 can be
// wiped after writing.
std::string PairingJson(ByteView salt, uint32_t iterations, ByteView w0,
                        ByteView L) {
  std::string out = "{\n  \"suite\": \"";
  out += pairing::kSuite;
  out += "\",\n  \"salt\": \"" + Base64Encode(salt) + "\",\n";
  out += "  \"iterations\": " + std::to_string(iterations) + ",\n";
  std::string w0_b64 = Base64Encode(w0);
  out += "  \"w0\": \"" + w0_b64 + "\",\n";
  crypto::Wipe(w0_b64);
  out += "  \"L\": \"" + Base64Encode(L) + "\"\n}\n";
  return out;
}

struct UnitFiles {
  std::string key_pem;
  std::string cert_pem;
  std::string ca_pem;
  std::string device_json;
  std::string pairing_json;
  ~UnitFiles() {
    crypto::Wipe(key_pem);
    crypto::Wipe(pairing_json);
  }
};

// Fills the new directory `dir` and makes it durable, ready to be renamed
// into place.
Status WriteUnitDir(platform::Env& env, const std::string& dir,
                    const UnitFiles& f) {
  WARDEN_TRY(env.SetMode(dir, 0700));
  struct Item {
    const char* name;
    const std::string* data;
    mode_t mode;
  } items[] = {
      {kIdentityKeyFile, &f.key_pem, 0600},
      {kIdentityCertFile, &f.cert_pem, 0644},
      {kCaCertFile, &f.ca_pem, 0644},
      {kDeviceJsonFile, &f.device_json, 0644},
      {kPairingJsonFile, &f.pairing_json, 0600},
  };
  for (const auto& item : items) {
    // A unit whose key lives in its own keystore gets no key file.
    if (item.data->empty()) continue;
    WARDEN_TRY(platform::WriteNewFile(env, platform::JoinPath(dir, item.name),
                                      *item.data, item.mode));
  }
  return env.SyncDir(dir);
}

}  // namespace

Result<ProvisionResult> ProvisionUnit(const std::string& maker_dir,
                                      const ProvisionRequest& request,
                                      const std::string& out_dir_arg,
                                      Clock& clock, Rng& rng,
                                      platform::Env& env) {
  WARDEN_TRY(ValidateSerial(request.serial));
  WARDEN_TRY(ValidateModel(request.model));
  WARDEN_TRY(ValidateFirmwareVersion(request.firmware_version));
  if (out_dir_arg.empty()) {
    return InvalidArgumentError("no output directory given");
  }
  const std::string out_dir = StripSlashes(out_dir_arg);

  WARDEN_ASSIGN_OR_RETURN(Maker maker, LoadMaker(maker_dir, env));
  const MakerSettings& ms = maker.settings;
  const WallTime now = clock.Now();
  WARDEN_ASSIGN_OR_RETURN(WallTime support_end, ParseDate(*ms.support_end));
  // Support covers the whole of its last day.
  if (support_end + std::chrono::hours(24) <= now) {
    return FailedPreconditionError("the maker's support period ended on " +
                                   *ms.support_end +
                                   ": units can no longer be provisioned");
  }

  WARDEN_ASSIGN_OR_RETURN(
      std::unique_ptr<platform::FileLock> lock,
      env.Lock(platform::JoinPath(maker_dir, kSerialsLockFile), /*wait=*/true));
  const std::string serials_path = platform::JoinPath(maker_dir, kSerialsFile);
  WARDEN_ASSIGN_OR_RETURN(
      const std::string serials,
      platform::ReadFile(env, serials_path, kMaxSerialsFile));
  if (ContainsLine(serials, request.serial)) {
    return AlreadyExistsError("serial " + request.serial +
                              " has already been provisioned");
  }
  if (platform::Exists(env, out_dir) &&
      (!platform::IsDirectory(env, out_dir) ||
       !platform::IsEmptyDirectory(env, out_dir))) {
    return AlreadyExistsError(out_dir +
                              " exists and is not an empty "
                              "directory");
  }

  // The unit's identity: a key made here, or the one the unit's request
  // proves it holds.
  std::optional<crypto::PrivateKey> key;
  std::optional<crypto::PublicKey> subject_key;
  if (request.identity_request.empty()) {
    WARDEN_ASSIGN_OR_RETURN(
        key, crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256));
    subject_key = key->public_key();
  } else {
    WARDEN_ASSIGN_OR_RETURN(
        crypto::SigningRequest csr,
        crypto::ParseSigningRequest(request.identity_request));
    if (csr.common_name != request.serial ||
        (csr.serial_number && *csr.serial_number != request.serial)) {
      return InvalidArgumentError("the identity request is for \"" +
                                  csr.common_name.substr(0, 64) +
                                  "\", not for serial " + request.serial);
    }
    if (csr.subject_key.type() != crypto::KeyType::kEcdsaP256) {
      return InvalidArgumentError("the identity request's key is not P-256");
    }
    subject_key = std::move(csr.subject_key);
  }
  crypto::CertificateRequest req{
      .common_name = request.serial,
      .organization = ms.name,
      .serial_number = request.serial,
      .subject_key = *subject_key,
      .not_before = now - kBackdate,
      .not_after =
          std::min(AddYears(support_end, 1), maker.ca_cert.not_after()),
      .is_ca = false,
      .dns_names = {"warden-" + request.serial + ".local", "localhost"},
      .ip_addresses = {"127.0.0.1", "::1"},
      .server_auth = true,
      .client_auth = true,
  };
  // Found and opened under the lock: an import of the key may have moved
  // it since LoadMaker looked, and the keystore admits one user at a time.
  WARDEN_ASSIGN_OR_RETURN(maker.ca_key_location,
                          ReadCaKeyLocation(maker_dir, env));
  WARDEN_ASSIGN_OR_RETURN(CaKey ca_key,
                          OpenMakerCaKey(maker, request.ca_key_access, env));
  WARDEN_ASSIGN_OR_RETURN(
      auto cert, crypto::IssueCertificate(req, ca_key.key, &maker.ca_cert));

  // The setup code and the verifier record derived from it.
  WARDEN_ASSIGN_OR_RETURN(uint32_t passcode, pairing::GenerateSetupCode(rng));
  WARDEN_ASSIGN_OR_RETURN(uint16_t discriminator,
                          pairing::GenerateDiscriminator(rng));
  WARDEN_ASSIGN_OR_RETURN(Bytes salt, RandomBytes(rng, kPbkdfSaltSize));
  WARDEN_ASSIGN_OR_RETURN(auto secrets, crypto::spake2plus::DeriveProverSecrets(
                                            passcode, salt, kPbkdfIterations));
  WARDEN_ASSIGN_OR_RETURN(auto record,
                          crypto::spake2plus::MakeVerifierRecord(secrets));

  pairing::SetupPayload payload;
  payload.vendor_id = ms.vendor_id;
  payload.product_id = ms.product_id;
  payload.commissioning_flow = pairing::kFlowStandard;
  payload.rendezvous = pairing::kRendezvousOnNetwork;
  payload.discriminator = discriminator;
  payload.passcode = passcode;
  WARDEN_ASSIGN_OR_RETURN(std::string qr, pairing::EncodeQrPayload(payload));

  DeviceInfo info;
  info.serial = request.serial;
  info.model = request.model;
  info.maker = ms.name;
  info.contact = ms.contact;
  info.policy_url = ms.policy_url;
  info.languages = ms.languages;
  info.support_end = *ms.support_end;
  info.firmware_version = request.firmware_version;
  info.vendor_id = ms.vendor_id;
  info.product_id = ms.product_id;
  info.discriminator = discriminator;

  UnitFiles files;
  if (key) files.key_pem = key->ToPem();
  files.cert_pem = cert.ToPem();
  files.ca_pem = maker.ca_cert.ToPem();
  files.device_json = DeviceInfoToJson(info);
  files.pairing_json =
      PairingJson(salt, kPbkdfIterations, record.w0.view(), record.L);

  // Build beside the target, complete and durable, then move it into place
  // in one rename.
  WARDEN_ASSIGN_OR_RETURN(std::string tmp_dir,
                          platform::MakeTempDirBeside(env, out_dir, 0700));
  const std::string parent = platform::DirName(out_dir);
  if (Status st = WriteUnitDir(env, tmp_dir, files); !st.ok()) {
    platform::RemoveTree(env, tmp_dir).IgnoreError();
    return st;
  }
  // The serial is recorded before the unit appears: a crash in between
  // leaves a serial used by no unit, never a unit whose serial could be
  // given again.
  const std::string recorded = serials + request.serial + "\n";
  if (Status st = platform::WriteFileAtomic(env, serials_path, recorded, 0644);
      !st.ok()) {
    platform::RemoveTree(env, tmp_dir).IgnoreError();
    return st;
  }
  // rename(2) replaces an empty directory and refuses a non-empty one, so a
  // directory that appeared meanwhile is not overwritten.
  if (Status st = env.Rename(tmp_dir, out_dir); !st.ok()) {
    platform::RemoveTree(env, tmp_dir).IgnoreError();
    // Nothing of the unit exists: the serial is free again.
    platform::WriteFileAtomic(env, serials_path, serials, 0644).IgnoreError();
    if (st.code() == Code::kAlreadyExists) {
      return AlreadyExistsError(out_dir + " is not empty");
    }
    return st;
  }
  if (Status st = env.SyncDir(parent); !st.ok()) {
    // Whether the unit is durable is unknown: take it away, and keep its
    // serial used.
    platform::RemoveTree(env, out_dir).IgnoreError();
    env.SyncDir(parent).IgnoreError();
    return st;
  }

  ProvisionResult result;
  result.passcode = passcode;
  result.manual_code = pairing::EncodeManualCode(payload);
  result.qr_payload = std::move(qr);
  result.device_dir = out_dir;
  result.certificate_fingerprint = cert.Fingerprint();
  result.info = std::move(info);
  return result;
}

Status WriteLabel(const std::string& label_dir, const ProvisionResult& result,
                  const DeviceInfo& info, platform::Env& env) {
  if (label_dir.empty() || result.device_dir.empty()) {
    return InvalidArgumentError("label and device directories must be given");
  }
  auto resolve = [](const std::string& p) -> Result<fs::path> {
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec);
    if (ec) return IoError("cannot resolve " + p + ": " + ec.message());
    fs::path canon = fs::weakly_canonical(abs, ec);
    if (ec) return IoError("cannot resolve " + p + ": " + ec.message());
    canon = canon.lexically_normal();
    if (!canon.has_filename() && canon.has_parent_path() &&
        canon != canon.root_path()) {
      canon = canon.parent_path();
    }
    return canon;
  };
  WARDEN_ASSIGN_OR_RETURN(fs::path label, resolve(label_dir));
  WARDEN_ASSIGN_OR_RETURN(fs::path device, resolve(result.device_dir));
  auto [dev_end, label_end] =
      std::mismatch(device.begin(), device.end(), label.begin(), label.end());
  (void)label_end;
  if (dev_end == device.end()) {
    return InvalidArgumentError(
        "the label directory must not be inside the unit's directory: the "
        "setup code must not be stored with the unit");
  }

  WARDEN_ASSIGN_OR_RETURN(std::string svg,
                          pairing::RenderQrSvg(result.qr_payload));
  std::string text;
  text += "Maker:          " + info.maker + "\n";
  text += "Model:          " + info.model + "\n";
  text += "Serial:         " + info.serial + "\n";
  text +=
      "Setup code:     " + pairing::FormatManualCode(result.manual_code) + "\n";
  text += "QR payload:     " + result.qr_payload + "\n";
  text += "Security updates until: " + info.support_end + "\n";
  text += "Report vulnerabilities: " + info.contact + "\n";
  text += "Disclosure policy:      " + info.policy_url + "\n";

  WARDEN_TRY(platform::MakeDirs(env, label_dir, 0700));
  Status st = platform::WriteFileAtomic(
      env, platform::JoinPath(label_dir, "qr.svg"), svg, 0600);
  if (st.ok()) {
    st = platform::WriteFileAtomic(
        env, platform::JoinPath(label_dir, "label.txt"), text, 0600);
  }
  crypto::Wipe(text);
  return st;
}

}  // namespace warden::provision
