#include "provision/maker.h"

#include <nlohmann/json.hpp>

#include "crypto/secret.h"
#include "platform/file.h"
#include "provision/device.h"
#include "provision/validate.h"

namespace warden::provision {
namespace {

using nlohmann::json;

constexpr size_t kMaxPemFile = 16 * 1024;
constexpr size_t kMaxMakerJson = 16 * 1024;
constexpr size_t kMaxLanguages = 16;
constexpr int kCaYears = 20;
// Units' certificates outlive the support end by a year and must still
// chain to the CA, so support may not end later than this after InitMaker.
constexpr int kMaxSupportYears = kCaYears - 1;
// Tolerates provisioning stations and units whose clocks are slightly off.
constexpr auto kBackdate = std::chrono::hours(1);

std::string ResolveSupportEnd(const MakerSettings& s, WallTime now) {
  if (s.support_end) return *s.support_end;
  return FormatDate(AddYears(now, s.support_years));
}

std::string MakerJson(const MakerSettings& s, const std::string& support_end) {
  json j = {
      {"name", s.name},
      {"contact", s.contact},
      {"policy_url", s.policy_url},
      {"languages", s.languages},
      {"support_years", s.support_years},
      {"support_end", support_end},
      {"vendor_id", s.vendor_id},
      {"product_id", s.product_id},
  };
  return j.dump(2) + "\n";
}

Result<MakerSettings> ParseMakerJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError("not a JSON object");
  }
  auto str = [&](const char* key) -> Result<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      return DataLossError(std::string("\"") + key + "\" must be a string");
    }
    return it->get<std::string>();
  };
  auto uint = [&](const char* key, uint64_t max) -> Result<uint64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned() ||
        it->get<uint64_t>() > max) {
      return DataLossError(std::string("\"") + key +
                           "\" must be an integer 0.." + std::to_string(max));
    }
    return it->get<uint64_t>();
  };
  MakerSettings s;
  WARDEN_ASSIGN_OR_RETURN(s.name, str("name"));
  WARDEN_ASSIGN_OR_RETURN(s.contact, str("contact"));
  WARDEN_ASSIGN_OR_RETURN(s.policy_url, str("policy_url"));
  WARDEN_ASSIGN_OR_RETURN(std::string end, str("support_end"));
  s.support_end = end;
  WARDEN_ASSIGN_OR_RETURN(uint64_t years, uint("support_years", 100));
  WARDEN_ASSIGN_OR_RETURN(uint64_t vid, uint("vendor_id", 0xFFFF));
  WARDEN_ASSIGN_OR_RETURN(uint64_t pid, uint("product_id", 0xFFFF));
  s.support_years = static_cast<int>(years);
  s.vendor_id = static_cast<uint16_t>(vid);
  s.product_id = static_cast<uint16_t>(pid);
  auto langs = j.find("languages");
  if (langs == j.end() || !langs->is_array()) {
    return DataLossError("\"languages\" must be an array of strings");
  }
  s.languages.clear();
  for (const auto& l : *langs) {
    if (!l.is_string()) {
      return DataLossError("\"languages\" must be an array of strings");
    }
    s.languages.push_back(l.get<std::string>());
  }
  return s;
}

// Checks that hold whenever settings are stored; the support end is not
// required to be in the future here (a maker may outlive its support).
Status ValidateStatic(const MakerSettings& s) {
  WARDEN_TRY(ValidateMakerName(s.name));
  WARDEN_TRY(ValidateContact(s.contact));
  WARDEN_TRY(ValidateHttpsUrl("policy_url", s.policy_url));
  if (s.languages.empty() || s.languages.size() > kMaxLanguages) {
    return InvalidArgumentError("languages: give 1.." +
                                std::to_string(kMaxLanguages) + " tags");
  }
  for (const auto& l : s.languages) WARDEN_TRY(ValidateLanguageTag(l));
  if (s.support_end) {
    auto end = ParseDate(*s.support_end);
    if (!end.ok()) return end.status().WithContext("support_end");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateMakerSettings(const MakerSettings& s, WallTime now) {
  WARDEN_TRY(ValidateStatic(s));
  if (s.support_years < 1 || s.support_years > kMaxSupportYears) {
    return InvalidArgumentError("support_years must be 1.." +
                                std::to_string(kMaxSupportYears));
  }
  if (s.support_end) {
    WARDEN_ASSIGN_OR_RETURN(WallTime end, ParseDate(*s.support_end));
    if (end <= now) {
      return InvalidArgumentError("support_end " + *s.support_end +
                                  " is not in the future");
    }
    if (end > AddYears(now, kMaxSupportYears)) {
      return InvalidArgumentError("support_end must be within " +
                                  std::to_string(kMaxSupportYears) +
                                  " years, the device CA's lifetime");
    }
  }
  return Status::Ok();
}

Status InitMaker(const std::string& dir_arg, const MakerSettings& settings,
                 Clock& clock, platform::Env& env, const CaKeyLocation& key,
                 const CaKeyAccess& access) {
  std::string dir = dir_arg;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const WallTime now = clock.Now();
  WARDEN_TRY(ValidateMakerSettings(settings, now));
  if (key.backend == CaKeyBackend::kClearFile) {
    return InvalidArgumentError(
        "the CA key is made in a keystore (file or pkcs11), not as a clear "
        "file");
  }
  const std::string support_end = ResolveSupportEnd(settings, now);

  const bool existed = platform::Exists(env, dir);
  if (existed) {
    if (!platform::IsDirectory(env, dir)) {
      return AlreadyExistsError(dir + " exists and is not a directory");
    }
    if (!platform::IsEmptyDirectory(env, dir)) {
      return AlreadyExistsError(dir +
                                " is not empty: refusing to replace a "
                                "maker directory");
    }
  }

  CaKeyLocation recorded = key;
  if (recorded.backend == CaKeyBackend::kFile && recorded.kek_path.empty()) {
    recorded.kek_path = DefaultKekPath(dir);
  }

  // Built complete and durable beside `dir`, then renamed into place (over
  // an empty directory, if there is one): a crash leaves a maker directory
  // whole or not at all.
  const std::string parent = platform::DirName(dir);
  WARDEN_TRY(platform::MakeDirs(env, parent, 0700));
  WARDEN_ASSIGN_OR_RETURN(std::string tmp,
                          platform::MakeTempDirBeside(env, dir, 0700));
  // The KEK's path is relative to the maker directory; the temporary one
  // beside it resolves it to the same file.
  const std::string kek = recorded.backend == CaKeyBackend::kFile
                              ? ResolveKekPath(dir, recorded)
                              : std::string();
  const bool kek_existed = !kek.empty() && platform::Exists(env, kek);
  std::unique_ptr<keystore::Keystore> ks;
  auto build = [&]() -> Status {
    WARDEN_TRY(env.SetMode(tmp, 0700));
    WARDEN_ASSIGN_OR_RETURN(
        auto backend,
        OpenCaKeyBackend(dir, recorded, access, /*create_kek=*/true, env));
    WARDEN_ASSIGN_OR_RETURN(
        ks,
        keystore::Keystore::Open(env, platform::JoinPath(tmp, kCaKeystoreDir),
                                 std::move(backend)));
    WARDEN_TRY(ks->CreateSigningKey(kCaKeyItem).status());
    WARDEN_ASSIGN_OR_RETURN(crypto::PrivateKey ca_key,
                            ks->SigningKey(kCaKeyItem));
    crypto::CertificateRequest req{
        .common_name = settings.name + " Device CA",
        .organization = settings.name,
        .serial_number = std::nullopt,
        .subject_key = ca_key.public_key(),
        .not_before = now - kBackdate,
        .not_after = AddYears(now, kCaYears),
        .is_ca = true,
    };
    WARDEN_ASSIGN_OR_RETURN(auto ca_cert,
                            crypto::IssueCertificate(req, ca_key, nullptr));
    WARDEN_TRY(ks->Sync());
    WARDEN_TRY(platform::WriteNewFile(env,
                                      platform::JoinPath(tmp, kCaKeyConfigFile),
                                      CaKeyConfigJson(recorded), 0644));
    WARDEN_TRY(platform::WriteNewFile(env, platform::JoinPath(tmp, kCaCertFile),
                                      ca_cert.ToPem(), 0644));
    WARDEN_TRY(platform::WriteNewFile(
        env, platform::JoinPath(tmp, kSerialsFile), "", 0644));
    WARDEN_TRY(platform::WriteNewFile(env,
                                      platform::JoinPath(tmp, kMakerJsonFile),
                                      MakerJson(settings, support_end), 0644));
    return env.SyncDir(tmp);
  };
  // What a failure before the rename leaves: the token's key (for a token)
  // and a KEK made here go with the directory.
  auto undo = [&]() {
    if (ks) ks->Destroy(kCaKeyItem).IgnoreError();
    ks.reset();
    platform::RemoveTree(env, tmp).IgnoreError();
    if (!kek.empty() && !kek_existed) {
      platform::ScrubFile(env, kek).IgnoreError();
    }
  };
  Status st = build();
  if (st.ok()) st = env.Rename(tmp, dir);
  if (!st.ok()) {
    undo();
    if (st.code() == Code::kAlreadyExists) {
      return AlreadyExistsError(dir + " is not empty");
    }
    return st;
  }
  ks.reset();
  st = env.SyncDir(parent);
  if (!st.ok()) {
    // Whether it is durable is unknown: leave what was there before.
    platform::RemoveTree(env, dir).IgnoreError();
    if (existed) env.MakeDir(dir, 0700).IgnoreError();
    env.SyncDir(parent).IgnoreError();
    return st;
  }
  return Status::Ok();
}

Result<Maker> LoadMaker(const std::string& dir, platform::Env& env) {
  const std::string json_path = platform::JoinPath(dir, kMakerJsonFile);
  const std::string cert_path = platform::JoinPath(dir, kCaCertFile);

  WARDEN_ASSIGN_OR_RETURN(std::string text,
                          platform::ReadFile(env, json_path, kMaxMakerJson));
  Result<MakerSettings> settings = DataLossError("unparsed");
  try {
    settings = ParseMakerJson(text);
  } catch (const std::exception& e) {
    settings = DataLossError(std::string("malformed: ") + e.what());
  }
  if (!settings.ok()) {
    return DataLossError(json_path + ": " + settings.status().message());
  }
  if (Status st = ValidateStatic(*settings); !st.ok()) {
    return DataLossError(json_path + ": " + st.message());
  }

  WARDEN_ASSIGN_OR_RETURN(std::string cert_pem,
                          platform::ReadFile(env, cert_path, kMaxPemFile));
  auto cert = crypto::Certificate::FromPem(cert_pem);
  if (!cert.ok()) {
    return DataLossError(cert_path + ": " + cert.status().message());
  }
  if (!cert->is_ca()) {
    return IntegrityError(cert_path + ": not a CA certificate");
  }
  WARDEN_ASSIGN_OR_RETURN(CaKeyLocation location, ReadCaKeyLocation(dir, env));
  return Maker{dir, std::move(*settings), std::move(*cert),
               std::move(location)};
}

Result<CaKey> OpenMakerCaKey(const Maker& maker, const CaKeyAccess& access,
                             platform::Env& env) {
  return OpenCaKey(maker.dir, maker.ca_key_location, access, maker.ca_cert,
                   env);
}

}  // namespace warden::provision
