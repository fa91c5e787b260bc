// The file system, reached through an interface (leveldb's Env is the
// model) so that tests can fail any write, fsync or rename and cut the
// power, and see what a real crash would leave behind.
//
// Every writer in Warden goes through an Env: the file helpers in file.h,
// provisioning, the owner's home and registry, and SQLite (through the VFS
// in src/db/). DefaultEnv() is the real operating system; errno stops in
// its implementation and comes back as a Status naming the path.
//
// Durability is the caller's business, as with the system calls: data
// written to a File is durable once File::Sync returns; a create, rename,
// link or unlink is durable once SyncDir of the directory holding the name
// returns. An Env that simulates a power cut (FaultInjectionEnv, test only)
// drops exactly what these rules do not promise.
#ifndef WARDEN_PLATFORM_ENV_H_
#define WARDEN_PLATFORM_ENV_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden::platform {

// An open file. Not thread-safe; one owner at a time. The destructor closes
// it and ignores errors; call Close() to see them.
class File {
 public:
  virtual ~File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Reads up to `n` bytes at `offset` into `buf`; returns how many were
  // read, fewer than `n` only at the end of the file.
  virtual Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) = 0;
  // Writes all of `data` at `offset`, extending the file when needed.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Writes all of `data` at the end of the file.
  virtual Status Append(std::string_view data) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  // Makes the file's data durable (fsync).
  virtual Status Sync() = 0;
  virtual Result<uint64_t> Size() = 0;
  // Sets the permission bits (fchmod): the mode given at creation is
  // narrowed by the umask, this is not.
  virtual Status SetMode(mode_t mode) = 0;
  // Closes the file; later calls do nothing and return Ok.
  virtual Status Close() = 0;

 protected:
  File() = default;
};

// An advisory lock (flock) on a file, released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 protected:
  FileLock() = default;
};

enum class FileType { kRegular, kDirectory, kOther };

struct FileInfo {
  FileType type = FileType::kOther;
  uint64_t size = 0;
  mode_t mode = 0;  // permission bits
};

struct OpenOptions {
  enum class Create {
    kNever,      // the file must exist (kNotFound otherwise)
    kIfMissing,  // create it when absent, keep its content when present
    kExclusive,  // create it; kAlreadyExists when it exists
    kTruncate,   // create it when absent, empty it when present
  };
  bool write = false;  // open for reading and writing, not only reading
  Create create = Create::kNever;
  mode_t mode = 0600;  // for a file this call creates
};

class Env {
 public:
  virtual ~Env() = default;

  // Opens a regular file. Every descriptor is close-on-exec. kNotFound,
  // kAlreadyExists and kPermissionDenied as the options and the system
  // say; a directory is kInvalidArgument.
  virtual Result<std::unique_ptr<File>> Open(const std::string& path,
                                             const OpenOptions& options) = 0;
  // rename(2): atomically replaces `to` (a file, or an empty directory when
  // `from` is one). A non-empty directory at `to` is kAlreadyExists.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // link(2): a second name for a file. kAlreadyExists when `to` exists.
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  // unlink(2). kNotFound when there is no such file.
  virtual Status Unlink(const std::string& path) = 0;
  // mkdir(2) of one directory. kAlreadyExists when the name exists.
  virtual Status MakeDir(const std::string& path, mode_t mode) = 0;
  // rmdir(2) of an empty directory.
  virtual Status RemoveDir(const std::string& path) = 0;
  // Makes the names in the directory durable (fsync of the directory).
  virtual Status SyncDir(const std::string& path) = 0;
  // chmod(2) and chown(2).
  virtual Status SetMode(const std::string& path, mode_t mode) = 0;
  virtual Status SetOwner(const std::string& path, uid_t uid, gid_t gid) = 0;
  // Takes an exclusive flock on `path`, creating the file (0600) when
  // absent. With `wait` false, a lock held elsewhere is kUnavailable at
  // once; with `wait` true the call blocks until the lock is free. A lock
  // is held by the returned object, also against other FileLocks of the
  // same process.
  virtual Result<std::unique_ptr<FileLock>> Lock(const std::string& path,
                                                 bool wait) = 0;
  // lstat(2): a symbolic link is kOther. kNotFound when absent.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // The names in a directory, without "." and "..", in no set order.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;

 protected:
  Env() = default;
};

// The real file system. Lives for the whole program.
Env& DefaultEnv();

}  // namespace warden::platform

#endif  // WARDEN_PLATFORM_ENV_H_
