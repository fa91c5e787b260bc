// Files, the crash-safe way. errno stops here: every failure comes back as a
// Status naming the path and the system's reason.
#ifndef WARDEN_PLATFORM_FILE_H_
#define WARDEN_PLATFORM_FILE_H_

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace warden::platform {

// Reads a whole regular file. A file larger than `max_size` is refused with
// kResourceExhausted before anything is read into memory.
Result<std::string> ReadFile(const std::string& path, size_t max_size);

// Replaces `path` atomically: writes a temporary file in the same directory,
// fsyncs it, renames it over `path` and fsyncs the directory. A crash at any
// point leaves either the old content or the new, never a mix. `mode` is the
// new file's permission bits.
Status WriteFileAtomic(const std::string& path, std::string_view data,
                       mode_t mode);

// Like WriteFileAtomic but fails with kAlreadyExists if `path` exists.
Status CreateFileExclusive(const std::string& path, std::string_view data,
                           mode_t mode);

// Creates `path` and missing parents with `mode`; an existing directory is
// fine.
Status MakeDirs(const std::string& path, mode_t mode);

bool Exists(const std::string& path);
bool IsDirectory(const std::string& path);

// Removes a file; a missing file is fine.
Status RemoveFile(const std::string& path);

// "path/name" without doubling the slash.
std::string JoinPath(std::string_view dir, std::string_view name);

// "<what> <path>: <strerror(errno)>" as kIo (kNotFound for ENOENT).
Status ErrnoStatus(std::string_view what, std::string_view path, int err);

}  // namespace warden::platform

#endif  // WARDEN_PLATFORM_FILE_H_
