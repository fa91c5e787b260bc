#include "update/uboot_env.h"

extern "C" {
#include <libuboot.h>
}

#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

namespace warden::update {
namespace {

struct CtxDeleter {
  void operator()(uboot_ctx* ctx) const {
    libuboot_close(ctx);
    libuboot_exit(ctx);
  }
};
using CtxPtr = std::unique_ptr<uboot_ctx, CtxDeleter>;

Status LibError(const std::string& what, const std::string& config, int rc) {
  return IoError("libubootenv: " + what + " (" + config +
                 "): " + std::to_string(rc));
}

// An opened context, and whether it found a valid copy.
Result<std::pair<CtxPtr, bool>> OpenCtx(const std::string& config) {
  uboot_ctx* raw = nullptr;
  if (int rc = libuboot_initialize(&raw, nullptr); rc < 0) {
    return LibError("initialize", config, rc);
  }
  CtxPtr ctx(raw);
  if (int rc = libuboot_read_config(ctx.get(), config.c_str()); rc < 0) {
    return LibError("read config", config, rc);
  }
  // A negative return with the context usable means no valid copy: the
  // environment is blank and a store creates it.
  const int rc = libuboot_open(ctx.get());
  return std::make_pair(std::move(ctx), rc >= 0);
}

}  // namespace

UbootBootEnv::UbootBootEnv(std::string config) : config_(std::move(config)) {}

Result<BootVars> UbootBootEnv::Load() {
  WARDEN_ASSIGN_OR_RETURN(auto opened, OpenCtx(config_));
  if (!opened.second) return NotFoundError("no valid U-Boot environment");
  BootVars vars;
  for (void* e = libuboot_iterator(opened.first.get(), nullptr); e != nullptr;
       e = libuboot_iterator(opened.first.get(), e)) {
    const char* name = libuboot_getname(e);
    const char* value = libuboot_getvalue(e);
    if (name != nullptr) vars[name] = value != nullptr ? value : "";
  }
  if (vars.empty()) return NotFoundError("empty U-Boot environment");
  return vars;
}

Status UbootBootEnv::Store(const BootVars& vars) {
  WARDEN_ASSIGN_OR_RETURN(auto opened, OpenCtx(config_));
  uboot_ctx* ctx = opened.first.get();
  std::vector<std::string> stale;
  for (void* e = libuboot_iterator(ctx, nullptr); e != nullptr;
       e = libuboot_iterator(ctx, e)) {
    const char* name = libuboot_getname(e);
    if (name != nullptr && vars.count(name) == 0) stale.emplace_back(name);
  }
  for (const std::string& name : stale) {
    if (int rc = libuboot_set_env(ctx, name.c_str(), nullptr); rc < 0) {
      return LibError("unset " + name, config_, rc);
    }
  }
  for (const auto& [name, value] : vars) {
    if (int rc = libuboot_set_env(ctx, name.c_str(), value.c_str()); rc < 0) {
      return LibError("set " + name, config_, rc);
    }
  }
  if (int rc = libuboot_env_store(ctx); rc < 0) {
    return LibError("store", config_, rc);
  }
  return Status::Ok();
}

}  // namespace warden::update
