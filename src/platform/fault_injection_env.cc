#include "platform/fault_injection_env.h"

#include <filesystem>
#include <functional>
#include <set>

#include "platform/file.h"

namespace warden::platform {
namespace {

constexpr size_t kMaxModelledFile = 64 * 1024 * 1024;

std::string Normal(const std::string& path) {
  std::string s = std::filesystem::path(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

const char* FaultInjectionEnv::OpName(Op op) {
  switch (op) {
    case FaultInjectionEnv::Op::kCreate:
      return "create";
    case FaultInjectionEnv::Op::kWrite:
      return "write";
    case FaultInjectionEnv::Op::kSync:
      return "fsync";
    case FaultInjectionEnv::Op::kRename:
      return "rename";
    case FaultInjectionEnv::Op::kLink:
      return "link";
    case FaultInjectionEnv::Op::kUnlink:
      return "unlink";
    case FaultInjectionEnv::Op::kMkdir:
      return "mkdir";
  }
  return "operation";
}

class FaultInjectionEnv::FaultFile : public File {
 public:
  FaultFile(FaultInjectionEnv* env, std::unique_ptr<File> base,
            std::optional<int> node, std::string path)
      : env_(env),
        base_(std::move(base)),
        node_(node),
        path_(std::move(path)),
        generation_(env->generation_) {}

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    WARDEN_TRY(Check(std::nullopt, false));
    return base_->ReadAt(offset, buf, n);
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    WARDEN_TRY(Check(Op::kWrite, true));
    return base_->WriteAt(offset, data);
  }
  Status Append(std::string_view data) override {
    WARDEN_TRY(Check(Op::kWrite, true));
    return base_->Append(data);
  }
  Status Truncate(uint64_t size) override {
    WARDEN_TRY(Check(Op::kWrite, true));
    return base_->Truncate(size);
  }
  Status Sync() override {
    WARDEN_TRY(Check(Op::kSync, true));
    if (env_->sync_disk_) WARDEN_TRY(base_->Sync());
    if (node_) env_->SnapshotFile(*node_, *base_);
    return Status::Ok();
  }
  Result<uint64_t> Size() override {
    WARDEN_TRY(Check(std::nullopt, false));
    return base_->Size();
  }
  Status SetMode(mode_t mode) override {
    WARDEN_TRY(Check(std::nullopt, true));
    WARDEN_TRY(base_->SetMode(mode));
    if (node_) env_->nodes_[*node_].mode = mode;
    return Status::Ok();
  }
  // Closing always releases the descriptor, power or not.
  Status Close() override { return base_->Close(); }

 private:
  Status Check(std::optional<Op> op, bool modifies) {
    if (generation_ != env_->generation_) {
      return IoError(path_ + " was opened before the power cut");
    }
    return env_->Admit(op, modifies, path_);
  }

  FaultInjectionEnv* env_;
  std::unique_ptr<File> base_;
  std::optional<int> node_;
  std::string path_;
  int generation_;
};

FaultInjectionEnv::FaultInjectionEnv(Env& base, std::string root,
                                     bool sync_disk)
    : base_(base), root_(Normal(root)), sync_disk_(sync_disk) {
  Result<FileInfo> info = base_.Stat(root_);
  FileInfo dir;
  dir.type = FileType::kDirectory;
  dir.mode = info.ok() ? info->mode : 0700;
  root_node_ = Adopt(root_, dir);
}

FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::FailNth(Op op, int n) {
  fail_at_ = std::make_pair(op, counts_[static_cast<size_t>(op)] + n);
  fault_happened_ = false;
}

void FaultInjectionEnv::CutPowerAfter(int n) {
  cut_at_ = modifications_ + n;
  fault_happened_ = false;
}

void FaultInjectionEnv::CutPower() {
  if (power_off_) return;
  power_off_ = true;
  RebuildDurableTree();
}

void FaultInjectionEnv::Restart() {
  power_off_ = false;
  cut_at_.reset();
  fail_at_.reset();
  ++generation_;
}

Status FaultInjectionEnv::Admit(std::optional<Op> op, bool modifies,
                                const std::string& path) {
  if (power_off_) return IoError(path + ": the power is off");
  if (op) ++counts_[static_cast<size_t>(*op)];
  if (modifies) {
    ++modifications_;
    if (cut_at_ && modifications_ > *cut_at_) {
      fault_happened_ = true;
      CutPower();
      return IoError(path + ": the power went off");
    }
  }
  if (op && fail_at_ && fail_at_->first == *op &&
      counts_[static_cast<size_t>(*op)] == fail_at_->second) {
    fault_happened_ = true;
    fail_at_.reset();
    return IoError(std::string(OpName(*op)) + " " + path +
                   ": input/output error (injected)");
  }
  return Status::Ok();
}

int FaultInjectionEnv::NewNode(bool is_dir, mode_t mode) {
  int id = next_node_++;
  Node& n = nodes_[id];
  n.is_dir = is_dir;
  n.mode = mode;
  return id;
}

int FaultInjectionEnv::Adopt(const std::string& real_path,
                             const FileInfo& info) {
  int id = NewNode(info.type == FileType::kDirectory, info.mode);
  if (info.type == FileType::kDirectory) {
    Result<std::vector<std::string>> names = base_.ListDir(real_path);
    for (const auto& name : names.value_or({})) {
      std::string child = JoinPath(real_path, name);
      Result<FileInfo> child_info = base_.Stat(child);
      if (!child_info.ok() || child_info->type == FileType::kOther) continue;
      int child_id = Adopt(child, *child_info);
      nodes_[id].entries[name] = child_id;
      nodes_[id].durable_names[name] = child_id;
    }
  } else {
    nodes_[id].durable_data =
        ReadFile(base_, real_path, kMaxModelledFile).value_or("");
  }
  return id;
}

std::optional<std::pair<int, std::string>> FaultInjectionEnv::Locate(
    const std::string& path) {
  const std::string s = Normal(path);
  if (s.size() <= root_.size() + 1 || s.compare(0, root_.size(), root_) != 0 ||
      s[root_.size()] != '/') {
    return std::nullopt;
  }
  std::vector<std::string> parts;
  size_t pos = root_.size() + 1;
  while (pos <= s.size()) {
    size_t end = s.find('/', pos);
    if (end == std::string::npos) end = s.size();
    parts.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  int dir = root_node_;
  std::string walked = root_;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    walked = JoinPath(walked, parts[i]);
    auto it = nodes_[dir].entries.find(parts[i]);
    int child;
    if (it != nodes_[dir].entries.end()) {
      child = it->second;
    } else {
      // Made behind the model's back: taken as durable.
      Result<FileInfo> info = base_.Stat(walked);
      if (!info.ok() || info->type != FileType::kDirectory) return std::nullopt;
      child = Adopt(walked, *info);
      nodes_[dir].entries[parts[i]] = child;
      nodes_[dir].durable_names[parts[i]] = child;
    }
    if (!nodes_[child].is_dir) return std::nullopt;
    dir = child;
  }
  return std::make_pair(dir, parts.back());
}

std::optional<int> FaultInjectionEnv::Lookup(const std::string& path) {
  if (Normal(path) == root_) return root_node_;
  auto loc = Locate(path);
  if (!loc) return std::nullopt;
  auto& entries = nodes_[loc->first].entries;
  auto it = entries.find(loc->second);
  if (it != entries.end()) return it->second;
  Result<FileInfo> info = base_.Stat(path);
  if (!info.ok() || info->type == FileType::kOther) return std::nullopt;
  int id = Adopt(Normal(path), *info);
  entries[loc->second] = id;
  nodes_[loc->first].durable_names[loc->second] = id;
  return id;
}

void FaultInjectionEnv::SnapshotFile(int node, File& file) {
  std::string data;
  char buf[16384];
  for (;;) {
    Result<size_t> n = file.ReadAt(data.size(), buf, sizeof buf);
    if (!n.ok() || *n == 0) break;
    data.append(buf, *n);
  }
  nodes_[node].durable_data = std::move(data);
}

void FaultInjectionEnv::RebuildDurableTree() {
  // What the disk holds after the cut is exactly the durable model.
  for (const auto& name : base_.ListDir(root_).value_or({})) {
    RemoveTree(base_, JoinPath(root_, name)).IgnoreError();
  }
  std::map<int, std::string> made;  // file node -> first name made
  std::set<int> dirs_made;
  std::function<void(int, const std::string&)> build =
      [&](int dir, const std::string& path) {
        Node& d = nodes_[dir];
        std::map<std::string, int> names = d.durable_names;
        d.entries.clear();
        for (const auto& [name, id] : names) {
          const std::string p = JoinPath(path, name);
          Node& n = nodes_[id];
          if (n.is_dir) {
            // A directory has one name; a second durable one (a rename
            // across directories synced on one side only) is dropped.
            if (!dirs_made.insert(id).second) continue;
            if (!base_.MakeDir(p, 0700).ok()) continue;
            d.entries[name] = id;
            build(id, p);
            base_.SetMode(p, n.mode).IgnoreError();
            continue;
          }
          d.entries[name] = id;
          if (auto first = made.find(id); first != made.end()) {
            base_.Link(first->second, p).IgnoreError();
            continue;
          }
          OpenOptions options;
          options.write = true;
          options.create = OpenOptions::Create::kExclusive;
          options.mode = 0600;
          auto file = base_.Open(p, options);
          if (!file.ok()) continue;
          (*file)->Append(n.durable_data).IgnoreError();
          (*file)->SetMode(n.mode).IgnoreError();
          (*file)->Close().IgnoreError();
          made[id] = p;
        }
        d.durable_names = d.entries;
      };
  build(root_node_, root_);
}

Result<std::unique_ptr<File>> FaultInjectionEnv::Open(
    const std::string& path, const OpenOptions& options) {
  const bool exists = base_.Stat(path).ok();
  const bool creates = options.create != OpenOptions::Create::kNever && !exists;
  const bool truncates =
      options.create == OpenOptions::Create::kTruncate && exists;
  std::optional<Op> op;
  if (creates) op = Op::kCreate;
  if (truncates) op = Op::kWrite;
  WARDEN_TRY(Admit(op, creates || truncates, path));
  std::optional<int> node;
  if (!creates) node = Lookup(path);
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                          base_.Open(path, options));
  if (creates) {
    if (auto loc = Locate(path)) {
      Result<FileInfo> info = base_.Stat(path);
      int id = NewNode(false, info.ok() ? info->mode : options.mode);
      nodes_[loc->first].entries[loc->second] = id;
      node = id;
    }
  }
  return std::unique_ptr<File>(
      new FaultFile(this, std::move(file), node, Normal(path)));
}

Status FaultInjectionEnv::Rename(const std::string& from,
                                 const std::string& to) {
  WARDEN_TRY(Admit(Op::kRename, true, from));
  auto src = Locate(from);
  std::optional<int> id = Lookup(from);
  WARDEN_TRY(base_.Rename(from, to));
  if (src && id) nodes_[src->first].entries.erase(src->second);
  if (auto dst = Locate(to)) {
    if (!id) {
      // Moved in from outside the model: its data counts as durable, its
      // new name does not yet.
      Result<FileInfo> info = base_.Stat(to);
      if (!info.ok()) return Status::Ok();
      id = Adopt(Normal(to), *info);
    }
    nodes_[dst->first].entries[dst->second] = *id;
  }
  return Status::Ok();
}

Status FaultInjectionEnv::Link(const std::string& from, const std::string& to) {
  WARDEN_TRY(Admit(Op::kLink, true, to));
  std::optional<int> id = Lookup(from);
  WARDEN_TRY(base_.Link(from, to));
  if (auto dst = Locate(to); dst && id) {
    nodes_[dst->first].entries[dst->second] = *id;
  }
  return Status::Ok();
}

Status FaultInjectionEnv::Unlink(const std::string& path) {
  WARDEN_TRY(Admit(Op::kUnlink, true, path));
  Lookup(path);  // so that the model knows what comes back after a cut
  WARDEN_TRY(base_.Unlink(path));
  if (auto loc = Locate(path)) nodes_[loc->first].entries.erase(loc->second);
  return Status::Ok();
}

Status FaultInjectionEnv::MakeDir(const std::string& path, mode_t mode) {
  WARDEN_TRY(Admit(Op::kMkdir, true, path));
  auto loc = Locate(path);
  WARDEN_TRY(base_.MakeDir(path, mode));
  if (loc) {
    Result<FileInfo> info = base_.Stat(path);
    int id = NewNode(true, info.ok() ? info->mode : mode);
    nodes_[loc->first].entries[loc->second] = id;
  }
  return Status::Ok();
}

Status FaultInjectionEnv::RemoveDir(const std::string& path) {
  WARDEN_TRY(Admit(Op::kUnlink, true, path));
  Lookup(path);
  WARDEN_TRY(base_.RemoveDir(path));
  if (auto loc = Locate(path)) nodes_[loc->first].entries.erase(loc->second);
  return Status::Ok();
}

Status FaultInjectionEnv::SyncDir(const std::string& path) {
  WARDEN_TRY(Admit(Op::kSync, true, path));
  if (sync_disk_) {
    WARDEN_TRY(base_.SyncDir(path));
  } else {
    WARDEN_ASSIGN_OR_RETURN(FileInfo info, base_.Stat(path));
    if (info.type != FileType::kDirectory) {
      return InvalidArgumentError("not a directory: " + path);
    }
  }
  if (std::optional<int> id = Lookup(path); id && nodes_[*id].is_dir) {
    nodes_[*id].durable_names = nodes_[*id].entries;
  }
  return Status::Ok();
}

Status FaultInjectionEnv::SetMode(const std::string& path, mode_t mode) {
  WARDEN_TRY(Admit(std::nullopt, true, path));
  WARDEN_TRY(base_.SetMode(path, mode));
  if (std::optional<int> id = Lookup(path)) nodes_[*id].mode = mode;
  return Status::Ok();
}

Status FaultInjectionEnv::SetOwner(const std::string& path, uid_t uid,
                                   gid_t gid) {
  WARDEN_TRY(Admit(std::nullopt, true, path));
  return base_.SetOwner(path, uid, gid);
}

Result<std::unique_ptr<FileLock>> FaultInjectionEnv::Lock(
    const std::string& path, bool wait) {
  const bool exists = base_.Stat(path).ok();
  WARDEN_TRY(Admit(exists ? std::nullopt : std::optional<Op>(Op::kCreate),
                   !exists, path));
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock,
                          base_.Lock(path, wait));
  if (!exists) {
    if (auto loc = Locate(path)) {
      nodes_[loc->first].entries[loc->second] = NewNode(false, 0600);
    }
  }
  return lock;
}

Result<FileInfo> FaultInjectionEnv::Stat(const std::string& path) {
  if (power_off_) return IoError(path + ": the power is off");
  return base_.Stat(path);
}

Result<std::vector<std::string>> FaultInjectionEnv::ListDir(
    const std::string& path) {
  if (power_off_) return IoError(path + ": the power is off");
  return base_.ListDir(path);
}

}  // namespace warden::platform
