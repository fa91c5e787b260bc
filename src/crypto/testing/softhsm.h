// Test only (target warden_crypto_testing): a SoftHSM token of a test's
// own, made with the token's own tools (softhsm2-util, and OpenSC's
// pkcs11-tool for keys), as a maker would make one. Every test that needs
// a PKCS#11 token makes it here, so that they all get the same token
// layout and the same errors when SoftHSM is missing.
//
// SoftHSM finds its tokens through the SOFTHSM2_CONF environment variable,
// which it reads when the module initialises: Make points it at the new
// token's configuration for the whole process (and the tools it runs), so
// a process uses one such token at a time, and a module already
// initialised (a crypto::Pkcs11Token still open) keeps seeing the old one.
#ifndef WARDEN_CRYPTO_TESTING_SOFTHSM_H_
#define WARDEN_CRYPTO_TESTING_SOFTHSM_H_

#include <string>

#include "base/status.h"

namespace warden::crypto::testing {

class SoftHsmToken {
 public:
  static constexpr char kModule[] = "/usr/lib/softhsm/libsofthsm2.so";
  static constexpr char kPin[] = "246813";
  static constexpr char kSoPin[] = "97531";

  // Makes token `label` with its files under the existing directory `dir`
  // (dir/tokens, dir/softhsm2.conf; the tools' output in dir/tool.log),
  // user PIN kPin, and sets SOFTHSM2_CONF. kNotFound when SoftHSM is not
  // installed (install-deps.sh installs it); kUnavailable when the tool
  // fails, with its output in the message.
  static Result<SoftHsmToken> Make(const std::string& dir,
                                   const std::string& label);

  const std::string& label() const { return label_; }

  // Generates a key pair in the token with pkcs11-tool: `type` as the tool
  // names it ("EC:prime256v1"), `key_label` and the hex `id` for its
  // objects. kUnavailable (with the tool's output) when the tool fails.
  Status GenerateKeyPair(const std::string& type, const std::string& key_label,
                         const std::string& id) const;

  // Runs `command` through the shell with its output in dir/tool.log; Ok
  // when it exits 0, else kUnavailable with the command and the output.
  Status Run(const std::string& command) const;

 private:
  SoftHsmToken(std::string dir, std::string label)
      : dir_(std::move(dir)), label_(std::move(label)) {}
  std::string dir_;
  std::string label_;
};

}  // namespace warden::crypto::testing

#endif  // WARDEN_CRYPTO_TESTING_SOFTHSM_H_
