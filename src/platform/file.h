// Files, the crash-safe way, on an Env (env.h). Every failure comes back as
// a Status naming the path and the system's reason.
//
// The overloads without an Env use DefaultEnv(); they remain for readers
// and tests that never need faults injected.
#ifndef WARDEN_PLATFORM_FILE_H_
#define WARDEN_PLATFORM_FILE_H_

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "platform/env.h"

namespace warden::platform {

// Reads a whole regular file. A file larger than `max_size` is refused with
// kResourceExhausted before anything is read into memory; so is one that
// grows past it while being read.
Result<std::string> ReadFile(Env& env, const std::string& path,
                             size_t max_size);
Result<std::string> ReadFile(const std::string& path, size_t max_size);

// Replaces `path` atomically: writes a temporary file in the same directory,
// fsyncs it, renames it over `path` and fsyncs the directory. A crash at any
// point leaves either the old content or the new, never a mix; once it
// returns Ok, the new content survives a power cut. `mode` is the new
// file's permission bits. On failure the temporary file is removed.
Status WriteFileAtomic(Env& env, const std::string& path, std::string_view data,
                       mode_t mode);
Status WriteFileAtomic(const std::string& path, std::string_view data,
                       mode_t mode);

// Like WriteFileAtomic but fails with kAlreadyExists if `path` exists: the
// file appears complete or not at all.
Status CreateFileExclusive(Env& env, const std::string& path,
                           std::string_view data, mode_t mode);

// Creates `path` (kAlreadyExists when it exists) with `data` and `mode`,
// and fsyncs it. Its name is durable only once the caller syncs the
// directory: the way to fill a new directory that is synced once and then
// renamed into place. On failure the file is removed.
Status WriteNewFile(Env& env, const std::string& path, std::string_view data,
                    mode_t mode);

// Creates `path` and missing parents with `mode`; an existing directory is
// fine. Each directory made is durable in its parent when this returns.
Status MakeDirs(Env& env, const std::string& path, mode_t mode);
Status MakeDirs(const std::string& path, mode_t mode);

// Makes a new empty directory "<path>.tmp-<random hex>" beside `path`
// (mode `mode`) and returns its name: the place to build something that is
// then renamed to `path` in one step.
Result<std::string> MakeTempDirBeside(Env& env, const std::string& path,
                                      mode_t mode);

bool Exists(Env& env, const std::string& path);
bool Exists(const std::string& path);
bool IsDirectory(Env& env, const std::string& path);
bool IsDirectory(const std::string& path);
// True for a directory with no entries; false for anything else or an error.
bool IsEmptyDirectory(Env& env, const std::string& path);

// Removes a file; a missing file is fine.
Status RemoveFile(Env& env, const std::string& path);
Status RemoveFile(const std::string& path);

// Overwrites the regular file at `path` with zeros in place, syncs it,
// removes it and syncs its directory, so that what it held does not linger
// in freed blocks of a file system that writes in place (a log-structured
// or copy-on-write one keeps older blocks regardless). A missing file is
// fine. A crash part way leaves the file partly zeroed or absent.
Status ScrubFile(Env& env, const std::string& path);

// Removes `path` and, when it is a directory, everything in it (symbolic
// links are removed, never followed). A missing path is fine.
Status RemoveTree(Env& env, const std::string& path);

// "path/name" without doubling the slash.
std::string JoinPath(std::string_view dir, std::string_view name);

// The directory holding `path`: "." for a bare name, "/" for "/name".
std::string DirName(const std::string& path);

// Marks descriptor `fd` close-on-exec: for descriptors that a library opens
// without the flag (asio's listening and accepted sockets), so that no
// program wardend starts inherits them. kIo when fcntl fails (EBADF).
Status SetCloseOnExec(int fd);

// "<what> <path>: <strerror(errno)>" as kIo (kNotFound for ENOENT,
// kAlreadyExists for EEXIST, kPermissionDenied for EACCES and EPERM).
Status ErrnoStatus(std::string_view what, std::string_view path, int err);

}  // namespace warden::platform

#endif  // WARDEN_PLATFORM_FILE_H_
