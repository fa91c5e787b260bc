#include "platform/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "platform/file.h"

namespace warden::platform {
namespace {

class PosixFile : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { Close().IgnoreError(); }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    if (fd_ < 0) return Closed();
    size_t done = 0;
    while (done < n) {
      ssize_t r =
          ::pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path_, errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (fd_ < 0) return Closed();
    size_t done = 0;
    while (done < data.size()) {
      ssize_t r = ::pwrite(fd_, data.data() + done, data.size() - done,
                           static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      done += static_cast<size_t>(r);
    }
    return Status::Ok();
  }

  Status Append(std::string_view data) override {
    WARDEN_ASSIGN_OR_RETURN(uint64_t end, Size());
    return WriteAt(end, data);
  }

  Status Truncate(uint64_t size) override {
    if (fd_ < 0) return Closed();
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncate", path_, errno);
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (fd_ < 0) return Closed();
    if (::fsync(fd_) != 0) return ErrnoStatus("fsync", path_, errno);
    return Status::Ok();
  }

  Result<uint64_t> Size() override {
    if (fd_ < 0) return Closed();
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("stat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status SetMode(mode_t mode) override {
    if (fd_ < 0) return Closed();
    if (::fchmod(fd_, mode) != 0) return ErrnoStatus("chmod", path_, errno);
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    // Linux releases the descriptor even when close fails; never retry.
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoStatus("close", path_, errno);
    return Status::Ok();
  }

 private:
  Status Closed() const {
    return FailedPreconditionError(path_ + " is closed");
  }
  int fd_;
  std::string path_;
};

class PosixLock : public FileLock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}
  ~PosixLock() override { ::close(fd_); }

 private:
  int fd_;
};

class PosixEnv : public Env {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path,
                                     const OpenOptions& options) override {
    int flags = O_CLOEXEC | (options.write ? O_RDWR : O_RDONLY);
    switch (options.create) {
      case OpenOptions::Create::kNever:
        break;
      case OpenOptions::Create::kIfMissing:
        flags |= O_CREAT;
        break;
      case OpenOptions::Create::kExclusive:
        flags |= O_CREAT | O_EXCL;
        break;
      case OpenOptions::Create::kTruncate:
        flags |= O_CREAT | O_TRUNC;
        break;
    }
    int fd;
    do {
      fd = ::open(path.c_str(), flags, options.mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      if (errno == EISDIR) return InvalidArgumentError("not a file: " + path);
      return ErrnoStatus(
          options.create == OpenOptions::Create::kNever ? "open" : "create",
          path, errno);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus("stat", path, err);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return InvalidArgumentError("not a regular file: " + path);
    }
    return std::unique_ptr<File>(new PosixFile(fd, path));
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      if (errno == ENOTEMPTY || errno == EEXIST) {
        return AlreadyExistsError("rename to " + to +
                                  ": a directory that is not empty is there");
      }
      return ErrnoStatus("rename", from + " to " + to, errno);
    }
    return Status::Ok();
  }

  Status Link(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("link", to, errno);
    }
    return Status::Ok();
  }

  Status Unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return Status::Ok();
  }

  Status MakeDir(const std::string& path, mode_t mode) override {
    if (::mkdir(path.c_str(), mode) != 0) {
      return ErrnoStatus("mkdir", path, errno);
    }
    return Status::Ok();
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoStatus("rmdir", path, errno);
    return Status::Ok();
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fsync", path, err);
    return Status::Ok();
  }

  Status SetMode(const std::string& path, mode_t mode) override {
    if (::chmod(path.c_str(), mode) != 0) {
      return ErrnoStatus("chmod", path, errno);
    }
    return Status::Ok();
  }

  Status SetOwner(const std::string& path, uid_t uid, gid_t gid) override {
    if (::chown(path.c_str(), uid, gid) != 0) {
      return ErrnoStatus("chown", path, errno);
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<FileLock>> Lock(const std::string& path,
                                         bool wait) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    while (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return UnavailableError(path + " is locked by another process");
      }
      return ErrnoStatus("lock", path, err);
    }
    return std::unique_ptr<FileLock>(new PosixLock(fd));
  }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      return ErrnoStatus("stat", path, errno);
    }
    FileInfo info;
    info.type = S_ISREG(st.st_mode)   ? FileType::kRegular
                : S_ISDIR(st.st_mode) ? FileType::kDirectory
                                      : FileType::kOther;
    info.size = static_cast<uint64_t>(st.st_size);
    info.mode = st.st_mode & 07777;
    return info;
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus("list", path, err);
    }
    std::vector<std::string> names;
    for (;;) {
      errno = 0;
      struct dirent* e = ::readdir(dir);
      if (e == nullptr) {
        int err = errno;
        ::closedir(dir);
        if (err != 0) return ErrnoStatus("list", path, err);
        return names;
      }
      std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
  }
};

}  // namespace

Env& DefaultEnv() {
  static PosixEnv* env = new PosixEnv();
  return *env;
}

}  // namespace warden::platform
