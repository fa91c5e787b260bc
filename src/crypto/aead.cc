#include "crypto/aead.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>

#include "crypto/ossl.h"
#include "crypto/secret.h"

namespace warden::crypto {
namespace {

// EVP takes int lengths; keep well inside them.
constexpr size_t kMaxMessage = static_cast<size_t>(INT_MAX) - 64;

Status CheckKeyNonce(ByteView key, ByteView nonce) {
  if (key.size() != kAeadKeySize) {
    return InvalidArgumentError("aead: key must be 32 bytes");
  }
  if (nonce.size() != kAeadNonceSize) {
    return InvalidArgumentError("aead: nonce must be 12 bytes");
  }
  return Status::Ok();
}

// AES-256-GCM fetched from the default provider once for the process:
// EVP_aes_256_gcm() makes every Init fetch it again, which was the largest
// single cost of opening a small sealed record. Kept for the process's
// life; the legacy constant is the fallback if the fetch fails.
const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = [] {
    const EVP_CIPHER* fetched =
        EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (fetched == nullptr) {
      ERR_clear_error();
      return EVP_aes_256_gcm();
    }
    return fetched;
  }();
  return cipher;
}

}  // namespace

Result<Bytes> AeadSeal(ByteView key, ByteView nonce, ByteView aad,
                       ByteView plaintext) {
  WARDEN_TRY(CheckKeyNonce(key, nonce));
  if (plaintext.size() > kMaxMessage || aad.size() > kMaxMessage) {
    return InvalidArgumentError("aead: message too large");
  }
  internal::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return InternalError("aead: out of memory");
  Bytes out(plaintext.size() + kAeadTagSize);
  int len = 0;
  int total = 0;
  bool ok =
      EVP_EncryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, key.data(),
                         nonce.data()) == 1 &&
      (aad.empty() || EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                        static_cast<int>(aad.size())) == 1) &&
      (plaintext.empty() ||
       EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(),
                         static_cast<int>(plaintext.size())) == 1);
  if (ok) {
    total = plaintext.empty() ? 0 : len;
    ok = EVP_EncryptFinal_ex(ctx.get(), out.data() + total, &len) == 1 &&
         static_cast<size_t>(total + len) == plaintext.size() &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagSize,
                             out.data() + plaintext.size()) == 1;
  }
  if (!ok) {
    Wipe(out);
    return InternalError(internal::TakeOpenSslError("aead: seal failed"));
  }
  return out;
}

Result<Bytes> AeadOpen(ByteView key, ByteView nonce, ByteView aad,
                       ByteView ciphertext_and_tag) {
  WARDEN_TRY(CheckKeyNonce(key, nonce));
  if (ciphertext_and_tag.size() < kAeadTagSize) {
    return IntegrityError("aead: ciphertext shorter than the tag");
  }
  if (ciphertext_and_tag.size() > kMaxMessage || aad.size() > kMaxMessage) {
    return InvalidArgumentError("aead: message too large");
  }
  const size_t ct_len = ciphertext_and_tag.size() - kAeadTagSize;
  internal::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return InternalError("aead: out of memory");
  // The tag buffer is copied because EVP's ctrl interface takes a mutable
  // pointer.
  uint8_t tag[kAeadTagSize];
  std::copy(ciphertext_and_tag.begin() + ct_len, ciphertext_and_tag.end(), tag);
  Bytes out(ct_len);
  int len = 0;
  int total = 0;
  if (EVP_DecryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, key.data(),
                         nonce.data()) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                         static_cast<int>(aad.size())) != 1) ||
      (ct_len > 0 &&
       EVP_DecryptUpdate(ctx.get(), out.data(), &len, ciphertext_and_tag.data(),
                         static_cast<int>(ct_len)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAeadTagSize, tag) !=
          1) {
    Wipe(out);
    return InternalError(internal::TakeOpenSslError("aead: open failed"));
  }
  total = ct_len > 0 ? len : 0;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + total, &len) != 1 ||
      static_cast<size_t>(total + len) != ct_len) {
    // Unauthenticated plaintext never leaves this function.
    Wipe(out);
    ERR_clear_error();
    return IntegrityError("aead: authentication failed");
  }
  return out;
}

Result<Bytes> AeadSealRandomNonce(Rng& rng, ByteView key, ByteView aad,
                                  ByteView plaintext) {
  WARDEN_ASSIGN_OR_RETURN(Bytes nonce, RandomBytes(rng, kAeadNonceSize));
  WARDEN_ASSIGN_OR_RETURN(Bytes sealed, AeadSeal(key, nonce, aad, plaintext));
  Bytes out;
  out.reserve(nonce.size() + sealed.size());
  out.insert(out.end(), nonce.begin(), nonce.end());
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<Bytes> AeadOpenRandomNonce(ByteView key, ByteView aad, ByteView sealed) {
  if (sealed.size() < kAeadNonceSize + kAeadTagSize) {
    if (key.size() != kAeadKeySize) {
      return InvalidArgumentError("aead: key must be 32 bytes");
    }
    return IntegrityError("aead: sealed message too short");
  }
  return AeadOpen(key, sealed.first(kAeadNonceSize), aad,
                  sealed.subspan(kAeadNonceSize));
}

}  // namespace warden::crypto
