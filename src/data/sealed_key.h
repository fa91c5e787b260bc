// The AES-256-GCM keys the data store and the event log seal their rows
// under: each a keystore secret of its own, so that destroying it in the
// keystore is what erases every row sealed under it (crypto-erase).
#ifndef WARDEN_DATA_SEALED_KEY_H_
#define WARDEN_DATA_SEALED_KEY_H_

#include <string>

#include "base/rng.h"
#include "base/status.h"
#include "crypto/secret.h"
#include "keystore/keystore.h"

namespace warden::data {

inline constexpr size_t kSealedKeySize = 32;

// With `make`, a fresh random key sealed in `keystore` as `name`; any item
// of that name goes first, since a key no committed row vouches for may be
// what a Seal that failed half-way left, and may not be durable. Without
// `make`, the key sealed as `name` (kNotFound when there is none,
// kIntegrity when it is not a key of kSealedKeySize bytes).
Result<crypto::SecretBytes> MakeOrOpenSealedKey(keystore::Keystore& keystore,
                                                Rng& rng,
                                                const std::string& name,
                                                bool make);

}  // namespace warden::data

#endif  // WARDEN_DATA_SEALED_KEY_H_
