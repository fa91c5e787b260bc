#include "provision/sealed_device.h"

#include <algorithm>

#include "crypto/x509.h"
#include "platform/file.h"
#include "provision/validate.h"

namespace warden::provision {
namespace {

constexpr size_t kMaxSecretFile = 16 * 1024;

// The clear file goes only once the keystore's copy is durable.
Status DropClearCopy(keystore::Keystore& keystore, platform::Env& env,
                     const std::string& path) {
  if (!platform::Exists(env, path)) return Status::Ok();
  WARDEN_TRY(keystore.Sync());
  return platform::ScrubFile(env, path);
}

bool IsDamage(Code code) {
  return code == Code::kIntegrity || code == Code::kDataLoss;
}

// The identity key as the keystore holds it: a key made there, or the
// PKCS#8 of a moved one.
Result<crypto::PrivateKey> StoredKey(keystore::Keystore& keystore) {
  auto key = keystore.SigningKey(kIdentityKeyItem);
  if (!key.ok() && key.status().code() == Code::kNotFound) {
    auto pem = keystore.Unseal(kIdentityKeyItem);
    if (!pem.ok()) return pem.status();
    std::string text = ToString(pem->view());
    key = crypto::PrivateKey::FromPem(text);
    crypto::Wipe(text);
    if (!key.ok()) {
      return DataLossError("keystore: " + std::string(kIdentityKeyItem) +
                           " holds no private key");
    }
  }
  return key;
}

Status CheckMatches(const crypto::PrivateKey& key,
                    const crypto::Certificate& cert) {
  if (!(key.public_key() == cert.public_key())) {
    return IntegrityError("keystore: " + std::string(kIdentityKeyItem) +
                          " does not match " + kIdentityCertFile);
  }
  return Status::Ok();
}

Result<crypto::PrivateKey> IdentityKey(const std::string& dir,
                                       keystore::Keystore& keystore,
                                       const crypto::Certificate& cert,
                                       platform::Env& env) {
  const std::string path = platform::JoinPath(dir, kIdentityKeyFile);
  auto stored = StoredKey(keystore);
  if (stored.ok()) {
    // Another unit's key is never replaced or served: the keystore is not
    // this unit's.
    WARDEN_TRY(CheckMatches(*stored, cert));
    // Sealed and matching: a clear copy left by an interrupted move goes,
    // once the sealed one is known to be durable (its write may have
    // failed only at the sync).
    WARDEN_TRY(DropClearCopy(keystore, env, path));
    return stored;
  }
  const Code code = stored.status().code();
  if (code != Code::kNotFound && !IsDamage(code)) return stored.status();
  auto pem = platform::ReadFile(env, path, kMaxSecretFile);
  if (!pem.ok()) {
    // With no clear copy, the keystore's answer is the one that counts.
    if (pem.status().code() == Code::kNotFound) return stored.status();
    return pem.status();
  }
  auto clear = crypto::PrivateKey::FromPem(*pem);
  crypto::Wipe(*pem);
  if (!clear.ok()) {
    return DataLossError(path + ": " + clear.status().message());
  }
  if (!(clear->public_key() == cert.public_key())) {
    return IntegrityError(path + ": key does not match " + kIdentityCertFile);
  }
  if (code != Code::kNotFound) {
    // A key made in the keystore is never replaced by a file.
    auto kind = keystore.SigningKey(kIdentityKeyItem);
    if (kind.ok() || kind.status().code() != Code::kNotFound) {
      return stored.status();
    }
    WARDEN_TRY(keystore.Destroy(kIdentityKeyItem));
  }
  std::string sealed_pem = clear->ToPem();
  Status sealed = keystore.Seal(kIdentityKeyItem, AsBytes(sealed_pem));
  crypto::Wipe(sealed_pem);
  WARDEN_TRY(sealed);
  WARDEN_ASSIGN_OR_RETURN(crypto::PrivateKey key, StoredKey(keystore));
  WARDEN_TRY(CheckMatches(key, cert));
  WARDEN_TRY(DropClearCopy(keystore, env, path));
  return key;
}

Result<VerifierRecord> StoredRecord(keystore::Keystore& keystore) {
  WARDEN_ASSIGN_OR_RETURN(crypto::SecretBytes text,
                          keystore.Unseal(kPairingRecordItem));
  std::string json = ToString(text.view());
  auto rec = ParseVerifierRecord(json);
  crypto::Wipe(json);
  if (!rec.ok()) {
    return DataLossError("keystore: " + std::string(kPairingRecordItem) + ": " +
                         rec.status().message());
  }
  return rec;
}

Result<VerifierRecord> PairingRecord(const std::string& dir,
                                     keystore::Keystore& keystore,
                                     platform::Env& env) {
  const std::string path = platform::JoinPath(dir, kPairingJsonFile);
  auto stored = StoredRecord(keystore);
  if (stored.ok()) {
    WARDEN_TRY(DropClearCopy(keystore, env, path));
    return stored;
  }
  const Code code = stored.status().code();
  if (code != Code::kNotFound && !IsDamage(code)) return stored.status();
  auto text = platform::ReadFile(env, path, kMaxSecretFile);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return stored.status();
    return text.status();
  }
  auto clear = ParseVerifierRecord(*text);
  if (!clear.ok()) {
    crypto::Wipe(*text);
    return DataLossError(path + ": " + clear.status().message());
  }
  Status sealed = code == Code::kNotFound
                      ? Status::Ok()
                      : keystore.Destroy(kPairingRecordItem);
  if (sealed.ok()) sealed = keystore.Seal(kPairingRecordItem, AsBytes(*text));
  crypto::Wipe(*text);
  WARDEN_TRY(sealed);
  WARDEN_ASSIGN_OR_RETURN(VerifierRecord rec, StoredRecord(keystore));
  if (!std::ranges::equal(rec.w0.view(), clear->w0.view()) ||
      rec.L != clear->L || rec.salt != clear->salt ||
      rec.iterations != clear->iterations) {
    return IntegrityError("keystore: " + std::string(kPairingRecordItem) +
                          " does not hold what " + path + " holds");
  }
  WARDEN_TRY(DropClearCopy(keystore, env, path));
  return rec;
}

}  // namespace

Result<DeviceIdentity> LoadSealedDevice(const std::string& dir,
                                        keystore::Keystore& keystore,
                                        platform::Env& env) {
  WARDEN_ASSIGN_OR_RETURN(UnitCertificates unit,
                          LoadUnitCertificates(dir, env));
  WARDEN_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                          IdentityKey(dir, keystore, unit.certificate, env));
  WARDEN_ASSIGN_OR_RETURN(VerifierRecord rec,
                          PairingRecord(dir, keystore, env));
  return DeviceIdentity{std::move(unit.info),        std::move(key),
                        std::move(unit.certificate), std::move(unit.ca),
                        std::move(rec.w0),           std::move(rec.L),
                        std::move(rec.salt),         rec.iterations};
}

Result<std::string> MakeIdentityRequest(keystore::Keystore& keystore,
                                        const std::string& serial) {
  WARDEN_TRY(ValidateSerial(serial));
  auto key = keystore.SigningKey(kIdentityKeyItem);
  if (!key.ok() && key.status().code() == Code::kNotFound) {
    auto secret = keystore.Unseal(kIdentityKeyItem);
    if (secret.ok() || secret.status().code() != Code::kNotFound) {
      return AlreadyExistsError(
          "keystore: identity-key holds a key provisioned as a file");
    }
    WARDEN_TRY(keystore.CreateSigningKey(kIdentityKeyItem).status());
    key = keystore.SigningKey(kIdentityKeyItem);
  }
  if (!key.ok()) return key.status();
  return crypto::MakeSigningRequest(serial, serial, *key);
}

}  // namespace warden::provision
