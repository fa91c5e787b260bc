#include "data/sealed_key.h"

#include <utility>

namespace warden::data {

Result<crypto::SecretBytes> MakeOrOpenSealedKey(keystore::Keystore& keystore,
                                                Rng& rng,
                                                const std::string& name,
                                                bool make) {
  if (!make) {
    WARDEN_ASSIGN_OR_RETURN(crypto::SecretBytes key, keystore.Unseal(name));
    if (key.size() != kSealedKeySize) {
      return IntegrityError("key " + name + " has the wrong size");
    }
    return key;
  }
  Status gone = keystore.Destroy(name);
  if (!gone.ok() && gone.code() != Code::kNotFound) return gone;
  WARDEN_ASSIGN_OR_RETURN(Bytes fresh, RandomBytes(rng, kSealedKeySize));
  crypto::SecretBytes made(std::move(fresh));
  WARDEN_TRY(keystore.Seal(name, made.view()));
  return made;
}

}  // namespace warden::data
