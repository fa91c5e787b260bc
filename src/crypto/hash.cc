#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto/ossl.h"

namespace warden::crypto {
namespace {

using internal::CheckOrAbort;

const EVP_MD* Md(HashAlg alg) {
  return alg == HashAlg::kSha256 ? EVP_sha256() : EVP_sha512();
}

const char* MdName(HashAlg alg) {
  return alg == HashAlg::kSha256 ? "SHA256" : "SHA512";
}

// Runs an EVP_KDF; `params` must end with OSSL_PARAM_END.
Result<Bytes> RunKdf(const char* name, OSSL_PARAM* params, size_t length) {
  internal::EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, name, nullptr));
  if (!kdf) return InternalError(internal::TakeOpenSslError("EVP_KDF_fetch"));
  internal::EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return InternalError(internal::TakeOpenSslError("EVP_KDF_CTX"));
  Bytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return InternalError(internal::TakeOpenSslError(name));
  }
  return out;
}

}  // namespace

size_t DigestSize(HashAlg alg) { return alg == HashAlg::kSha256 ? 32 : 64; }

Bytes Digest(HashAlg alg, ByteView data) {
  Bytes out(DigestSize(alg));
  unsigned int len = 0;
  CheckOrAbort(EVP_Digest(data.data(), data.size(), out.data(), &len, Md(alg),
                          nullptr) == 1 &&
               len == out.size());
  return out;
}

Bytes Sha256(ByteView data) { return Digest(HashAlg::kSha256, data); }

struct Sha256Hasher::Impl {
  internal::EvpMdCtxPtr ctx{EVP_MD_CTX_new()};
};

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  CheckOrAbort(impl_->ctx != nullptr &&
               EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr) == 1);
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(ByteView data) {
  CheckOrAbort(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) ==
               1);
}

Bytes Sha256Hasher::Finish() {
  Bytes out(32);
  unsigned int len = 0;
  CheckOrAbort(EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len) == 1 &&
               len == out.size());
  return out;
}

struct StreamHasher::Impl {
  internal::EvpMdCtxPtr ctx{EVP_MD_CTX_new()};
};

StreamHasher::StreamHasher(HashAlg alg)
    : impl_(std::make_unique<Impl>()), alg_(alg) {
  CheckOrAbort(
      impl_->ctx != nullptr &&
      EVP_DigestInit_ex(impl_->ctx.get(),
                        alg == HashAlg::kSha256 ? EVP_sha256() : EVP_sha512(),
                        nullptr) == 1);
}

StreamHasher::~StreamHasher() = default;

void StreamHasher::Update(ByteView data) {
  CheckOrAbort(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) ==
               1);
}

Bytes StreamHasher::Finish() {
  Bytes out(DigestSize(alg_));
  unsigned int len = 0;
  CheckOrAbort(EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &len) == 1 &&
               len == out.size());
  return out;
}

Bytes Hmac(HashAlg alg, ByteView key, ByteView data) {
  internal::EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  CheckOrAbort(mac != nullptr);
  internal::EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  CheckOrAbort(ctx != nullptr);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                       const_cast<char*>(MdName(alg)), 0),
      OSSL_PARAM_construct_end()};
  // A non-null pointer even for an empty key: HMAC allows a zero-length key.
  static const uint8_t kEmpty = 0;
  const uint8_t* key_data = key.empty() ? &kEmpty : key.data();
  Bytes out(DigestSize(alg));
  size_t len = 0;
  CheckOrAbort(EVP_MAC_init(ctx.get(), key_data, key.size(), params) == 1 &&
               EVP_MAC_update(ctx.get(), data.data(), data.size()) == 1 &&
               EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) == 1 &&
               len == out.size());
  return out;
}

Result<Bytes> Hkdf(HashAlg alg, ByteView ikm, ByteView salt, ByteView info,
                   size_t length) {
  if (length == 0 || length > 255 * DigestSize(alg)) {
    return InvalidArgumentError("hkdf: output length out of range");
  }
  // OpenSSL wants a valid pointer even for a zero-length input.
  static uint8_t kEmpty = 0;
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(
      OSSL_KDF_PARAM_DIGEST, const_cast<char*>(MdName(alg)), 0);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY,
      ikm.empty() ? &kEmpty : const_cast<uint8_t*>(ikm.data()), ikm.size());
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size());
  }
  if (!info.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();
  return RunKdf("HKDF", params, length);
}

Result<Bytes> Pbkdf2Sha256(ByteView password, ByteView salt,
                           uint32_t iterations, size_t length) {
  if (iterations < 1) return InvalidArgumentError("pbkdf2: iterations < 1");
  if (length == 0) return InvalidArgumentError("pbkdf2: empty output");
  static uint8_t kEmpty = 0;
  uint64_t iter = iterations;
  // pkcs5 = 1 turns off the SP 800-132 minimums (salt >= 16 bytes, output >=
  // 14 bytes, >= 1000 iterations): callers set their own bounds, and RFC 8018
  // allows smaller values.
  int pkcs5 = 1;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                       const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_PASSWORD,
          password.empty() ? &kEmpty : const_cast<uint8_t*>(password.data()),
          password.size()),
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_SALT,
          salt.empty() ? &kEmpty : const_cast<uint8_t*>(salt.data()),
          salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &pkcs5),
      OSSL_PARAM_construct_end()};
  return RunKdf("PBKDF2", params, length);
}

}  // namespace warden::crypto
