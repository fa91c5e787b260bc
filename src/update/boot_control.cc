#include "update/boot_control.h"

#include <charconv>

#include "platform/file.h"

namespace warden::update {
namespace {

constexpr size_t kMaxEnvBytes = 4096;
constexpr char kEnvFile[] = "bootenv";

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// The variable, or nullptr when it is missing.
const std::string* Find(const BootVars& vars, const std::string& key) {
  auto it = vars.find(key);
  return it == vars.end() ? nullptr : &it->second;
}

Status Missing(const std::string& key) {
  return DataLossError("boot environment: no valid " + key);
}

Result<int> GetInt(const BootVars& vars, const std::string& key) {
  const std::string* text = Find(vars, key);
  if (text == nullptr) return Missing(key);
  int n = 0;
  auto [end, ec] =
      std::from_chars(text->data(), text->data() + text->size(), n);
  if (text->empty() || ec != std::errc() ||
      end != text->data() + text->size() || n < 0) {
    return Missing(key);
  }
  return n;
}

Result<bool> GetFlag(const BootVars& vars, const std::string& key) {
  const std::string* text = Find(vars, key);
  if (text == nullptr || (*text != "0" && *text != "1")) return Missing(key);
  return *text == "1";
}

Result<Slot> GetSlot(const BootVars& vars, const std::string& key) {
  const std::string* text = Find(vars, key);
  if (text == nullptr) return Missing(key);
  return ParseSlot(*text);
}

struct Parsed {
  BootVars vars;
  Slot committed;
  Slot slot;
  bool upgrade_available;
  int bootcount;
  int bootlimit;
};

Result<Parsed> ParseVars(BootVars vars) {
  Parsed p;
  WARDEN_ASSIGN_OR_RETURN(p.committed, GetSlot(vars, "warden_committed"));
  WARDEN_ASSIGN_OR_RETURN(p.slot, GetSlot(vars, "warden_slot"));
  WARDEN_ASSIGN_OR_RETURN(p.upgrade_available,
                          GetFlag(vars, "upgrade_available"));
  WARDEN_ASSIGN_OR_RETURN(p.bootcount, GetInt(vars, "bootcount"));
  WARDEN_ASSIGN_OR_RETURN(p.bootlimit, GetInt(vars, "bootlimit"));
  p.vars = std::move(vars);
  return p;
}

Result<Parsed> LoadParsed(BootEnvStore& store) {
  WARDEN_ASSIGN_OR_RETURN(BootVars vars, store.Load());
  return ParseVars(std::move(vars));
}

}  // namespace

const char* SlotName(Slot s) { return s == Slot::kA ? "A" : "B"; }

Result<Slot> ParseSlot(std::string_view name) {
  if (name == "A") return Slot::kA;
  if (name == "B") return Slot::kB;
  return DataLossError("boot environment: bad slot name");
}

Result<BootVars> ParseBootVars(std::string_view text) {
  if (text.size() > kMaxEnvBytes) {
    return DataLossError("boot environment: too large");
  }
  BootVars vars;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return DataLossError("boot environment: last line unterminated");
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    size_t eq = line.find('=');
    if (eq == 0 || eq == std::string_view::npos) {
      return DataLossError("boot environment: a line is not key=value");
    }
    std::string_view key = line.substr(0, eq);
    std::string_view value = line.substr(eq + 1);
    for (char c : key) {
      if (!IsKeyChar(c)) return DataLossError("boot environment: bad key");
    }
    for (char c : value) {
      if (c < 0x20 || c > 0x7e) {
        return DataLossError("boot environment: bad value");
      }
    }
    if (!vars.emplace(std::string(key), std::string(value)).second) {
      return DataLossError("boot environment: repeated key");
    }
  }
  return vars;
}

std::string FormatBootVars(const BootVars& vars) {
  std::string out;
  for (const auto& [k, v] : vars) out += k + "=" + v + "\n";
  return out;
}

BootVars FactoryBootVars(int bootlimit) {
  return {{"warden_committed", "A"},
          {"warden_slot", "A"},
          {"upgrade_available", "0"},
          {"bootcount", "0"},
          {"bootlimit", std::to_string(bootlimit)}};
}

FileBootEnv::FileBootEnv(platform::Env& env, std::string dir)
    : env_(env), dir_(std::move(dir)) {}

Result<BootVars> FileBootEnv::Load() {
  WARDEN_ASSIGN_OR_RETURN(
      std::string text,
      platform::ReadFile(env_, platform::JoinPath(dir_, kEnvFile),
                         kMaxEnvBytes));
  return ParseBootVars(text);
}

Status FileBootEnv::Store(const BootVars& vars) {
  return platform::WriteFileAtomic(env_, platform::JoinPath(dir_, kEnvFile),
                                   FormatBootVars(vars), 0600);
}

std::string FileBootEnv::SlotPath(Slot s) const {
  return platform::JoinPath(dir_, s == Slot::kA ? "slot_a.img" : "slot_b.img");
}

BootControl::BootControl(BootEnvStore& store, Slot booted)
    : store_(store), booted_(booted) {}

Result<BootStatus> BootControl::Read() {
  WARDEN_ASSIGN_OR_RETURN(Parsed p, LoadParsed(store_));
  BootStatus s;
  s.booted = booted_;
  s.committed = p.committed;
  if (p.upgrade_available) s.trial = p.slot;
  s.bootcount = p.bootcount;
  s.bootlimit = p.bootlimit;
  s.fell_back = !p.upgrade_available && p.bootcount > p.bootlimit;
  return s;
}

Status BootControl::MarkTrial(Slot slot) {
  WARDEN_ASSIGN_OR_RETURN(Parsed p, LoadParsed(store_));
  if (slot == p.committed || booted_ != p.committed) {
    return FailedPreconditionError(
        "boot control: a trial must be of the inactive slot, from the "
        "committed one");
  }
  p.vars["warden_slot"] = SlotName(slot);
  p.vars["upgrade_available"] = "1";
  p.vars["bootcount"] = "0";
  return store_.Store(p.vars);
}

Status BootControl::CommitBooted() {
  WARDEN_ASSIGN_OR_RETURN(Parsed p, LoadParsed(store_));
  p.vars["warden_committed"] = SlotName(booted_);
  p.vars["warden_slot"] = SlotName(booted_);
  p.vars["upgrade_available"] = "0";
  p.vars["bootcount"] = "0";
  return store_.Store(p.vars);
}

Status BootControl::CancelTrial() {
  WARDEN_ASSIGN_OR_RETURN(Parsed p, LoadParsed(store_));
  p.vars["warden_slot"] = SlotName(p.committed);
  p.vars["upgrade_available"] = "0";
  p.vars["bootcount"] = "0";
  return store_.Store(p.vars);
}

Result<BootDecision> SimulateBoot(BootEnvStore& store) {
  WARDEN_ASSIGN_OR_RETURN(Parsed p, LoadParsed(store));
  BootDecision d;
  if (!p.upgrade_available) {
    d.slot = p.committed;
    return d;
  }
  p.vars["bootcount"] = std::to_string(p.bootcount + 1);
  if (p.bootcount + 1 > p.bootlimit) {
    p.vars["warden_slot"] = SlotName(p.committed);
    p.vars["upgrade_available"] = "0";
    WARDEN_TRY(store.Store(p.vars));
    d.slot = p.committed;
    d.fell_back = true;
    return d;
  }
  WARDEN_TRY(store.Store(p.vars));
  d.slot = p.slot;
  d.trial = true;
  return d;
}

}  // namespace warden::update
