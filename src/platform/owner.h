// Who owns a file, and who we run as: for the checks that refuse a secret
// file (a key-encryption key, a keystore directory) another user could have
// written or replaced.
//
// Ownership is read from the real file system, not through an Env: an Env
// models data and names for crash tests, and a file's owner is taken as it
// is on disk.
#ifndef WARDEN_PLATFORM_OWNER_H_
#define WARDEN_PLATFORM_OWNER_H_

#include <sys/types.h>

#include <string>

#include "base/status.h"

namespace warden::platform {

// The owner of `path` itself (lstat: a symbolic link's own owner).
// kNotFound when absent.
Result<uid_t> FileOwner(const std::string& path);

// The effective user id of this process.
uid_t EffectiveUser();

}  // namespace warden::platform

#endif  // WARDEN_PLATFORM_OWNER_H_
