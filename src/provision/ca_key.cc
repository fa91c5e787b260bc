#include "provision/ca_key.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/rng.h"
#include "crypto/secret.h"
#include "keystore/file_backend.h"
#include "keystore/pkcs11_backend.h"
#include "platform/file.h"
#include "provision/device.h"
#include "provision/maker.h"

namespace warden::provision {
namespace {

using nlohmann::json;

constexpr size_t kMaxConfigFile = 4096;
constexpr size_t kMaxPemFile = 16 * 1024;
constexpr size_t kMaxPathField = 1024;
constexpr size_t kChallengeSize = 32;

std::string KeystorePath(const std::string& dir) {
  return platform::JoinPath(dir, kCaKeystoreDir);
}

std::string BaseName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// The key as the keystore holds it: made there, or the PKCS#8 of an
// imported one.
Result<crypto::PrivateKey> StoredKey(keystore::Keystore& ks) {
  WARDEN_ASSIGN_OR_RETURN(auto items, ks.List());
  for (const auto& item : items) {
    if (item.name != kCaKeyItem) continue;
    if (item.kind == keystore::ItemKind::kSigningKey) {
      return ks.SigningKey(kCaKeyItem);
    }
    WARDEN_ASSIGN_OR_RETURN(crypto::SecretBytes pem, ks.Unseal(kCaKeyItem));
    std::string text = ToString(pem.view());
    auto key = crypto::PrivateKey::FromPem(text);
    crypto::Wipe(text);
    if (!key.ok()) return DataLossError("it holds no private key");
    return key;
  }
  return NotFoundError("the keystore holds no CA key");
}

// The key signs, and what it signs verifies against the CA certificate:
// proof that the stored key is the CA's before anything relies on it.
Status CheckSigns(const crypto::PrivateKey& key,
                  const crypto::Certificate& ca_cert) {
  if (!(key.public_key() == ca_cert.public_key())) {
    return IntegrityError("the key does not match " + std::string(kCaCertFile));
  }
  WARDEN_ASSIGN_OR_RETURN(Bytes challenge,
                          RandomBytes(SystemRng(), kChallengeSize));
  WARDEN_ASSIGN_OR_RETURN(Bytes signature, key.Sign(challenge));
  if (!ca_cert.public_key().Verify(challenge, signature).ok()) {
    return IntegrityError("the key's signature does not verify against " +
                          std::string(kCaCertFile));
  }
  return Status::Ok();
}

Result<crypto::Certificate> ReadCaCert(const std::string& dir,
                                       platform::Env& env) {
  const std::string path = platform::JoinPath(dir, kCaCertFile);
  WARDEN_ASSIGN_OR_RETURN(std::string pem,
                          platform::ReadFile(env, path, kMaxPemFile));
  auto cert = crypto::Certificate::FromPem(pem);
  if (!cert.ok()) return DataLossError(path + ": " + cert.status().message());
  return cert;
}

}  // namespace

std::string_view CaKeyBackendName(CaKeyBackend backend) {
  switch (backend) {
    case CaKeyBackend::kClearFile:
      return "clear-file";
    case CaKeyBackend::kFile:
      return "file";
    case CaKeyBackend::kPkcs11:
      return "pkcs11";
  }
  return "unknown";
}

std::string CaKeyConfigJson(const CaKeyLocation& l) {
  json j = {{"backend", std::string(CaKeyBackendName(l.backend))}};
  if (l.backend == CaKeyBackend::kFile) j["kek"] = l.kek_path;
  if (l.backend == CaKeyBackend::kPkcs11) {
    j["module"] = l.pkcs11_module;
    j["token"] = l.pkcs11_token;
  }
  return j.dump(2) + "\n";
}

Result<CaKeyLocation> ParseCaKeyConfig(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLossError("not a JSON object");
  }
  auto str = [&](const char* key) -> Result<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty() ||
        it->get<std::string>().size() > kMaxPathField) {
      return DataLossError(std::string("\"") + key +
                           "\" must be a non-empty string");
    }
    return it->get<std::string>();
  };
  WARDEN_ASSIGN_OR_RETURN(std::string backend, str("backend"));
  CaKeyLocation l;
  if (backend == "file") {
    l.backend = CaKeyBackend::kFile;
    WARDEN_ASSIGN_OR_RETURN(l.kek_path, str("kek"));
  } else if (backend == "pkcs11") {
    l.backend = CaKeyBackend::kPkcs11;
    WARDEN_ASSIGN_OR_RETURN(l.pkcs11_module, str("module"));
    WARDEN_ASSIGN_OR_RETURN(l.pkcs11_token, str("token"));
  } else {
    return UnavailableError("the CA key is in a \"" + backend.substr(0, 32) +
                            "\" keystore, which this build cannot open");
  }
  return l;
}

Result<CaKeyLocation> ReadCaKeyLocation(const std::string& dir,
                                        platform::Env& env) {
  const std::string config = platform::JoinPath(dir, kCaKeyConfigFile);
  if (platform::Exists(env, config)) {
    WARDEN_ASSIGN_OR_RETURN(std::string text,
                            platform::ReadFile(env, config, kMaxConfigFile));
    Result<CaKeyLocation> l = DataLossError("unparsed");
    try {
      l = ParseCaKeyConfig(text);
    } catch (const std::exception& e) {
      l = DataLossError(std::string("malformed: ") + e.what());
    }
    if (!l.ok()) return l.status().WithContext(config);
    return l;
  }
  if (platform::Exists(env, platform::JoinPath(dir, kCaKeyFile))) {
    return CaKeyLocation{.backend = CaKeyBackend::kClearFile};
  }
  return NotFoundError(dir + ": no " + kCaKeyConfigFile + " and no " +
                       kCaKeyFile + ": the CA key is missing");
}

std::string DefaultKekPath(const std::string& dir) {
  return "../" + BaseName(dir) + ".kek";
}

std::string ResolveKekPath(const std::string& dir, const CaKeyLocation& l) {
  const std::string kek = l.kek_path.empty() ? DefaultKekPath(dir) : l.kek_path;
  // Lexically, as the maker directory may not exist yet (InitMaker).
  const std::filesystem::path path =
      !kek.empty() && kek.front() == '/'
          ? std::filesystem::path(kek)
          : std::filesystem::path(dir) / std::filesystem::path(kek);
  return path.lexically_normal().string();
}

Result<std::unique_ptr<keystore::Backend>> OpenCaKeyBackend(
    const std::string& dir, const CaKeyLocation& l, const CaKeyAccess& access,
    bool create_kek, platform::Env& env) {
  switch (l.backend) {
    case CaKeyBackend::kFile: {
      keystore::FileBackendOptions options;
      options.kek_path = ResolveKekPath(dir, l);
      options.create_kek = create_kek;
      auto backend = keystore::FileBackend::Open(env, options);
      if (!backend.ok()) {
        return backend.status().WithContext("the CA key's KEK file " +
                                            options.kek_path);
      }
      return std::unique_ptr<keystore::Backend>(std::move(*backend));
    }
    case CaKeyBackend::kPkcs11: {
      if (access.pkcs11_pin.empty()) {
        return UnauthenticatedError("the CA key is in PKCS#11 token \"" +
                                    l.pkcs11_token + "\": its PIN is needed");
      }
      keystore::Pkcs11BackendOptions options{l.pkcs11_module, l.pkcs11_token,
                                             access.pkcs11_pin};
      auto backend = keystore::Pkcs11Backend::Open(std::move(options));
      if (!backend.ok()) {
        return backend.status().WithContext("the CA key's token \"" +
                                            l.pkcs11_token + "\"");
      }
      return std::unique_ptr<keystore::Backend>(std::move(*backend));
    }
    case CaKeyBackend::kClearFile:
      break;
  }
  return InvalidArgumentError("a clear ca.key is not a keystore");
}

Result<CaKey> OpenCaKey(const std::string& dir, const CaKeyLocation& l,
                        const CaKeyAccess& access,
                        const crypto::Certificate& ca_cert,
                        platform::Env& env) {
  if (l.backend == CaKeyBackend::kClearFile) {
    const std::string path = platform::JoinPath(dir, kCaKeyFile);
    WARDEN_ASSIGN_OR_RETURN(std::string pem,
                            platform::ReadFile(env, path, kMaxPemFile));
    auto key = crypto::PrivateKey::FromPem(pem);
    crypto::Wipe(pem);
    if (!key.ok()) return DataLossError(path + ": " + key.status().message());
    if (!(key->public_key() == ca_cert.public_key())) {
      return IntegrityError(path + ": key does not match " +
                            std::string(kCaCertFile));
    }
    return CaKey{nullptr, std::move(*key)};
  }
  WARDEN_ASSIGN_OR_RETURN(
      auto backend,
      OpenCaKeyBackend(dir, l, access, /*create_kek=*/false, env));
  const std::string ks_dir = KeystorePath(dir);
  if (!platform::IsDirectory(env, ks_dir)) {
    return NotFoundError(ks_dir + " is missing: the CA key is gone");
  }
  WARDEN_ASSIGN_OR_RETURN(
      auto ks, keystore::Keystore::Open(env, ks_dir, std::move(backend)));
  auto key = StoredKey(*ks);
  if (!key.ok()) {
    return key.status().WithContext(ks_dir + " (" +
                                    std::string(CaKeyBackendName(l.backend)) +
                                    "), item " + kCaKeyItem);
  }
  if (!(key->public_key() == ca_cert.public_key())) {
    return IntegrityError(ks_dir + ": the CA key does not match " +
                          std::string(kCaCertFile));
  }
  return CaKey{std::move(ks), std::move(*key)};
}

Status ImportCaKey(const std::string& dir, const CaKeyLocation& to,
                   const CaKeyAccess& access, platform::Env& env) {
  if (to.backend == CaKeyBackend::kClearFile) {
    return InvalidArgumentError(
        "import the CA key into a keystore, not a file");
  }
  WARDEN_ASSIGN_OR_RETURN(crypto::Certificate ca_cert, ReadCaCert(dir, env));
  WARDEN_ASSIGN_OR_RETURN(CaKeyLocation current, ReadCaKeyLocation(dir, env));
  WARDEN_ASSIGN_OR_RETURN(
      std::unique_ptr<platform::FileLock> lock,
      env.Lock(platform::JoinPath(dir, kSerialsLockFile), /*wait=*/true));
  const std::string clear_path = platform::JoinPath(dir, kCaKeyFile);

  if (current.backend != CaKeyBackend::kClearFile) {
    // Committed already: only a leftover clear copy may remain, and it
    // goes once the keystore's key is shown to work.
    if (!platform::Exists(env, clear_path)) {
      return AlreadyExistsError("the CA key is already in a " +
                                std::string(CaKeyBackendName(current.backend)) +
                                " keystore");
    }
    WARDEN_ASSIGN_OR_RETURN(CaKey key,
                            OpenCaKey(dir, current, access, ca_cert, env));
    WARDEN_TRY(CheckSigns(key.key, ca_cert));
    WARDEN_TRY(key.keystore->Sync());
    return platform::ScrubFile(env, clear_path);
  }

  WARDEN_ASSIGN_OR_RETURN(std::string pem,
                          platform::ReadFile(env, clear_path, kMaxPemFile));
  struct WipeOnExit {
    std::string& s;
    ~WipeOnExit() { crypto::Wipe(s); }
  } wipe_pem{pem};
  auto clear = crypto::PrivateKey::FromPem(pem);
  if (!clear.ok()) {
    return DataLossError(clear_path + ": " + clear.status().message());
  }
  if (!(clear->public_key() == ca_cert.public_key())) {
    return IntegrityError(clear_path + ": key does not match " +
                          std::string(kCaCertFile));
  }

  // Stage: seal the key into keystore/. Until ca-key.json exists this is
  // not the CA key, whatever it holds.
  WARDEN_ASSIGN_OR_RETURN(
      auto backend,
      OpenCaKeyBackend(dir, to, access, /*create_kek=*/true, env));
  WARDEN_ASSIGN_OR_RETURN(
      auto ks,
      keystore::Keystore::Open(env, KeystorePath(dir), std::move(backend)));
  WARDEN_ASSIGN_OR_RETURN(bool has_item, [&]() -> Result<bool> {
    WARDEN_ASSIGN_OR_RETURN(auto items, ks->List());
    for (const auto& item : items) {
      if (item.name == kCaKeyItem) return true;
    }
    return false;
  }());
  if (has_item) {
    // Left by an interrupted run: reused if it holds this key.
    auto left = StoredKey(*ks);
    if (!left.ok() || !(left->public_key() == ca_cert.public_key())) {
      WARDEN_TRY(ks->Destroy(kCaKeyItem)
                     .WithContext("an unfinished import left " +
                                  KeystorePath(dir) + " that cannot be reset"));
      has_item = false;
    }
  }
  if (!has_item) {
    WARDEN_TRY(ks->Seal(kCaKeyItem, AsBytes(pem)));
  }
  WARDEN_TRY(ks->Sync());

  // Verify: the sealed key opens again and signs for the CA.
  {
    WARDEN_ASSIGN_OR_RETURN(crypto::PrivateKey sealed, StoredKey(*ks));
    WARDEN_TRY(CheckSigns(sealed, ca_cert)
                   .WithContext(KeystorePath(dir) + ": the sealed CA key"));
  }

  // Commit.
  CaKeyLocation recorded = to;
  if (recorded.backend == CaKeyBackend::kFile && recorded.kek_path.empty()) {
    recorded.kek_path = DefaultKekPath(dir);
  }
  WARDEN_TRY(
      platform::WriteFileAtomic(env, platform::JoinPath(dir, kCaKeyConfigFile),
                                CaKeyConfigJson(recorded), 0644));
  // The clear copy goes only now: the keystore's is the key from here on.
  return platform::ScrubFile(env, clear_path);
}

}  // namespace warden::provision
