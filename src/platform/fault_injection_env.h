// Test only (target warden_platform_testing): an Env that fails chosen
// operations and simulates power cuts, after leveldb's
// fault_injection_test.
//
// It passes every operation to a base Env (normally DefaultEnv) and keeps a
// model of what is durable under one root directory:
//   - a file's data is durable as of its last File::Sync; everything
//     written since (appends, overwrites in place, truncation) is lost at a
//     power cut, and overwritten bytes get their synced values back;
//   - a name (create, rename, link, unlink, mkdir, rmdir) is durable once
//     its directory is synced with SyncDir; until then a power cut undoes
//     it, so a rename not followed by a directory sync leaves the old file
//     under the old name;
//   - the root and what it held when the Env was made count as durable.
// A power cut rewrites the real tree under the root to the durable state
// and then refuses every operation, as a machine without power would,
// until Restart(); files opened before the cut stay dead after it.
// Permission bits are taken as durable at once. Paths outside the root are
// passed through (and faulted), but not modelled. Since the model, not the
// disk, decides what survives, syncs are not passed to the disk (which
// keeps tests fast) unless asked for.
//
// Not thread-safe.
#ifndef WARDEN_PLATFORM_FAULT_INJECTION_ENV_H_
#define WARDEN_PLATFORM_FAULT_INJECTION_ENV_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "platform/env.h"

namespace warden::platform {

class FaultInjectionEnv : public Env {
 public:
  // Kinds of operations that can be made to fail.
  enum class Op {
    kCreate,  // Open that creates a file (and Lock that creates one)
    kWrite,   // WriteAt, Append, Truncate
    kSync,    // File::Sync and SyncDir
    kRename,
    kLink,
    kUnlink,  // Unlink and RemoveDir
    kMkdir,
  };
  static constexpr size_t kOpKinds = 7;
  static constexpr Op kAllOps[kOpKinds] = {Op::kCreate, Op::kWrite, Op::kSync,
                                           Op::kRename, Op::kLink,  Op::kUnlink,
                                           Op::kMkdir};
  // "create", "write", "fsync" ...
  static const char* OpName(Op op);

  // `root` must be an existing directory, given as an absolute path.
  FaultInjectionEnv(Env& base, std::string root, bool sync_disk = false);
  ~FaultInjectionEnv() override;

  // The `n`th operation of kind `op` from now (n = 1 is the next) fails
  // with kIo, as EIO would, and does nothing.
  void FailNth(Op op, int n);
  // Cuts the power when `n` more modifying operations have happened: the
  // one after them (n = 0: the next) does not happen. Modifying operations
  // are all the kinds above plus SetMode and SetOwner.
  void CutPowerAfter(int n);
  // Cuts the power now.
  void CutPower();
  // The machine restarts: operations are accepted again.
  void Restart();

  bool power_is_off() const { return power_off_; }
  // Whether the fault asked for with FailNth, or the cut asked for with
  // CutPowerAfter, has happened.
  bool fault_happened() const { return fault_happened_; }
  // Operations of a kind attempted so far, and modifying operations.
  int count(Op op) const { return counts_[static_cast<size_t>(op)]; }
  int modifications() const { return modifications_; }

  Result<std::unique_ptr<File>> Open(const std::string& path,
                                     const OpenOptions& options) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status Unlink(const std::string& path) override;
  Status MakeDir(const std::string& path, mode_t mode) override;
  Status RemoveDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Status SetMode(const std::string& path, mode_t mode) override;
  Status SetOwner(const std::string& path, uid_t uid, gid_t gid) override;
  Result<std::unique_ptr<FileLock>> Lock(const std::string& path,
                                         bool wait) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;

 private:
  class FaultFile;
  friend class FaultFile;

  struct Node {
    bool is_dir = false;
    mode_t mode = 0;
    std::string durable_data;                  // files
    std::map<std::string, int> entries;        // directories, now
    std::map<std::string, int> durable_names;  // directories, as synced
  };

  // Counts an attempt at `op` on `path` (kNone: not faultable) and decides
  // whether it may go ahead: not when the power is off, the power goes off
  // now, or the operation is to fail.
  Status Admit(std::optional<Op> op, bool modifies, const std::string& path);
  // Where `path` is in the model: its directory's node and its name, or
  // nullopt when it is outside the root (or is the root).
  std::optional<std::pair<int, std::string>> Locate(const std::string& path);
  // The node named by `path`, taking in what exists on disk but not yet in
  // the model as durable.
  std::optional<int> Lookup(const std::string& path);
  int Adopt(const std::string& real_path, const FileInfo& info);
  int NewNode(bool is_dir, mode_t mode);
  void SnapshotFile(int node, File& file);
  void RebuildDurableTree();

  Env& base_;
  std::string root_;
  bool sync_disk_;
  int root_node_ = 0;
  std::map<int, Node> nodes_;
  int next_node_ = 1;

  std::array<int, kOpKinds> counts_{};
  std::optional<std::pair<Op, int>> fail_at_;  // kind and count that fails
  std::optional<int> cut_at_;                  // modification that cuts
  int modifications_ = 0;
  bool fault_happened_ = false;
  bool power_off_ = false;
  int generation_ = 0;  // moves at each restart; older files are dead
};

}  // namespace warden::platform

#endif  // WARDEN_PLATFORM_FAULT_INJECTION_ENV_H_
