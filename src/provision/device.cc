#include "provision/device.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "crypto/ec.h"
#include "pairing/pairing_protocol.h"
#include "platform/file.h"
#include "provision/validate.h"

namespace warden::provision {
namespace {

constexpr size_t kMaxPemFile = 16 * 1024;
constexpr size_t kMaxJsonFile = 16 * 1024;
constexpr size_t kMaxLanguages = 16;
constexpr uint32_t kMinIterations = 1000;
constexpr uint32_t kMaxIterations = 100000;
constexpr size_t kMinSalt = 16;
constexpr size_t kMaxSalt = 32;

using nlohmann::json;

// Reads an object member of the expected type, or says which is wrong.
Result<std::string> GetString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return DataLossError(std::string("\"") + key + "\" must be a string");
  }
  return it->get<std::string>();
}

Result<uint32_t> GetUint(const json& j, const char* key, uint32_t max) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned() || it->get<uint64_t>() > max) {
    return DataLossError(std::string("\"") + key + "\" must be an integer 0.." +
                         std::to_string(max));
  }
  return static_cast<uint32_t>(it->get<uint64_t>());
}

Result<json> ParseObject(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLossError("not valid JSON");
  if (!j.is_object()) return DataLossError("not a JSON object");
  return j;
}

// Prefixes a failure with the file it came from; a malformed file is
// kDataLoss whatever the validator's own code was.
Status InFile(const std::string& path, const Status& st, bool as_data_loss) {
  if (st.ok()) return st;
  Code code = as_data_loss ? Code::kDataLoss : st.code();
  return Status(code, path + ": " + st.message());
}

Result<std::string> ReadIn(platform::Env& env, const std::string& dir,
                           const char* name, size_t max) {
  return platform::ReadFile(env, platform::JoinPath(dir, name), max);
}

Result<DeviceInfo> ParseDeviceInfo(std::string_view text) {
  WARDEN_ASSIGN_OR_RETURN(json j, ParseObject(text));
  DeviceInfo info;
  WARDEN_ASSIGN_OR_RETURN(info.serial, GetString(j, "serial"));
  WARDEN_ASSIGN_OR_RETURN(info.model, GetString(j, "model"));
  WARDEN_ASSIGN_OR_RETURN(info.maker, GetString(j, "maker"));
  WARDEN_ASSIGN_OR_RETURN(info.contact, GetString(j, "contact"));
  WARDEN_ASSIGN_OR_RETURN(info.policy_url, GetString(j, "policy_url"));
  WARDEN_ASSIGN_OR_RETURN(info.support_end, GetString(j, "support_end"));
  WARDEN_ASSIGN_OR_RETURN(info.firmware_version,
                          GetString(j, "firmware_version"));
  WARDEN_ASSIGN_OR_RETURN(uint32_t vid, GetUint(j, "vendor_id", 0xFFFF));
  WARDEN_ASSIGN_OR_RETURN(uint32_t pid, GetUint(j, "product_id", 0xFFFF));
  WARDEN_ASSIGN_OR_RETURN(uint32_t disc, GetUint(j, "discriminator", 0xFFF));
  info.vendor_id = static_cast<uint16_t>(vid);
  info.product_id = static_cast<uint16_t>(pid);
  info.discriminator = static_cast<uint16_t>(disc);
  auto langs = j.find("languages");
  if (langs == j.end() || !langs->is_array() || langs->empty() ||
      langs->size() > kMaxLanguages) {
    return DataLossError("\"languages\" must be an array of 1.." +
                         std::to_string(kMaxLanguages) + " strings");
  }
  for (const auto& l : *langs) {
    if (!l.is_string()) {
      return DataLossError("\"languages\" must contain strings");
    }
    info.languages.push_back(l.get<std::string>());
  }
  WARDEN_TRY(ValidateSerial(info.serial));
  WARDEN_TRY(ValidateModel(info.model));
  WARDEN_TRY(ValidateMakerName(info.maker));
  WARDEN_TRY(ValidateContact(info.contact));
  WARDEN_TRY(ValidateHttpsUrl("policy_url", info.policy_url));
  for (const auto& l : info.languages) WARDEN_TRY(ValidateLanguageTag(l));
  WARDEN_TRY(ValidateFirmwareVersion(info.firmware_version));
  auto end = ParseDate(info.support_end);
  if (!end.ok()) return end.status().WithContext("support_end");
  return info;
}

Result<Bytes> GetBase64(const json& j, const char* key) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, GetString(j, key));
  auto bytes = Base64Decode(text);
  crypto::Wipe(text);
  if (!bytes.ok()) {
    return DataLossError(std::string("\"") + key + "\" is not valid base64");
  }
  return bytes;
}

Result<VerifierRecord> ParsePairingUnchecked(std::string_view text) {
  WARDEN_ASSIGN_OR_RETURN(json j, ParseObject(text));
  WARDEN_ASSIGN_OR_RETURN(std::string suite, GetString(j, "suite"));
  if (suite != pairing::kSuite) {
    return DataLossError("unsupported suite \"" + suite.substr(0, 64) + "\"");
  }
  VerifierRecord rec;
  WARDEN_ASSIGN_OR_RETURN(rec.iterations, GetUint(j, "iterations", UINT32_MAX));
  if (rec.iterations < kMinIterations || rec.iterations > kMaxIterations) {
    return DataLossError("\"iterations\" must be " +
                         std::to_string(kMinIterations) + ".." +
                         std::to_string(kMaxIterations));
  }
  WARDEN_ASSIGN_OR_RETURN(rec.salt, GetBase64(j, "salt"));
  if (rec.salt.size() < kMinSalt || rec.salt.size() > kMaxSalt) {
    return DataLossError("\"salt\" must be 16..32 bytes");
  }
  WARDEN_ASSIGN_OR_RETURN(Bytes w0, GetBase64(j, "w0"));
  rec.w0 = crypto::SecretBytes(std::move(w0));
  if (rec.w0.size() != crypto::p256::kScalarSize) {
    return DataLossError("\"w0\" must be 32 bytes");
  }
  auto scalar = crypto::p256::Scalar::FromBytes(rec.w0.view());
  if (!scalar.ok() || scalar->IsZero()) {
    return DataLossError("\"w0\" is not a scalar in 1..n-1");
  }
  WARDEN_ASSIGN_OR_RETURN(rec.L, GetBase64(j, "L"));
  if (rec.L.size() != crypto::p256::kPointSize ||
      !crypto::p256::Point::FromBytes(rec.L).ok()) {
    return DataLossError("\"L\" is not an uncompressed P-256 point");
  }
  if (j.contains("w1")) {
    return DataLossError("holds w1, which a unit must never store");
  }
  return rec;
}

}  // namespace

std::string DeviceInfoToJson(const DeviceInfo& info) {
  json j = {
      {"serial", info.serial},
      {"model", info.model},
      {"maker", info.maker},
      {"contact", info.contact},
      {"policy_url", info.policy_url},
      {"languages", info.languages},
      {"support_end", info.support_end},
      {"firmware_version", info.firmware_version},
      {"vendor_id", info.vendor_id},
      {"product_id", info.product_id},
      {"discriminator", info.discriminator},
  };
  return j.dump(2) + "\n";
}

Result<DeviceInfo> DeviceInfoFromJson(std::string_view text) {
  try {
    auto r = ParseDeviceInfo(text);
    if (!r.ok()) return Status(Code::kDataLoss, r.status().message());
    return r;
  } catch (const std::exception& e) {
    return DataLossError(std::string("malformed: ") + e.what());
  }
}

Result<VerifierRecord> ParseVerifierRecord(std::string_view text) {
  try {
    auto rec = ParsePairingUnchecked(text);
    if (!rec.ok()) return Status(Code::kDataLoss, rec.status().message());
    return rec;
  } catch (const std::exception& e) {
    return DataLossError(std::string("malformed: ") + e.what());
  }
}

Result<UnitCertificates> LoadUnitCertificates(const std::string& dir,
                                              platform::Env& env) {
  const std::string device_path = platform::JoinPath(dir, kDeviceJsonFile);
  const std::string cert_path = platform::JoinPath(dir, kIdentityCertFile);
  const std::string ca_path = platform::JoinPath(dir, kCaCertFile);

  auto device_text = ReadIn(env, dir, kDeviceJsonFile, kMaxJsonFile);
  if (!device_text.ok()) return device_text.status();
  auto info = DeviceInfoFromJson(*device_text);
  if (!info.ok()) return InFile(device_path, info.status(), true);

  auto cert_pem = ReadIn(env, dir, kIdentityCertFile, kMaxPemFile);
  if (!cert_pem.ok()) return cert_pem.status();
  auto cert = crypto::Certificate::FromPem(*cert_pem);
  if (!cert.ok()) return InFile(cert_path, cert.status(), true);

  auto ca_pem = ReadIn(env, dir, kCaCertFile, kMaxPemFile);
  if (!ca_pem.ok()) return ca_pem.status();
  auto ca = crypto::Certificate::FromPem(*ca_pem);
  if (!ca.ok()) return InFile(ca_path, ca.status(), true);

  if (cert->subject_common_name() != info->serial ||
      cert->subject_serial_number() != info->serial) {
    return IntegrityError(cert_path + ": certificate is not for serial " +
                          info->serial);
  }
  if (!ca->is_ca()) {
    return IntegrityError(ca_path + ": not a CA certificate");
  }
  // The chain is checked at the moment of issue: expiry is the caller's
  // policy, not a reason to refuse to load.
  Status chain = crypto::VerifyCertificate(*cert, *ca, cert->not_before());
  if (!chain.ok()) {
    return IntegrityError(cert_path + ": not issued by " + kCaCertFile + ": " +
                          chain.message());
  }
  return UnitCertificates{std::move(*info), std::move(*cert), std::move(*ca)};
}

Result<DeviceIdentity> LoadDevice(const std::string& dir, platform::Env& env) {
  const std::string pairing_path = platform::JoinPath(dir, kPairingJsonFile);
  const std::string key_path = platform::JoinPath(dir, kIdentityKeyFile);
  WARDEN_ASSIGN_OR_RETURN(UnitCertificates unit,
                          LoadUnitCertificates(dir, env));

  auto key_pem = ReadIn(env, dir, kIdentityKeyFile, kMaxPemFile);
  if (!key_pem.ok()) return key_pem.status();
  auto key = crypto::PrivateKey::FromPem(*key_pem);
  crypto::Wipe(*key_pem);
  if (!key.ok()) return InFile(key_path, key.status(), true);
  if (!(unit.certificate.public_key() == key->public_key())) {
    return IntegrityError(key_path + ": key does not match " +
                          kIdentityCertFile);
  }

  auto pairing_text = ReadIn(env, dir, kPairingJsonFile, kMaxJsonFile);
  if (!pairing_text.ok()) return pairing_text.status();
  auto rec = ParseVerifierRecord(*pairing_text);
  crypto::Wipe(*pairing_text);
  if (!rec.ok()) return InFile(pairing_path, rec.status(), true);

  return DeviceIdentity{std::move(unit.info),        std::move(*key),
                        std::move(unit.certificate), std::move(unit.ca),
                        std::move(rec->w0),          std::move(rec->L),
                        std::move(rec->salt),        rec->iterations};
}

std::string RenderSecurityTxt(const DeviceInfo& info, WallTime now,
                              std::string_view canonical_url) {
  std::string out;
  out += "Contact: " + info.contact + "\n";
  out += "Expires: " +
         FormatTimestamp(now + std::chrono::hours(24 * kSecurityTxtDays)) +
         "\n";
  out += "Policy: " + info.policy_url + "\n";
  out += "Preferred-Languages: ";
  for (size_t i = 0; i < info.languages.size(); ++i) {
    if (i) out += ", ";
    out += info.languages[i];
  }
  out += "\n";
  bool canonical_ok = !canonical_url.empty();
  for (char c : canonical_url) {
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7F) canonical_ok = false;
  }
  if (canonical_ok) {
    out += "Canonical: ";
    out += canonical_url;
    out += "\n";
  }
  return out;
}

}  // namespace warden::provision
