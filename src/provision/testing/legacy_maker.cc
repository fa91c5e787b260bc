#include "provision/testing/legacy_maker.h"

#include <filesystem>

#include "base/time_format.h"
#include "crypto/secret.h"
#include "crypto/x509.h"
#include "platform/file.h"
#include "provision/device.h"

namespace warden::provision::testing {

Result<crypto::PublicKey> MakeLegacyMaker(const std::string& dir,
                                          const MakerSettings& settings,
                                          Clock& clock) {
  // A directory of today's layout, with its key and certificate replaced
  // by a clear key and a certificate of that key.
  WARDEN_TRY(InitMaker(dir, settings, clock));
  WARDEN_ASSIGN_OR_RETURN(
      auto key, crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256));
  crypto::CertificateRequest req{
      .common_name = settings.name + " Device CA",
      .organization = settings.name,
      .serial_number = std::nullopt,
      .subject_key = key.public_key(),
      .not_before = clock.Now() - std::chrono::hours(1),
      .not_after = AddYears(clock.Now(), 20),
      .is_ca = true,
  };
  WARDEN_ASSIGN_OR_RETURN(auto cert,
                          crypto::IssueCertificate(req, key, nullptr));
  WARDEN_TRY(platform::RemoveTree(platform::DefaultEnv(),
                                  platform::JoinPath(dir, kCaKeystoreDir)));
  WARDEN_TRY(platform::RemoveFile(platform::JoinPath(dir, kCaKeyConfigFile)));
  WARDEN_TRY(platform::RemoveFile(
      ResolveKekPath(dir, CaKeyLocation{.backend = CaKeyBackend::kFile})));
  std::string pem = key.ToPem();
  Status st =
      platform::WriteFileAtomic(platform::JoinPath(dir, kCaKeyFile), pem, 0600);
  crypto::Wipe(pem);
  WARDEN_TRY(st);
  WARDEN_TRY(platform::WriteFileAtomic(platform::JoinPath(dir, kCaCertFile),
                                       cert.ToPem(), 0644));
  return key.public_key();
}

std::string FileHoldingAPrivateKey(const std::string& dir) {
  static const std::string kP256Oid = "\x2a\x86\x48\xce\x3d\x03\x01\x07";
  static const std::string kPkcs8P256 =
      std::string(
          "\x02\x01\x00\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01"
          "\x06\x08",
          16) +
      kP256Oid + "\x04";
  static const std::string kSec1Start("\x30\x77\x02\x01\x01\x04\x20", 7);
  static const std::string kSec1Curve =
      std::string("\xa0\x0a\x06\x08", 4) + kP256Oid;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    auto data = platform::ReadFile(e.path().string(), 64 << 20);
    if (!data.ok()) continue;
    if (data->find("PRIVATE KEY-----") != std::string::npos ||
        data->find(kPkcs8P256) != std::string::npos) {
      return e.path().string();
    }
    for (size_t at = data->find(kSec1Start); at != std::string::npos;
         at = data->find(kSec1Start, at + 1)) {
      const size_t curve = at + kSec1Start.size() + 32;
      if (curve + kSec1Curve.size() <= data->size() &&
          data->compare(curve, kSec1Curve.size(), kSec1Curve) == 0) {
        return e.path().string();
      }
    }
  }
  return "";
}

}  // namespace warden::provision::testing
