#include "db/vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "platform/file.h"

namespace warden::db::internal {
namespace {

thread_local std::string t_last_io_error;

// Keeps the Env's reason for SQLite's caller and returns SQLite's code.
int Fail(const Status& status, int code) {
  t_last_io_error = status.ToString();
  return code;
}

struct Registration {
  sqlite3_vfs vfs{};
  sqlite3_vfs* base = nullptr;  // the default VFS, for time and names
  platform::Env* env = nullptr;
  std::string name;
  int users = 0;
};

Registration& Reg(sqlite3_vfs* vfs) {
  return *static_cast<Registration*>(vfs->pAppData);
}

struct OpenFile {
  platform::Env* env = nullptr;
  std::string path;
  std::unique_ptr<platform::File> file;  // null for a file in memory
  std::string memory;
  bool main_db = false;
  // A file this connection created: its name is made durable (the
  // directory synced) with its first sync, as the unix VFS does.
  bool sync_dir = false;
  int lock_level = SQLITE_LOCK_NONE;
  std::unique_ptr<platform::FileLock> lock;
};

// What SQLite allocates (szOsFile bytes) for each open file: plain data
// with the C++ state behind a pointer.
struct VfsFile {
  sqlite3_file base;
  OpenFile* impl;
};

OpenFile& Impl(sqlite3_file* f) { return *reinterpret_cast<VfsFile*>(f)->impl; }

int Close(sqlite3_file* f) {
  VfsFile* vf = reinterpret_cast<VfsFile*>(f);
  int rc = SQLITE_OK;
  if (vf->impl->file) {
    Status st = vf->impl->file->Close();
    if (!st.ok()) rc = Fail(st, SQLITE_IOERR_CLOSE);
  }
  delete vf->impl;
  vf->impl = nullptr;
  return rc;
}

int Read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  OpenFile& o = Impl(f);
  char* out = static_cast<char*>(buf);
  const size_t want = static_cast<size_t>(amount);
  size_t got = 0;
  if (!o.file) {
    if (static_cast<uint64_t>(offset) < o.memory.size()) {
      got = std::min(want, o.memory.size() - static_cast<size_t>(offset));
      std::memcpy(out, o.memory.data() + offset, got);
    }
  } else {
    Result<size_t> r = o.file->ReadAt(static_cast<uint64_t>(offset), out, want);
    if (!r.ok()) return Fail(r.status(), SQLITE_IOERR_READ);
    got = *r;
  }
  if (got < want) {
    // SQLite requires the rest zeroed on a short read.
    std::memset(out + got, 0, want - got);
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int Write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  OpenFile& o = Impl(f);
  std::string_view data(static_cast<const char*>(buf),
                        static_cast<size_t>(amount));
  if (!o.file) {
    size_t end = static_cast<size_t>(offset) + data.size();
    if (o.memory.size() < end) o.memory.resize(end);
    std::memcpy(o.memory.data() + offset, data.data(), data.size());
    return SQLITE_OK;
  }
  Status st = o.file->WriteAt(static_cast<uint64_t>(offset), data);
  if (!st.ok()) return Fail(st, SQLITE_IOERR_WRITE);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  OpenFile& o = Impl(f);
  if (!o.file) {
    o.memory.resize(static_cast<size_t>(size));
    return SQLITE_OK;
  }
  Status st = o.file->Truncate(static_cast<uint64_t>(size));
  if (!st.ok()) return Fail(st, SQLITE_IOERR_TRUNCATE);
  return SQLITE_OK;
}

int Sync(sqlite3_file* f, int /*flags*/) {
  OpenFile& o = Impl(f);
  if (!o.file) return SQLITE_OK;
  Status st = o.file->Sync();
  if (!st.ok()) return Fail(st, SQLITE_IOERR_FSYNC);
  if (o.sync_dir) {
    st = o.env->SyncDir(platform::DirName(o.path));
    if (!st.ok()) return Fail(st, SQLITE_IOERR_DIR_FSYNC);
    o.sync_dir = false;
  }
  return SQLITE_OK;
}

int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  OpenFile& o = Impl(f);
  if (!o.file) {
    *size = static_cast<sqlite3_int64>(o.memory.size());
    return SQLITE_OK;
  }
  Result<uint64_t> r = o.file->Size();
  if (!r.ok()) return Fail(r.status(), SQLITE_IOERR_FSTAT);
  *size = static_cast<sqlite3_int64>(*r);
  return SQLITE_OK;
}

// Any lock level is the one exclusive flock: in exclusive locking mode the
// connection keeps it until it closes.
int Lock(sqlite3_file* f, int level) {
  OpenFile& o = Impl(f);
  if (o.main_db && !o.lock && level > SQLITE_LOCK_NONE) {
    auto lock = o.env->Lock(o.path, /*wait=*/false);
    if (!lock.ok()) {
      if (lock.status().code() == Code::kUnavailable) return SQLITE_BUSY;
      return Fail(lock.status(), SQLITE_IOERR_LOCK);
    }
    o.lock = std::move(*lock);
  }
  o.lock_level = std::max(o.lock_level, level);
  return SQLITE_OK;
}

int Unlock(sqlite3_file* f, int level) {
  OpenFile& o = Impl(f);
  o.lock_level = level;
  if (level == SQLITE_LOCK_NONE) o.lock.reset();
  return SQLITE_OK;
}

int CheckReservedLock(sqlite3_file* f, int* reserved) {
  OpenFile& o = Impl(f);
  if (o.lock_level >= SQLITE_LOCK_RESERVED) {
    *reserved = 1;
  } else if (o.lock || !o.main_db) {
    *reserved = 0;
  } else {
    auto probe = o.env->Lock(o.path, /*wait=*/false);
    *reserved = !probe.ok() && probe.status().code() == Code::kUnavailable;
  }
  return SQLITE_OK;
}

int FileControl(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }

int SectorSize(sqlite3_file*) { return 4096; }

// As the unix VFS says by default: a write never damages bytes beside it.
int DeviceCharacteristics(sqlite3_file*) {
  return SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

const sqlite3_io_methods kIoMethods = {
    1,  // no shared memory, no memory mapping
    Close,       Read,       Write,
    Truncate,    Sync,       FileSize,
    Lock,        Unlock,     CheckReservedLock,
    FileControl, SectorSize, DeviceCharacteristics,
    nullptr,     nullptr,    nullptr,
    nullptr,     nullptr,    nullptr,
};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags,
         int* out_flags) {
  VfsFile* vf = reinterpret_cast<VfsFile*>(f);
  vf->base.pMethods = nullptr;
  vf->impl = nullptr;
  auto impl = std::make_unique<OpenFile>();
  impl->env = Reg(vfs).env;
  // Temporary files never need to survive: keep them in memory.
  if (name != nullptr && !(flags & SQLITE_OPEN_DELETEONCLOSE)) {
    impl->path = name;
    impl->main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    platform::OpenOptions options;
    options.write = (flags & SQLITE_OPEN_READWRITE) != 0;
    options.mode = 0600;
    bool existed = true;
    if (flags & SQLITE_OPEN_CREATE) {
      existed = impl->env->Stat(impl->path).ok();
      options.create = (flags & SQLITE_OPEN_EXCLUSIVE)
                           ? platform::OpenOptions::Create::kExclusive
                           : platform::OpenOptions::Create::kIfMissing;
    }
    auto file = impl->env->Open(impl->path, options);
    if (!file.ok()) return Fail(file.status(), SQLITE_CANTOPEN);
    impl->file = std::move(*file);
    impl->sync_dir = !existed;
  }
  vf->impl = impl.release();
  vf->base.pMethods = &kIoMethods;
  if (out_flags != nullptr) *out_flags = flags;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  platform::Env& env = *Reg(vfs).env;
  Status st = env.Unlink(name);
  if (st.code() == Code::kNotFound) return SQLITE_IOERR_DELETE_NOENT;
  if (!st.ok()) return Fail(st, SQLITE_IOERR_DELETE);
  if (sync_dir) {
    st = env.SyncDir(platform::DirName(name));
    if (!st.ok()) return Fail(st, SQLITE_IOERR_DIR_FSYNC);
  }
  return SQLITE_OK;
}

int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  auto info = Reg(vfs).env->Stat(name);
  if (!info.ok()) {
    if (info.status().code() != Code::kNotFound) {
      return Fail(info.status(), SQLITE_IOERR_ACCESS);
    }
    *out = 0;
    return SQLITE_OK;
  }
  // As the unix VFS: an empty journal counts as no journal.
  if (flags == SQLITE_ACCESS_EXISTS) {
    *out = info->type != platform::FileType::kRegular || info->size > 0;
  } else {
    *out = 1;
  }
  return SQLITE_OK;
}

int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  sqlite3_vfs* base = Reg(vfs).base;
  return base->xFullPathname(base, name, n, out);
}

void* DlOpen(sqlite3_vfs*, const char*) { return nullptr; }
void DlError(sqlite3_vfs*, int n, char* out) {
  sqlite3_snprintf(n, out, "extensions are not loaded");
}
void (*DlSym(sqlite3_vfs*, void*, const char*))(void) { return nullptr; }
void DlClose(sqlite3_vfs*, void*) {}

int Randomness(sqlite3_vfs* vfs, int n, char* out) {
  sqlite3_vfs* base = Reg(vfs).base;
  return base->xRandomness(base, n, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) {
  sqlite3_vfs* base = Reg(vfs).base;
  return base->xSleep(base, micros);
}
int CurrentTime(sqlite3_vfs* vfs, double* out) {
  sqlite3_vfs* base = Reg(vfs).base;
  return base->xCurrentTime(base, out);
}
int GetLastError(sqlite3_vfs*, int, char*) { return 0; }
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  sqlite3_vfs* base = Reg(vfs).base;
  return base->xCurrentTimeInt64(base, out);
}

std::mutex& RegistryMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}
std::map<platform::Env*, std::unique_ptr<Registration>>& Registry() {
  static auto* registry =
      new std::map<platform::Env*, std::unique_ptr<Registration>>();
  return *registry;
}

}  // namespace

Result<std::string> AcquireEnvVfs(platform::Env& env) {
  std::lock_guard<std::mutex> hold(RegistryMutex());
  auto& slot = Registry()[&env];
  if (!slot) {
    auto reg = std::make_unique<Registration>();
    reg->base = sqlite3_vfs_find(nullptr);
    if (reg->base == nullptr || reg->base->iVersion < 2) {
      Registry().erase(&env);
      return InternalError("SQLite has no usable default VFS");
    }
    reg->env = &env;
    char name[48];
    std::snprintf(name, sizeof name, "warden-env-%p", static_cast<void*>(&env));
    reg->name = name;
    sqlite3_vfs& v = reg->vfs;
    v.iVersion = 2;
    v.szOsFile = sizeof(VfsFile);
    v.mxPathname = reg->base->mxPathname;
    v.zName = reg->name.c_str();
    v.pAppData = reg.get();
    v.xOpen = Open;
    v.xDelete = Delete;
    v.xAccess = Access;
    v.xFullPathname = FullPathname;
    v.xDlOpen = DlOpen;
    v.xDlError = DlError;
    v.xDlSym = DlSym;
    v.xDlClose = DlClose;
    v.xRandomness = Randomness;
    v.xSleep = Sleep;
    v.xCurrentTime = CurrentTime;
    v.xGetLastError = GetLastError;
    v.xCurrentTimeInt64 = CurrentTimeInt64;
    int rc = sqlite3_vfs_register(&v, /*makeDflt=*/0);
    if (rc != SQLITE_OK) {
      Registry().erase(&env);
      return InternalError(std::string("cannot register the SQLite VFS: ") +
                           sqlite3_errstr(rc));
    }
    slot = std::move(reg);
  }
  ++slot->users;
  return slot->name;
}

void ReleaseEnvVfs(platform::Env& env) {
  std::lock_guard<std::mutex> hold(RegistryMutex());
  auto it = Registry().find(&env);
  if (it == Registry().end()) return;
  if (--it->second->users > 0) return;
  sqlite3_vfs_unregister(&it->second->vfs);
  Registry().erase(it);
}

std::string TakeLastIoError() {
  std::string out;
  out.swap(t_last_io_error);
  return out;
}

}  // namespace warden::db::internal
