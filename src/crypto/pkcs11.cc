#include "crypto/pkcs11.h"

#include <libp11.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <system_error>

#include "crypto/secret.h"

namespace warden::crypto {
namespace {

// PKCS#11 return values (the standard's CKR_ codes), as libp11 reports them
// in the reason of its OpenSSL error.
constexpr unsigned long kPinIncorrect = 0xA0;
constexpr unsigned long kPinLocked = 0xA4;

unsigned long TakeReason() {
  const unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  return ERR_GET_REASON(e);
}

// The public half of `pkey` when it is a P-256 key whose public half the
// token gave out.
Result<PublicKey> P256PublicKey(EVP_PKEY* pkey) {
  const int len = i2d_PUBKEY(pkey, nullptr);
  if (len <= 0 || len > 1024) {
    ERR_clear_error();
    return InvalidArgumentError("no public half");
  }
  Bytes der(static_cast<size_t>(len));
  uint8_t* out = der.data();
  i2d_PUBKEY(pkey, &out);
  return PublicKey::FromDer(der);  // P-256 or ed25519 only
}

}  // namespace

struct Pkcs11Token::Session {
  PKCS11_CTX* ctx = nullptr;
  bool loaded = false;
  PKCS11_SLOT* slots = nullptr;
  unsigned int slot_count = 0;
  PKCS11_SLOT* slot = nullptr;
  bool logged_in = false;

  ~Session() {
    if (logged_in) PKCS11_logout(slot);
    if (slots != nullptr) PKCS11_release_all_slots(ctx, slots, slot_count);
    if (loaded) PKCS11_CTX_unload(ctx);
    if (ctx != nullptr) PKCS11_CTX_free(ctx);
    ERR_clear_error();
  }
};

Result<Pkcs11Token> Pkcs11Token::Open(const std::string& module_path,
                                      std::string_view token_label,
                                      std::string_view pin) {
  if (token_label.empty()) {
    return InvalidArgumentError("PKCS#11: a token label is needed");
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(module_path, ec)) {
    return NotFoundError("PKCS#11: no module at " + module_path);
  }
  auto session = std::make_shared<Session>();
  session->ctx = PKCS11_CTX_new();
  if (session->ctx == nullptr) {
    return InternalError("PKCS#11: out of memory");
  }
  if (PKCS11_CTX_load(session->ctx, module_path.c_str()) != 0) {
    ERR_clear_error();
    return UnavailableError("PKCS#11: cannot load or initialise the module " +
                            module_path);
  }
  session->loaded = true;
  if (PKCS11_enumerate_slots(session->ctx, &session->slots,
                             &session->slot_count) != 0) {
    ERR_clear_error();
    return UnavailableError("PKCS#11: the module lists no slots");
  }
  for (unsigned int i = 0; i < session->slot_count; ++i) {
    PKCS11_SLOT* slot = &session->slots[i];
    if (slot->token != nullptr && slot->token->initialized &&
        slot->token->label != nullptr && token_label == slot->token->label) {
      session->slot = slot;
      break;
    }
  }
  if (session->slot == nullptr) {
    return NotFoundError("PKCS#11: no token labelled \"" +
                         std::string(token_label) + "\"");
  }
  if (PKCS11_open_session(session->slot, 0) != 0) {
    ERR_clear_error();
    return UnavailableError("PKCS#11: cannot open a session on the token");
  }
  // libp11 wants a C string; the copy is wiped as soon as the token has it.
  std::string pin_copy(pin);
  const int login = PKCS11_login(session->slot, 0, pin_copy.c_str());
  Wipe(pin_copy);
  if (login != 0) {
    const unsigned long reason = TakeReason();
    if (reason == kPinLocked) {
      return PermissionDeniedError("PKCS#11: the token's PIN is locked");
    }
    if (reason == kPinIncorrect) {
      return UnauthenticatedError("PKCS#11: wrong PIN for the token");
    }
    return UnauthenticatedError("PKCS#11: the token refused the login");
  }
  session->logged_in = true;
  std::string label = session->slot->token->label;
  return Pkcs11Token(std::move(session), std::move(label));
}

Result<std::vector<std::string>> Pkcs11Token::PrivateKeyLabels() const {
  PKCS11_KEY* keys = nullptr;
  unsigned int count = 0;
  if (PKCS11_enumerate_keys(session_->slot->token, &keys, &count) != 0) {
    ERR_clear_error();
    return UnavailableError("PKCS#11: cannot list the token's keys");
  }
  std::vector<std::string> labels;
  for (unsigned int i = 0; i < count; ++i) {
    labels.emplace_back(keys[i].label != nullptr ? keys[i].label : "");
  }
  return labels;
}

Result<PrivateKey> Pkcs11Token::PrivateKeyByLabel(
    std::string_view label) const {
  PKCS11_KEY* keys = nullptr;
  unsigned int count = 0;
  if (PKCS11_enumerate_keys(session_->slot->token, &keys, &count) != 0) {
    ERR_clear_error();
    return UnavailableError("PKCS#11: cannot list the token's keys");
  }
  PKCS11_KEY* found = nullptr;
  for (unsigned int i = 0; i < count; ++i) {
    if (keys[i].label != nullptr && label == keys[i].label) {
      found = &keys[i];
      break;
    }
  }
  if (found == nullptr) {
    return NotFoundError("PKCS#11: no private key labelled \"" +
                         std::string(label) + "\" on token \"" + label_ + "\"");
  }
  if (PKCS11_get_key_type(found) != EVP_PKEY_EC) {
    return InvalidArgumentError("PKCS#11: key \"" + std::string(label) +
                                "\" is not an ECDSA key");
  }
  EVP_PKEY* raw = PKCS11_get_private_key(found);
  if (raw == nullptr) {
    ERR_clear_error();
    return InternalError("PKCS#11: the token would not hand out key \"" +
                         std::string(label) + "\"");
  }
  // The key's methods call into the token through this session, so the
  // session lives as long as the key does.
  std::shared_ptr<EVP_PKEY> pkey(
      raw, [keep = session_](EVP_PKEY* k) { EVP_PKEY_free(k); });
  auto public_half = P256PublicKey(pkey.get());
  if (!public_half.ok() || public_half->type() != KeyType::kEcdsaP256) {
    return InvalidArgumentError("PKCS#11: key \"" + std::string(label) +
                                "\" is not a P-256 key with a known public "
                                "half");
  }
  return PrivateKey(std::move(pkey), KeyType::kEcdsaP256,
                    /*exportable=*/false);
}

}  // namespace warden::crypto
