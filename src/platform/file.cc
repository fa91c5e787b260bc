#include "platform/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/rng.h"

namespace warden::platform {
namespace {

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

std::string DirName(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync", dir, err);
  return Status::Ok();
}

// Writes `data` to a fresh temporary file next to `path`, synced; returns
// its name.
Result<std::string> WriteTemp(const std::string& path, std::string_view data,
                              mode_t mode) {
  WARDEN_ASSIGN_OR_RETURN(Bytes salt, RandomBytes(SystemRng(), 6));
  std::string tmp = path + ".tmp-" + HexEncode(salt);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("create", tmp, errno);
  Status st = WriteAll(fd, data, tmp);
  if (st.ok() && ::fchmod(fd, mode) != 0) st = ErrnoStatus("chmod", tmp, errno);
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("fsync", tmp, errno);
  if (::close(fd) != 0 && st.ok()) st = ErrnoStatus("close", tmp, errno);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return tmp;
}

}  // namespace

Status ErrnoStatus(std::string_view what, std::string_view path, int err) {
  std::string m(what);
  m += " ";
  m += path;
  m += ": ";
  m += std::strerror(err);
  if (err == ENOENT) return NotFoundError(std::move(m));
  if (err == EEXIST) return AlreadyExistsError(std::move(m));
  if (err == EACCES || err == EPERM) return PermissionDeniedError(std::move(m));
  return IoError(std::move(m));
}

Result<std::string> ReadFile(const std::string& path, size_t max_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
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
  if (static_cast<uint64_t>(st.st_size) > max_size) {
    ::close(fd);
    return ResourceExhaustedError(path + " is larger than " +
                                  std::to_string(max_size) + " bytes");
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  for (;;) {
    if (done == out.size()) {
      // The file may have grown since fstat; read at most one byte past.
      if (out.size() >= max_size + 1) break;
      out.resize(std::min(max_size + 1, out.size() + 4096));
    }
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus("read", path, err);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done > max_size) {
    return ResourceExhaustedError(path + " is larger than " +
                                  std::to_string(max_size) + " bytes");
  }
  out.resize(done);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data,
                       mode_t mode) {
  WARDEN_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, data, mode));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("rename", path, err);
  }
  return SyncDir(DirName(path));
}

Status CreateFileExclusive(const std::string& path, std::string_view data,
                           mode_t mode) {
  WARDEN_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, data, mode));
  // link() fails with EEXIST instead of replacing, unlike rename().
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("create", path, err);
  }
  ::unlink(tmp.c_str());
  return SyncDir(DirName(path));
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidArgumentError("empty directory path");
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (part.empty()) continue;
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoStatus("mkdir", part, errno);
    }
  }
  if (!IsDirectory(path)) return IoError("not a directory: " + path);
  return Status::Ok();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("unlink", path, errno);
  }
  return Status::Ok();
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

}  // namespace warden::platform
