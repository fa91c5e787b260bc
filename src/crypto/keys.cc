#include "crypto/keys.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstring>

#include "crypto/hash.h"
#include "crypto/ossl.h"
#include "crypto/secret.h"

namespace warden::crypto {
namespace {

using internal::BioPtr;
using internal::CheckOrAbort;
using internal::EvpPkeyPtr;

// Keys and certificates are small; anything larger is not one of ours.
constexpr size_t kMaxEncodedKey = 16 * 1024;
constexpr size_t kEd25519Size = 32;
constexpr size_t kP256PointSize = 65;

std::shared_ptr<EVP_PKEY> Share(EvpPkeyPtr p) {
  return std::shared_ptr<EVP_PKEY>(p.release(), EVP_PKEY_free);
}

// Refuses every key that is neither ed25519 nor an EC key on the named curve
// P-256.
Result<KeyType> Classify(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) return KeyType::kEd25519;
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &len) == 1 &&
        (std::strcmp(group, "prime256v1") == 0 ||
         std::strcmp(group, "P-256") == 0)) {
      return KeyType::kEcdsaP256;
    }
    ERR_clear_error();
    return InvalidArgumentError("key: EC key is not on curve P-256");
  }
  return InvalidArgumentError("key: only ed25519 and P-256 keys are accepted");
}

// 0x04 || X || Y of an EC key, whatever form it was read in.
Result<Bytes> EcUncompressedFromParams(const EVP_PKEY* pkey) {
  BIGNUM* x_raw = nullptr;
  BIGNUM* y_raw = nullptr;
  int ok_x = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x_raw);
  int ok_y = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y_raw);
  internal::BnPtr x(x_raw);
  internal::BnPtr y(y_raw);
  if (ok_x != 1 || ok_y != 1) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("key: EC public point unavailable"));
  }
  Bytes out(kP256PointSize);
  out[0] = 0x04;
  if (BN_bn2binpad(x.get(), out.data() + 1, 32) != 32 ||
      BN_bn2binpad(y.get(), out.data() + 33, 32) != 32) {
    return InvalidArgumentError("key: EC coordinate out of range");
  }
  return out;
}

// A key held through an OpenSSL 1.x-style method (a PKCS#11 token's, by
// libp11) answers no parameter queries; its encoded public half, decoded
// again, is an ordinary key that does.
Result<Bytes> EcUncompressed(const EVP_PKEY* pkey) {
  Result<Bytes> direct = EcUncompressedFromParams(pkey);
  if (direct.ok() || EVP_PKEY_get0_provider(pkey) != nullptr) return direct;
  const int len = i2d_PUBKEY(pkey, nullptr);
  if (len <= 0 || len > 1024) return direct;
  Bytes der(static_cast<size_t>(len));
  uint8_t* out = der.data();
  i2d_PUBKEY(pkey, &out);
  const uint8_t* in = der.data();
  EvpPkeyPtr decoded(d2i_PUBKEY(nullptr, &in, len));
  if (!decoded || EVP_PKEY_get_base_id(decoded.get()) != EVP_PKEY_EC) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("key: EC public point unavailable"));
  }
  return EcUncompressedFromParams(decoded.get());
}

Result<EvpPkeyPtr> P256FromPoint(ByteView point) {
  if (point.size() != kP256PointSize || point[0] != 0x04) {
    return InvalidArgumentError(
        "key: P-256 public key must be 65 bytes, uncompressed");
  }
  internal::EvpPkeyCtxPtr ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return InternalError(internal::TakeOpenSslError("key: EC context"));
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                       const_cast<char*>("prime256v1"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<uint8_t*>(point.data()),
                                        point.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("key: invalid P-256 point"));
  }
  EvpPkeyPtr pkey(raw);
  // Decoding already rejects points off the curve; the full public check
  // also covers the identity and the subgroup.
  internal::EvpPkeyCtxPtr check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("key: invalid P-256 point"));
  }
  return pkey;
}

// Rebuilds a decoded public key in our canonical form (an EC point in
// uncompressed form), so that DER, PEM and fingerprint do not depend on how
// the key was first encoded.
Result<PublicKey> Canonical(EvpPkeyPtr pkey) {
  WARDEN_ASSIGN_OR_RETURN(KeyType type, Classify(pkey.get()));
  if (type == KeyType::kEd25519) {
    uint8_t raw[kEd25519Size];
    size_t len = sizeof(raw);
    if (EVP_PKEY_get_raw_public_key(pkey.get(), raw, &len) != 1 ||
        len != kEd25519Size) {
      return InvalidArgumentError(
          internal::TakeOpenSslError("key: ed25519 public key unavailable"));
    }
    return PublicKey::FromRaw(type, ByteView(raw, len));
  }
  WARDEN_ASSIGN_OR_RETURN(Bytes point, EcUncompressed(pkey.get()));
  return PublicKey::FromRaw(type, point);
}

int NoPassphrase(char*, int, int, void*) { return -1; }

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  CheckOrAbort(len >= 0);
  return std::string(data, static_cast<size_t>(len));
}

const char* SignDigest(KeyType type) {
  return type == KeyType::kEd25519 ? nullptr : "SHA256";
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  return type == KeyType::kEd25519 ? "ed25519" : "ecdsa";
}

Result<PublicKey> PublicKey::FromDer(ByteView spki_der) {
  if (spki_der.empty() || spki_der.size() > kMaxEncodedKey) {
    return InvalidArgumentError("key: SubjectPublicKeyInfo size out of range");
  }
  const unsigned char* p = spki_der.data();
  EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!pkey) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("key: malformed SubjectPublicKeyInfo"));
  }
  if (p != spki_der.data() + spki_der.size()) {
    return InvalidArgumentError("key: trailing bytes after the public key");
  }
  return Canonical(std::move(pkey));
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxEncodedKey) {
    return InvalidArgumentError("key: PEM size out of range");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError("key: out of memory");
  EvpPkeyPtr pkey(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pkey) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("key: not a PEM public key"));
  }
  return Canonical(std::move(pkey));
}

Result<PublicKey> PublicKey::FromRaw(KeyType type, ByteView raw) {
  if (type == KeyType::kEd25519) {
    if (raw.size() != kEd25519Size) {
      return InvalidArgumentError("key: ed25519 public key must be 32 bytes");
    }
    EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                raw.data(), raw.size()));
    if (!pkey) {
      return InvalidArgumentError(
          internal::TakeOpenSslError("key: invalid ed25519 public key"));
    }
    return PublicKey(Share(std::move(pkey)), type);
  }
  WARDEN_ASSIGN_OR_RETURN(EvpPkeyPtr pkey, P256FromPoint(raw));
  return PublicKey(Share(std::move(pkey)), type);
}

Bytes PublicKey::ToDer() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey_.get(), &der);
  CheckOrAbort(len > 0);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  CheckOrAbort(bio != nullptr &&
               PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) == 1);
  return BioToString(bio.get());
}

Bytes PublicKey::ToRaw() const {
  if (type_ == KeyType::kEd25519) {
    Bytes out(kEd25519Size);
    size_t len = out.size();
    CheckOrAbort(EVP_PKEY_get_raw_public_key(pkey_.get(), out.data(), &len) ==
                     1 &&
                 len == kEd25519Size);
    return out;
  }
  Result<Bytes> point = EcUncompressed(pkey_.get());
  CheckOrAbort(point.ok());
  return std::move(point).value();
}

std::string PublicKey::Fingerprint() const {
  return HexEncode(Sha256(ToDer()));
}

// Verifies `signature` over `data` with a context already set up for the
// key, its digest and its padding.
static Status FinishVerify(EVP_MD_CTX* ctx, ByteView data, ByteView signature) {
  // EVP wants non-null pointers even for empty inputs.
  static const uint8_t kEmpty = 0;
  int rc = EVP_DigestVerify(ctx, signature.empty() ? &kEmpty : signature.data(),
                            signature.size(),
                            data.empty() ? &kEmpty : data.data(), data.size());
  ERR_clear_error();
  if (rc != 1) return BadSignatureError("signature does not verify");
  return Status::Ok();
}

Status PublicKey::Verify(ByteView data, ByteView signature) const {
  internal::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return InternalError("key: out of memory");
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, SignDigest(type_), nullptr,
                              nullptr, pkey_.get(), nullptr) != 1) {
    return InternalError(internal::TakeOpenSslError("key: verify init"));
  }
  return FinishVerify(ctx.get(), data, signature);
}

Result<PrivateKey> PrivateKey::Generate(KeyType type) {
  EvpPkeyPtr pkey(type == KeyType::kEd25519
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC",
                                          const_cast<char*>("P-256")));
  if (!pkey) {
    return InternalError(internal::TakeOpenSslError("key: generation failed"));
  }
  return PrivateKey(Share(std::move(pkey)), type);
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxEncodedKey) {
    return InvalidArgumentError("key: PEM size out of range");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError("key: out of memory");
  // No passphrase callback: an encrypted key fails here instead of prompting
  // on the terminal.
  EvpPkeyPtr pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pkey) {
    return InvalidArgumentError(
        internal::TakeOpenSslError("key: not an unencrypted PEM private key"));
  }
  WARDEN_ASSIGN_OR_RETURN(KeyType type, Classify(pkey.get()));
  if (type == KeyType::kEcdsaP256) {
    internal::EvpPkeyCtxPtr check(
        EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) {
      return InvalidArgumentError(
          internal::TakeOpenSslError("key: inconsistent EC private key"));
    }
  }
  return PrivateKey(Share(std::move(pkey)), type);
}

std::string PrivateKey::ToPem() const {
  CheckOrAbort(exportable_);
  // A secure-memory BIO clears its buffer when freed, so the only copy of
  // the encoded key left behind is the returned string.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  CheckOrAbort(bio != nullptr &&
               PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr,
                                        nullptr, 0, nullptr, nullptr) == 1);
  return BioToString(bio.get());
}

PublicKey PrivateKey::public_key() const {
  // A public key of its own, so that the private scalar is not kept alive
  // (or reachable through PublicKey::raw()) by holders of the public half.
  Bytes raw;
  if (type_ == KeyType::kEd25519) {
    raw.resize(kEd25519Size);
    size_t len = raw.size();
    CheckOrAbort(EVP_PKEY_get_raw_public_key(pkey_.get(), raw.data(), &len) ==
                     1 &&
                 len == kEd25519Size);
  } else {
    Result<Bytes> point = EcUncompressed(pkey_.get());
    CheckOrAbort(point.ok());
    raw = std::move(point).value();
  }
  Result<PublicKey> pub = PublicKey::FromRaw(type_, raw);
  CheckOrAbort(pub.ok());
  return std::move(pub).value();
}

Result<Bytes> PrivateKey::Sign(ByteView data) const {
  internal::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return InternalError("key: out of memory");
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, SignDigest(type_), libctx_,
                            propq_, pkey_.get(), nullptr) != 1) {
    return InternalError(internal::TakeOpenSslError("key: sign init"));
  }
  static const uint8_t kEmpty = 0;
  const uint8_t* msg = data.empty() ? &kEmpty : data.data();
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg, data.size()) != 1) {
    return InternalError(internal::TakeOpenSslError("key: sign"));
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, msg, data.size()) != 1) {
    return InternalError(internal::TakeOpenSslError("key: sign"));
  }
  sig.resize(len);
  return sig;
}

Status VerifyRsaPssSha256(std::string_view pem, ByteView data,
                          ByteView signature) {
  if (pem.empty() || pem.size() > kMaxEncodedKey) {
    return InvalidArgumentError("key: PEM size out of range");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError("key: out of memory");
  EvpPkeyPtr pkey(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) {
    ERR_clear_error();
    return InvalidArgumentError("key: not an RSA public key in PEM");
  }
  const int bits = EVP_PKEY_get_bits(pkey.get());
  if (bits < 2048 || bits > 8192) {
    return InvalidArgumentError("key: RSA key size out of range");
  }
  internal::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return InternalError("key: out of memory");
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr,
                              pkey.get(), nullptr) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1) {
    return InternalError(internal::TakeOpenSslError("key: verify init"));
  }
  return FinishVerify(ctx.get(), data, signature);
}

}  // namespace warden::crypto
