// Signing keys that live in a PKCS#11 token (a hardware security module, a
// smart card, a TPM behind a PKCS#11 module, SoftHSM), used where they live:
// the private key never leaves the token, and every signature is made by
// the token. Through libp11.
//
//   auto token = Pkcs11Token::Open("/usr/lib/softhsm/libsofthsm2.so",
//                                  "release-keys", pin);
//   auto key = token->PrivateKeyByLabel("targets");   // a crypto::PrivateKey
//   auto signature = key->Sign(bytes);                // made by the token
//
// Keys are made on the token with its own tools (for example `pkcs11-tool
// --keypairgen --key-type EC:prime256v1`), so they never exist outside it.
// Only ECDSA P-256 keys are offered: libp11 does not drive ed25519.
//
// A key keeps its token's session open for as long as the key (or the
// token object) lives. Not thread-safe: one thread per token.
#ifndef WARDEN_CRYPTO_PKCS11_H_
#define WARDEN_CRYPTO_PKCS11_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/keys.h"

namespace warden::crypto {

class Pkcs11Token {
 public:
  // Loads the PKCS#11 module at `module_path`, finds the token labelled
  // `token_label` and logs in as its user with `pin`. Errors: kNotFound
  // (no module file there, or no such token), kUnavailable (the module
  // would not load or initialise), kUnauthenticated (wrong PIN: the token
  // counts the failure), kPermissionDenied (the PIN is locked),
  // kInvalidArgument (an empty label).
  static Result<Pkcs11Token> Open(const std::string& module_path,
                                  std::string_view token_label,
                                  std::string_view pin);

  // The private key labelled `label`, as a PrivateKey that signs through
  // the token and is not exportable(). Errors: kNotFound (no private key
  // with that label), kInvalidArgument (a key of another type than ECDSA
  // P-256), kInternal (the token would not hand out the key's public half).
  Result<PrivateKey> PrivateKeyByLabel(std::string_view label) const;

  // Labels of the token's private keys, in the token's order.
  Result<std::vector<std::string>> PrivateKeyLabels() const;

  // The token's label, as it reports it.
  const std::string& label() const { return label_; }

 private:
  struct Session;
  Pkcs11Token(std::shared_ptr<Session> session, std::string label)
      : session_(std::move(session)), label_(std::move(label)) {}
  std::shared_ptr<Session> session_;
  std::string label_;
};

}  // namespace warden::crypto

#endif  // WARDEN_CRYPTO_PKCS11_H_
