#include "platform/file.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "base/rng.h"

namespace warden::platform {
namespace {

Status TooLarge(const std::string& path, size_t max_size) {
  return ResourceExhaustedError(path + " is larger than " +
                                std::to_string(max_size) + " bytes");
}

Result<std::string> TempName(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(Bytes salt, RandomBytes(SystemRng(), 6));
  return path + ".tmp-" + HexEncode(salt);
}

Status WriteNew(Env& env, const std::string& path, std::string_view data,
                mode_t mode) {
  OpenOptions options;
  options.write = true;
  options.create = OpenOptions::Create::kExclusive;
  options.mode = mode;
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env.Open(path, options));
  Status st = file->Append(data);
  if (st.ok()) st = file->SetMode(mode);
  if (st.ok()) st = file->Sync();
  Status closed = file->Close();
  if (st.ok()) st = closed;
  if (!st.ok()) env.Unlink(path).IgnoreError();
  return st;
}

// Writes `data` to a fresh temporary file next to `path`, synced; returns
// its name.
Result<std::string> WriteTemp(Env& env, const std::string& path,
                              std::string_view data, mode_t mode) {
  WARDEN_ASSIGN_OR_RETURN(std::string tmp, TempName(path));
  WARDEN_TRY(WriteNew(env, tmp, data, mode));
  return tmp;
}

}  // namespace

Status SetCloseOnExec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
    return ErrnoStatus("fcntl FD_CLOEXEC", "fd " + std::to_string(fd), errno);
  }
  return Status::Ok();
}

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

Result<std::string> ReadFile(Env& env, const std::string& path,
                             size_t max_size) {
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                          env.Open(path, OpenOptions{}));
  WARDEN_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size > max_size) return TooLarge(path, max_size);
  std::string out;
  out.resize(static_cast<size_t>(size));
  size_t done = 0;
  for (;;) {
    if (done == out.size()) {
      // The file may have grown since it was measured; read at most one
      // byte past the limit.
      if (out.size() >= max_size + 1) break;
      out.resize(std::min(max_size + 1, out.size() + 4096));
    }
    WARDEN_ASSIGN_OR_RETURN(
        size_t n, file->ReadAt(done, out.data() + done, out.size() - done));
    if (n == 0) break;
    done += n;
  }
  if (done > max_size) return TooLarge(path, max_size);
  out.resize(done);
  return out;
}

Result<std::string> ReadFile(const std::string& path, size_t max_size) {
  return ReadFile(DefaultEnv(), path, max_size);
}

Status WriteFileAtomic(Env& env, const std::string& path, std::string_view data,
                       mode_t mode) {
  WARDEN_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(env, path, data, mode));
  if (Status st = env.Rename(tmp, path); !st.ok()) {
    env.Unlink(tmp).IgnoreError();
    return st;
  }
  return env.SyncDir(DirName(path));
}

Status WriteFileAtomic(const std::string& path, std::string_view data,
                       mode_t mode) {
  return WriteFileAtomic(DefaultEnv(), path, data, mode);
}

Status CreateFileExclusive(Env& env, const std::string& path,
                           std::string_view data, mode_t mode) {
  WARDEN_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(env, path, data, mode));
  // link() fails with EEXIST instead of replacing, unlike rename().
  if (Status st = env.Link(tmp, path); !st.ok()) {
    env.Unlink(tmp).IgnoreError();
    return st;
  }
  // Should the temporary name outlive a crash, it is an orphan beside a
  // complete file, never a half-written `path`.
  env.Unlink(tmp).IgnoreError();
  return env.SyncDir(DirName(path));
}

Status WriteNewFile(Env& env, const std::string& path, std::string_view data,
                    mode_t mode) {
  return WriteNew(env, path, data, mode);
}

Status MakeDirs(Env& env, const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidArgumentError("empty directory path");
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (part.empty() || part.back() == '/' || IsDirectory(env, part)) continue;
    Status st = env.MakeDir(part, mode);
    if (st.code() == Code::kAlreadyExists) continue;
    WARDEN_TRY(st);
    WARDEN_TRY(env.SyncDir(DirName(part)));
  }
  if (!IsDirectory(env, path)) return IoError("not a directory: " + path);
  return Status::Ok();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  return MakeDirs(DefaultEnv(), path, mode);
}

Result<std::string> MakeTempDirBeside(Env& env, const std::string& path,
                                      mode_t mode) {
  WARDEN_ASSIGN_OR_RETURN(std::string tmp, TempName(path));
  WARDEN_TRY(env.MakeDir(tmp, mode));
  return tmp;
}

bool Exists(Env& env, const std::string& path) { return env.Stat(path).ok(); }
bool Exists(const std::string& path) { return Exists(DefaultEnv(), path); }

bool IsDirectory(Env& env, const std::string& path) {
  // Stat does not follow links; a link to a directory counts as one, as
  // stat(2) would say.
  Result<FileInfo> info = env.Stat(path);
  if (info.ok() && info->type == FileType::kOther) {
    return env.ListDir(path).ok();
  }
  return info.ok() && info->type == FileType::kDirectory;
}
bool IsDirectory(const std::string& path) {
  return IsDirectory(DefaultEnv(), path);
}

bool IsEmptyDirectory(Env& env, const std::string& path) {
  Result<std::vector<std::string>> names = env.ListDir(path);
  return names.ok() && names->empty();
}

Status RemoveFile(Env& env, const std::string& path) {
  Status st = env.Unlink(path);
  if (st.code() == Code::kNotFound) return Status::Ok();
  return st;
}
Status RemoveFile(const std::string& path) {
  return RemoveFile(DefaultEnv(), path);
}

Status ScrubFile(Env& env, const std::string& path) {
  Result<FileInfo> info = env.Stat(path);
  if (info.status().code() == Code::kNotFound) return Status::Ok();
  WARDEN_TRY(info.status());
  if (info->type != FileType::kRegular) {
    return InvalidArgumentError(path + " is not a regular file");
  }
  OpenOptions options;
  options.write = true;
  WARDEN_ASSIGN_OR_RETURN(auto file, env.Open(path, options));
  const std::string zeros(static_cast<size_t>(info->size), '\0');
  Status wiped = zeros.empty() ? Status::Ok() : file->WriteAt(0, zeros);
  if (wiped.ok()) wiped = file->Sync();
  Status closed = file->Close();
  WARDEN_TRY(wiped);
  WARDEN_TRY(closed);
  WARDEN_TRY(RemoveFile(env, path));
  return env.SyncDir(DirName(path));
}

Status RemoveTree(Env& env, const std::string& path) {
  Result<FileInfo> info = env.Stat(path);
  if (info.status().code() == Code::kNotFound) return Status::Ok();
  WARDEN_TRY(info.status());
  if (info->type != FileType::kDirectory) return RemoveFile(env, path);
  WARDEN_ASSIGN_OR_RETURN(std::vector<std::string> names, env.ListDir(path));
  for (const auto& name : names) {
    WARDEN_TRY(RemoveTree(env, JoinPath(path, name)));
  }
  return env.RemoveDir(path);
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string DirName(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  auto slash = trimmed.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return trimmed.substr(0, slash);
}

}  // namespace warden::platform
