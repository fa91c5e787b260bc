// Hashes, MACs and key derivation over OpenSSL 3: SHA-256/512, HMAC, HKDF
// (RFC 5869), PBKDF2 (RFC 8018).
#ifndef WARDEN_CRYPTO_HASH_H_
#define WARDEN_CRYPTO_HASH_H_

#include <memory>

#include "base/bytes.h"
#include "base/status.h"

namespace warden::crypto {

enum class HashAlg { kSha256, kSha512 };

// Output length in bytes: 32 or 64.
size_t DigestSize(HashAlg alg);

Bytes Sha256(ByteView data);
Bytes Digest(HashAlg alg, ByteView data);

// Incremental SHA-256 for data that arrives in pieces (files, streams).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(ByteView data);
  // Returns the digest; the hasher must not be used afterwards.
  Bytes Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Incremental digest of any supported algorithm, for a stream whose
// expected digests name the algorithm (TUF target hashes).
class StreamHasher {
 public:
  explicit StreamHasher(HashAlg alg);
  ~StreamHasher();
  StreamHasher(const StreamHasher&) = delete;
  StreamHasher& operator=(const StreamHasher&) = delete;
  void Update(ByteView data);
  // Returns the digest; the hasher must not be used afterwards.
  Bytes Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HashAlg alg_;
};

Bytes Hmac(HashAlg alg, ByteView key, ByteView data);
inline Bytes HmacSha256(ByteView key, ByteView data) {
  return Hmac(HashAlg::kSha256, key, data);
}

// RFC 5869 extract-and-expand. An empty salt means HashLen zero bytes.
// `length` 1 to 255 * HashLen, else kInvalidArgument.
Result<Bytes> Hkdf(HashAlg alg, ByteView ikm, ByteView salt, ByteView info,
                   size_t length);

// PBKDF2-HMAC-SHA256. `iterations` >= 1 and `length` >= 1, else
// kInvalidArgument. No further minimums: callers set their own.
Result<Bytes> Pbkdf2Sha256(ByteView password, ByteView salt,
                           uint32_t iterations, size_t length);

}  // namespace warden::crypto

#endif  // WARDEN_CRYPTO_HASH_H_
