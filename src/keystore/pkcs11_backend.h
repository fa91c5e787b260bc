// The PKCS#11 backend: every item's key lives in a token (a secure
// element, an HSM, SoftHSM in tests) and is used there.
//
//   - A signing key is an EC P-256 key pair generated in the token
//     (C_GenerateKeyPair; the private half sensitive and not extractable),
//     handed out through crypto::Pkcs11Token as a PrivateKey that signs in
//     the token and is not exportable().
//   - A secret is encrypted with AES-256-GCM by the token, under an AES key
//     of its own generated in the token (sensitive, not extractable), with
//     the item's name and kind as associated data.
//   - Every blob starts with the id of the item's token objects, encrypted
//     by the token under a keystore-wide AES key (label
//     "warden-keystore-binding") with the item's name and kind as
//     associated data: a blob copied under another name does not open
//     (kIntegrity), and one whose objects were destroyed is kNotFound.
//
// libp11 (crypto/pkcs11.h) signs, but it cannot generate EC keys or use
// symmetric keys; those calls go to the module's own C_ functions, through
// a second session on the same token.
//
// Every backend on the same module and token in a process shares one
// crypto::Pkcs11Token (libp11 finalises the module when a context goes,
// ending every other session on it); the first opener's login serves all,
// as PKCS#11 logins are per process.
//
// Destroy (Erase) destroys the item's token objects (C_DestroyObject):
// afterwards no copy of the blob opens, wherever one survived.
//
// What it protects against: anyone with the flash but not the token, and
// anyone with the token but not its PIN; the private keys and AES keys never
// leave the token. What it does not: a process that holds the PIN (wardend
// itself, and whoever takes it over) can use every key while it runs.
#ifndef WARDEN_KEYSTORE_PKCS11_BACKEND_H_
#define WARDEN_KEYSTORE_PKCS11_BACKEND_H_

#include <memory>
#include <string>

#include "base/rng.h"
#include "keystore/keystore.h"

namespace warden::keystore {

struct Pkcs11BackendOptions {
  std::string module_path;  // e.g. /usr/lib/softhsm/libsofthsm2.so
  std::string token_label;
  std::string pin;  // the token user's PIN; wiped once the token has it
};

class Pkcs11Backend : public Backend {
 public:
  // Loads the module, finds the token and logs in (errors as
  // crypto::Pkcs11Token::Open), and makes the binding key when the token
  // has none. kUnavailable when the module lacks what is needed (EC key
  // generation, AES-GCM).
  static Result<std::unique_ptr<Pkcs11Backend>> Open(
      Pkcs11BackendOptions options, Rng& rng = SystemRng());
  ~Pkcs11Backend() override;

  std::string_view name() const override { return "pkcs11"; }
  Result<Bytes> NewSigningKey(ByteView aad) override;
  Result<crypto::PrivateKey> LoadSigningKey(ByteView aad,
                                            ByteView blob) override;
  Result<Bytes> SealSecret(ByteView aad, ByteView secret) override;
  Result<crypto::SecretBytes> UnsealSecret(ByteView aad,
                                           ByteView blob) override;
  Status Erase(ByteView aad, ByteView blob) override;

  struct Module;

 private:
  Pkcs11Backend(Rng& rng, std::unique_ptr<Module> module);
  // The id of the token objects `blob` names, if it was made for `aad`.
  Result<Bytes> ItemId(ByteView aad, ByteView blob);
  Rng& rng_;
  std::unique_ptr<Module> module_;
};

}  // namespace warden::keystore

#endif  // WARDEN_KEYSTORE_PKCS11_BACKEND_H_
