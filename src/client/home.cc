#include "client/home.h"

#include <cstdlib>

#include "crypto/secret.h"
#include "platform/file.h"

namespace warden::client {
namespace {

constexpr size_t kMaxIdentityFile = 64 * 1024;

}  // namespace

Result<std::string> DefaultHomeDir() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    return platform::JoinPath(xdg, "warden");
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') {
    return platform::JoinPath(platform::JoinPath(home, ".config"), "warden");
  }
  return FailedPreconditionError(
      "neither XDG_CONFIG_HOME nor HOME is set; use --home DIR");
}

Status EnsureHomeDir(const std::string& dir, platform::Env& env) {
  if (dir.empty()) return InvalidArgumentError("empty home directory");
  if (platform::Exists(env, dir) && !platform::IsDirectory(env, dir)) {
    return IoError(dir + " exists and is not a directory");
  }
  return platform::MakeDirs(env, dir, 0700);
}

Result<OwnerIdentity> LoadOwnerIdentity(const std::string& home,
                                        platform::Env& env) {
  std::string key_path = platform::JoinPath(home, kOwnerKeyFile);
  std::string cert_path = platform::JoinPath(home, kOwnerCertFile);
  bool have_key = platform::Exists(env, key_path);
  bool have_cert = platform::Exists(env, cert_path);
  if (!have_key && !have_cert) {
    return NotFoundError("no owner identity in " + home +
                         " (pair a device first)");
  }
  if (!have_key || !have_cert) {
    return DataLossError("owner identity in " + home + " is incomplete: " +
                         (have_key ? cert_path : key_path) + " is missing");
  }
  Result<std::string> key_pem =
      platform::ReadFile(env, key_path, kMaxIdentityFile);
  if (!key_pem.ok()) return key_pem.status();
  Result<crypto::PrivateKey> key = crypto::PrivateKey::FromPem(*key_pem);
  crypto::Wipe(*key_pem);
  if (!key.ok()) {
    return DataLossError(key_path +
                         " is not a valid key: " + key.status().message());
  }
  if (key->type() != crypto::KeyType::kEcdsaP256) {
    return DataLossError(key_path + " is not an ECDSA P-256 key");
  }
  WARDEN_ASSIGN_OR_RETURN(std::string cert_pem,
                          platform::ReadFile(env, cert_path, kMaxIdentityFile));
  Result<crypto::Certificate> cert = crypto::Certificate::FromPem(cert_pem);
  if (!cert.ok()) {
    return DataLossError(
        cert_path + " is not a valid certificate: " + cert.status().message());
  }
  if (!(cert->public_key() == key->public_key())) {
    return DataLossError(cert_path + " does not belong to " + key_path);
  }
  return OwnerIdentity{std::move(key).value(), std::move(cert).value()};
}

Result<OwnerIdentity> LoadOrCreateOwnerIdentity(const std::string& home,
                                                const Clock& clock,
                                                platform::Env& env) {
  Result<OwnerIdentity> existing = LoadOwnerIdentity(home, env);
  if (existing.ok() || existing.status().code() != Code::kNotFound) {
    return existing;
  }
  WARDEN_TRY(EnsureHomeDir(home, env));
  WARDEN_ASSIGN_OR_RETURN(
      crypto::PrivateKey key,
      crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256));
  WallTime now = clock.Now();
  crypto::CertificateRequest req{
      .common_name = "warden owner",
      .organization = "",
      .serial_number = std::nullopt,
      .subject_key = key.public_key(),
      // A little slack for devices whose clock is slightly behind.
      .not_before = now - std::chrono::hours(1),
      .not_after = now + std::chrono::hours(24 * 365 * 20 + 24 * 5),
      .is_ca = false,
      .dns_names = {},
      .ip_addresses = {},
      .server_auth = false,
      .client_auth = true,
  };
  WARDEN_ASSIGN_OR_RETURN(crypto::Certificate cert,
                          crypto::IssueCertificate(req, key, nullptr));
  std::string key_path = platform::JoinPath(home, kOwnerKeyFile);
  std::string cert_path = platform::JoinPath(home, kOwnerCertFile);
  // The certificate goes first: a crash in between leaves a certificate
  // without a key, which is reported, never a key that silently differs.
  WARDEN_TRY(platform::CreateFileExclusive(env, cert_path, cert.ToPem(), 0644));
  std::string key_pem = key.ToPem();
  Status st = platform::CreateFileExclusive(env, key_path, key_pem, 0600);
  crypto::Wipe(key_pem);
  if (!st.ok()) {
    platform::RemoveFile(env, cert_path).IgnoreError();
    if (st.code() == Code::kAlreadyExists) return LoadOwnerIdentity(home, env);
    return st;
  }
  return OwnerIdentity{std::move(key), std::move(cert)};
}

}  // namespace warden::client
