// Authenticated encryption: AES-256-GCM with 12-byte nonces and 16-byte tags.
#ifndef WARDEN_CRYPTO_AEAD_H_
#define WARDEN_CRYPTO_AEAD_H_

#include "base/bytes.h"
#include "base/rng.h"
#include "base/status.h"

namespace warden::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 12;
inline constexpr size_t kAeadTagSize = 16;

// Returns ciphertext || tag. Key 32 bytes, nonce 12 bytes, else
// kInvalidArgument.
Result<Bytes> AeadSeal(ByteView key, ByteView nonce, ByteView aad,
                       ByteView plaintext);

// Inverse of AeadSeal. A wrong key, nonce, aad or a modified ciphertext is
// kIntegrity; nothing is returned.
Result<Bytes> AeadOpen(ByteView key, ByteView nonce, ByteView aad,
                       ByteView ciphertext_and_tag);

// Convenience: random nonce; returns nonce || ciphertext || tag.
Result<Bytes> AeadSealRandomNonce(Rng& rng, ByteView key, ByteView aad,
                                  ByteView plaintext);
Result<Bytes> AeadOpenRandomNonce(ByteView key, ByteView aad, ByteView sealed);

}  // namespace warden::crypto

#endif  // WARDEN_CRYPTO_AEAD_H_
