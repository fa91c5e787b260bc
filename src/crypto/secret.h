// Constant-time comparison and wiping of secrets.
#ifndef WARDEN_CRYPTO_SECRET_H_
#define WARDEN_CRYPTO_SECRET_H_

#include <string>

#include "base/bytes.h"

namespace warden::crypto {

// True when a and b have the same length and content. Time depends only on
// the length, never on where the first difference is.
bool ConstantTimeEquals(ByteView a, ByteView b);

// Overwrites memory in a way the compiler may not optimise away.
void Wipe(void* data, size_t size);
inline void Wipe(Bytes& b) { Wipe(b.data(), b.size()); }
inline void Wipe(std::string& s) { Wipe(s.data(), s.size()); }

// Bytes that are wiped when destroyed or reassigned. Move-only.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(Bytes b) : b_(std::move(b)) {}
  ~SecretBytes() { crypto::Wipe(b_); }
  SecretBytes(SecretBytes&& o) noexcept : b_(std::move(o.b_)) {}
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    if (this != &o) {
      crypto::Wipe(b_);
      b_ = std::move(o.b_);
    }
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // Overwrites the bytes now and leaves the value empty (the buffer itself
  // is released later, already zeroed).
  void Wipe() {
    crypto::Wipe(b_);
    b_.clear();
  }

  ByteView view() const { return b_; }
  const Bytes& bytes() const { return b_; }
  size_t size() const { return b_.size(); }
  bool empty() const { return b_.empty(); }

 private:
  Bytes b_;
};

}  // namespace warden::crypto

#endif  // WARDEN_CRYPTO_SECRET_H_
