#include "crypto/tpm.h"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>

#include <stdlib.h>

#include <optional>
#include <string_view>

#include "crypto/ossl.h"

namespace warden::crypto {
namespace {

using internal::EvpPkeyCtxPtr;
using internal::EvpPkeyPtr;
using internal::TakeOpenSslError;

constexpr char kTpmOnly[] = "provider=tpm2";
// The TPM's signature over its key; the digest may come from either.
constexpr char kTpmFirst[] = "?provider=tpm2";
constexpr int kRsaBits = 2048;
constexpr size_t kRsaMaxPlain = 256 - 11;

struct ProviderDeleter {
  void operator()(OSSL_PROVIDER* p) const { OSSL_PROVIDER_unload(p); }
};
using ProviderPtr = std::unique_ptr<OSSL_PROVIDER, ProviderDeleter>;

constexpr char kTctiVariable[] = "TPM2OPENSSL_TCTI";

// A TCTI string goes into the provider's configuration as one value: no
// character that would end it or start another one.
bool PlainTcti(std::string_view tcti) {
  if (tcti.empty() || tcti.size() > 256) return false;
  for (char c : tcti) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == ':' || c == '/' ||
                    c == '.' || c == ',' || c == '=' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

struct Tpm::Context {
  ~Context() {
    default_provider.reset();
    tpm2_provider.reset();
    OSSL_LIB_CTX_free(libctx);
  }
  OSSL_LIB_CTX* libctx = nullptr;
  ProviderPtr tpm2_provider;
  ProviderPtr default_provider;
};

Result<Tpm> Tpm::Open(const std::string& tcti) {
  if (!PlainTcti(tcti)) {
    return InvalidArgumentError("TPM: TCTI \"" + tcti + "\" is not plain");
  }
  auto context = std::make_shared<Context>();
  context->libctx = OSSL_LIB_CTX_new();
  if (context->libctx == nullptr) return InternalError("TPM: out of memory");
  // The provider takes its TCTI from TPM2OPENSSL_TCTI when it initialises
  // (Debian's 1.1.1 passes its configuration's "tcti" value wrongly and so
  // never sees it); the variable is set for that moment only and put back.
  const char* previous = getenv(kTctiVariable);
  const std::optional<std::string> saved =
      previous != nullptr ? std::optional<std::string>(previous) : std::nullopt;
  if (setenv(kTctiVariable, tcti.c_str(), 1) != 0) {
    return InternalError("TPM: cannot pass the TCTI to the provider");
  }
  context->tpm2_provider.reset(OSSL_PROVIDER_load(context->libctx, "tpm2"));
  if (saved.has_value()) {
    setenv(kTctiVariable, saved->c_str(), 1);
  } else {
    unsetenv(kTctiVariable);
  }
  if (!context->tpm2_provider) {
    return UnavailableError(TakeOpenSslError(
        "TPM: the tpm2 provider did not load (is tpm2-openssl installed and "
        "the TPM reachable?)"));
  }
  // Encoders and public-key work the TPM provider leaves to the default.
  context->default_provider.reset(
      OSSL_PROVIDER_load(context->libctx, "default"));
  if (!context->default_provider) {
    return InternalError(TakeOpenSslError("TPM: default provider"));
  }
  return Tpm(std::move(context));
}

Result<Bytes> Tpm::Generate(const char* type, bool rsa) const {
  EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_name(context_->libctx, type, kTpmOnly));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) {
    return UnavailableError(TakeOpenSslError("TPM: key generation"));
  }
  const int set = rsa ? EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), kRsaBits)
                      : EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256");
  if (set != 1) {
    return UnavailableError(TakeOpenSslError("TPM: key parameters"));
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return UnavailableError(TakeOpenSslError("TPM: key generation"));
  }
  EvpPkeyPtr pkey(raw);
  OSSL_ENCODER_CTX* enc = OSSL_ENCODER_CTX_new_for_pkey(
      pkey.get(), OSSL_KEYMGMT_SELECT_ALL, "DER", "PrivateKeyInfo", kTpmOnly);
  unsigned char* data = nullptr;
  size_t len = 0;
  const bool ok = enc != nullptr && OSSL_ENCODER_to_data(enc, &data, &len) == 1;
  OSSL_ENCODER_CTX_free(enc);
  if (!ok) return InternalError(TakeOpenSslError("TPM: key encoding"));
  Bytes blob(data, data + len);
  OPENSSL_free(data);
  return blob;
}

Result<Bytes> Tpm::GenerateP256() const { return Generate("EC", false); }
Result<Bytes> Tpm::GenerateRsa2048() const { return Generate("RSA", true); }

Result<std::shared_ptr<EVP_PKEY>> Tpm::Load(ByteView blob,
                                            const char* type) const {
  if (blob.empty() || blob.size() > kMaxTpmKeyBlob) {
    return IntegrityError("TPM: key blob size out of range");
  }
  EVP_PKEY* raw = nullptr;
  OSSL_DECODER_CTX* dec = OSSL_DECODER_CTX_new_for_pkey(
      &raw, "DER", "TSS2", type, EVP_PKEY_KEYPAIR, context_->libctx, kTpmOnly);
  if (dec == nullptr) {
    return InternalError(TakeOpenSslError("TPM: key decoder"));
  }
  const unsigned char* data = blob.data();
  size_t len = blob.size();
  const bool ok = OSSL_DECODER_from_data(dec, &data, &len) == 1;
  OSSL_DECODER_CTX_free(dec);
  if (!ok || raw == nullptr || len != 0) {
    EVP_PKEY_free(raw);
    return IntegrityError(TakeOpenSslError(
        "TPM: key blob does not load in this TPM (altered, or wrapped by "
        "another TPM)"));
  }
  // The key's operations run in the provider, so its context lives as
  // long as the key does.
  return std::shared_ptr<EVP_PKEY>(
      raw, [keep = context_](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

Result<PrivateKey> Tpm::LoadP256(ByteView blob) const {
  WARDEN_ASSIGN_OR_RETURN(auto pkey, Load(blob, "EC"));
  char group[32] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                     group, sizeof(group), &len) != 1 ||
      std::string_view(group, len) != "prime256v1") {
    ERR_clear_error();
    return InvalidArgumentError("TPM: key is not a P-256 key");
  }
  PrivateKey key(std::move(pkey), KeyType::kEcdsaP256, /*exportable=*/false);
  key.libctx_ = context_->libctx;
  key.propq_ = kTpmFirst;
  return key;
}

Result<TpmRsaKey> Tpm::LoadRsa(ByteView blob) const {
  WARDEN_ASSIGN_OR_RETURN(auto pkey, Load(blob, "RSA"));
  if (EVP_PKEY_get_bits(pkey.get()) != kRsaBits) {
    return InvalidArgumentError("TPM: key is not an RSA-2048 key");
  }
  return TpmRsaKey(std::move(pkey), context_->libctx);
}

Result<Bytes> TpmRsaKey::PublicDer() const {
  const int len = i2d_PUBKEY(pkey_.get(), nullptr);
  if (len <= 0 || len > 1024) {
    return InternalError(TakeOpenSslError("TPM: RSA public key"));
  }
  Bytes der(static_cast<size_t>(len));
  uint8_t* out = der.data();
  i2d_PUBKEY(pkey_.get(), &out);
  return der;
}

Result<Bytes> RsaEncrypt(ByteView spki_der, ByteView plain) {
  if (plain.empty() || plain.size() > kRsaMaxPlain) {
    return InvalidArgumentError("TPM: RSA input size out of range");
  }
  if (spki_der.empty() || spki_der.size() > 1024) {
    return InvalidArgumentError("TPM: RSA public key size out of range");
  }
  const uint8_t* in = spki_der.data();
  EvpPkeyPtr pub(d2i_PUBKEY(nullptr, &in, static_cast<long>(spki_der.size())));
  if (!pub || EVP_PKEY_get_base_id(pub.get()) != EVP_PKEY_RSA ||
      EVP_PKEY_get_bits(pub.get()) != kRsaBits) {
    ERR_clear_error();
    return InvalidArgumentError("TPM: not an RSA-2048 public key");
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pub.get(), nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
    return InternalError(TakeOpenSslError("TPM: RSA encryption setup"));
  }
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, plain.data(), plain.size()) !=
      1) {
    return InternalError(TakeOpenSslError("TPM: RSA encryption"));
  }
  Bytes cipher(len);
  if (EVP_PKEY_encrypt(ctx.get(), cipher.data(), &len, plain.data(),
                       plain.size()) != 1) {
    return InternalError(TakeOpenSslError("TPM: RSA encryption"));
  }
  cipher.resize(len);
  return cipher;
}

Result<SecretBytes> TpmRsaKey::Decrypt(ByteView cipher) const {
  if (cipher.size() != kRsaBits / 8) {
    return IntegrityError("TPM: RSA ciphertext size");
  }
  EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_pkey(libctx_, pkey_.get(), kTpmFirst));
  if (!ctx) return InternalError(TakeOpenSslError("TPM: RSA context"));
  if (EVP_PKEY_decrypt_init(ctx.get()) != 1) {
    return InternalError(TakeOpenSslError("TPM: RSA decryption setup"));
  }
  size_t len = 0;
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &len, cipher.data(),
                       cipher.size()) != 1) {
    return IntegrityError(
        TakeOpenSslError("TPM: RSA ciphertext does not open"));
  }
  Bytes plain(len);
  if (EVP_PKEY_decrypt(ctx.get(), plain.data(), &len, cipher.data(),
                       cipher.size()) != 1) {
    Wipe(plain);
    return IntegrityError(
        TakeOpenSslError("TPM: RSA ciphertext does not open"));
  }
  plain.resize(len);
  return SecretBytes(std::move(plain));
}

}  // namespace warden::crypto
