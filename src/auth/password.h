// The owner password: what we accept, and how we store it.
//
// CheckPassword is the policy applied whenever an owner sets a password
// (at pairing and with PUT /v1/owner/password). It refuses passwords that
// are short, that botnets try first, that are printed on the unit's label,
// or that libpwquality judges weak, and says why in words an owner can act
// on. HashPassword/VerifyPassword keep only an Argon2id hash, so a copy of
// the store does not reveal the password and guessing it offline is slow.
#ifndef WARDEN_AUTH_PASSWORD_H_
#define WARDEN_AUTH_PASSWORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace warden::auth {

// Length limits, in characters (Unicode code points) for the minimum and in
// UTF-8 bytes for the maximum.
inline constexpr size_t kMinPasswordLength = 10;
inline constexpr size_t kMaxPasswordBytes = 128;

// What the device tells anyone about itself (GET /v1/info, the label). A
// password containing any of these is refused.
struct PasswordContext {
  std::string serial;
  std::string model;
  std::string maker;
};

// Ok when `password` may become the owner password. Otherwise
// kInvalidArgument whose message is a sentence for the owner; the password
// itself never appears in it. Checks, in order:
//   - at most kMaxPasswordBytes bytes, valid UTF-8, no control characters;
//   - at least kMinPasswordLength characters;
//   - not a known default or botnet password (IsKnownDefaultCredential);
//   - does not contain the serial, model or maker (ASCII case-insensitive,
//     also with separators such as '-' removed; fields shorter than 3
//     characters are ignored);
//   - accepted by libpwquality's default checks with minlen 10 (its
//     dictionary check runs when the cracklib dictionary is installed).
Status CheckPassword(std::string_view password, const PasswordContext& ctx);

// True when `password` equals, ignoring ASCII case, an entry of the list of
// factory-default and botnet-known passwords compiled into the library
// (data/default-credentials.txt).
bool IsKnownDefaultCredential(std::string_view password);

// Number of distinct (case-folded) entries in that list.
size_t KnownDefaultCredentialCount();

// Argon2id cost. The defaults are libsodium's INTERACTIVE limits (2 passes,
// 64 MiB): about 0.1 s per guess on a small ARM board. MinimumHashParams()
// is for tests only.
struct HashParams {
  uint64_t opslimit = 2;
  size_t memlimit = size_t{64} << 20;
};
HashParams InteractiveHashParams();
HashParams MinimumHashParams();

// The encoded Argon2id hash of `password` ("$argon2id$v=19$m=...,t=...,p=1$
// salt$hash"), with a fresh random salt. Does not apply the policy; call
// CheckPassword first. Errors: kInvalidArgument for a password longer than
// kMaxPasswordBytes or params outside libsodium's bounds; kResourceExhausted
// when the memory cannot be allocated; kInternal if libsodium cannot start.
Result<std::string> HashPassword(std::string_view password,
                                 const HashParams& params = HashParams());

// True when `password` matches `encoded_hash` (from HashPassword, with any
// parameters). A malformed hash, a non-Argon2id hash or a password longer
// than kMaxPasswordBytes gives false.
bool VerifyPassword(std::string_view encoded_hash, std::string_view password);

// True when `encoded_hash` was made with parameters other than `params` (or
// is malformed), so the caller should rehash the password after the next
// successful login.
bool HashNeedsRehash(std::string_view encoded_hash,
                     const HashParams& params = HashParams());

}  // namespace warden::auth

#endif  // WARDEN_AUTH_PASSWORD_H_
