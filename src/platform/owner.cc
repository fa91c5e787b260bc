#include "platform/owner.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/file.h"

namespace warden::platform {

Result<uid_t> FileOwner(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return ErrnoStatus("stat", path, errno);
  }
  return st.st_uid;
}

uid_t EffectiveUser() { return ::geteuid(); }

}  // namespace warden::platform
