// The maker's device CA key, kept in a keystore (guideline 4) and used
// where it lives: it signs every unit's certificate, so whoever copies it
// can mint identities for any unit.
//
// A maker directory holds the key in keystore/ (a keystore::Keystore of
// its own, item "ca-key") and records in ca-key.json which backend protects
// it; ca-key.json holds no secret:
//   {"backend": "file", "kek": "../maker.kek"}
//   {"backend": "pkcs11", "module": "/usr/lib/.../libsofthsm2.so",
//    "token": "maker"}
// With the file backend the key-encryption key is a 0600 file (relative
// paths are taken from the maker directory; by default "<dir>.kek" beside
// it), so that a copy or backup of the maker directory alone does not open
// the key. With the PKCS#11 backend the key is generated in the token and
// never leaves it; the token's PIN is given by the caller each time and
// never stored.
//
// The item is either a signing key made in the keystore (`warden mfg
// init`) or a secret holding the PKCS#8 of a key that was kept in clear as
// ca.key and moved in by ImportCaKey; the latter stays exportable in memory
// while it signs, whatever the backend, as no backend imports a key into
// hardware.
//
// A maker directory made before keystores has ca.key (PKCS#8 PEM, 0600) and
// no ca-key.json: it still loads (CaKeyBackend::kClearFile) until the key
// is imported. ca-key.json is the commit point of an import: without it
// ca.key is the key, with it the keystore is (and a ca.key still there is
// a leftover the next ImportCaKey removes).
#ifndef WARDEN_PROVISION_CA_KEY_H_
#define WARDEN_PROVISION_CA_KEY_H_

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "keystore/keystore.h"
#include "platform/env.h"

namespace warden::provision {

inline constexpr char kCaKeyFile[] = "ca.key";
inline constexpr char kCaKeyConfigFile[] = "ca-key.json";
inline constexpr char kCaKeystoreDir[] = "keystore";
inline constexpr char kCaKeyItem[] = "ca-key";

enum class CaKeyBackend {
  kClearFile,  // ca.key in clear: only read, from directories made before
  kFile,       // keystore/ sealed under a KEK file
  kPkcs11,     // keystore/ with the key in a PKCS#11 token
};

// "clear-file", "file" or "pkcs11".
std::string_view CaKeyBackendName(CaKeyBackend backend);

// Where the CA key lives: what ca-key.json records. No secret.
struct CaKeyLocation {
  CaKeyBackend backend = CaKeyBackend::kFile;
  // kFile: the KEK file; relative to the maker directory unless absolute.
  // Empty when creating: "../<name of the maker directory>.kek".
  std::string kek_path;
  // kPkcs11: the module and the label of the token holding the key.
  std::string pkcs11_module;
  std::string pkcs11_token;
};

// What opens the key and is never stored: the token user's PIN (kPkcs11).
// The caller wipes it.
struct CaKeyAccess {
  std::string pkcs11_pin;
};

// The CA key, opened. The keystore (null for kClearFile) stays open while
// the key is used: a token key signs through its session, and the
// keystore's lock keeps another process from changing the item meanwhile.
struct CaKey {
  std::unique_ptr<keystore::Keystore> keystore;
  crypto::PrivateKey key;
};

// ca-key.json for `location` (kFile or kPkcs11).
std::string CaKeyConfigJson(const CaKeyLocation& location);

// Parses ca-key.json. kDataLoss when it is not one of the forms above;
// kUnavailable (naming it) for a backend this build does not know.
Result<CaKeyLocation> ParseCaKeyConfig(std::string_view text);

// Where the key of maker directory `dir` lives: ca-key.json when present,
// else kClearFile when ca.key is, else kNotFound. Errors name the file.
Result<CaKeyLocation> ReadCaKeyLocation(const std::string& dir,
                                        platform::Env& env);

// "../<last component of dir>.kek": where the KEK goes by default, as
// recorded in ca-key.json (relative, so that the maker directory and its
// KEK can be moved together).
std::string DefaultKekPath(const std::string& dir);

// The KEK path of a kFile `location` for maker directory `dir`, resolved
// (the default when kek_path is empty).
std::string ResolveKekPath(const std::string& dir,
                           const CaKeyLocation& location);

// Opens the backend of `location` (kFile or kPkcs11). The KEK file is made
// when absent only if `create_kek`. Errors are one line naming what is
// wrong: kUnauthenticated (wrong PIN), kPermissionDenied (PIN locked, or a
// KEK file others can read), kNotFound (no such module, token or KEK
// file), kUnavailable (the module would not load).
Result<std::unique_ptr<keystore::Backend>> OpenCaKeyBackend(
    const std::string& dir, const CaKeyLocation& location,
    const CaKeyAccess& access, bool create_kek, platform::Env& env);

// Opens the CA key of maker directory `dir` where `location` says it is
// and checks that it is the key of `ca_cert` (kIntegrity otherwise).
// kNotFound when the keystore holds no CA key (or the token lost it);
// other errors as OpenCaKeyBackend and the keystore's, with context.
Result<CaKey> OpenCaKey(const std::string& dir, const CaKeyLocation& location,
                        const CaKeyAccess& access,
                        const crypto::Certificate& ca_cert, platform::Env& env);

// Moves the clear ca.key of maker directory `dir` into a keystore at
// `to` (kFile or kPkcs11), transactionally: the key is sealed into
// keystore/ (an item left by an earlier, interrupted run is reused when it
// holds the same key, else replaced), opened again and made to sign a
// challenge that is checked against ca.crt, then ca-key.json is written
// (the commit), then ca.key is overwritten and removed. A crash at any
// point leaves ca.key usable (no ca-key.json) or the keystore's key usable
// (ca-key.json); running it again finishes an interrupted one. Provisioning
// is held off meanwhile (serials.lock). kAlreadyExists when the key is
// already in a keystore and no ca.key is left; kIntegrity when ca.key does
// not match ca.crt or the sealed key does not sign for it; kInvalidArgument
// for `to` of kind kClearFile. File work goes through `env`.
Status ImportCaKey(const std::string& dir, const CaKeyLocation& to,
                   const CaKeyAccess& access,
                   platform::Env& env = platform::DefaultEnv());

}  // namespace warden::provision

#endif  // WARDEN_PROVISION_CA_KEY_H_
