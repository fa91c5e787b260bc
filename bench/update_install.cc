// Verify-and-install of one image into the inactive slot of a simulated
// device (file-backed boot environment), as the updater does it: streamed
// in 16 KiB chunks (what the HTTPS client delivers), hashed with SHA-256
// while written, synced at every checkpoint, then marked for a trial boot.
//
//   update_install IMAGE SHA256_HEX WORK_DIR [CHECKPOINT_MIB]
//
// Prints one JSON line: seconds (Offer to MarkForTrial) and the peak RSS
// (VmHWM) of the process in KiB. bench/update_bench.py runs it against
// sha256sum and dd of the same image.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "platform/env.h"
#include "platform/file.h"
#include "update/boot_control.h"
#include "update/installer.h"

using namespace warden;

namespace {

long PeakRssKib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

int Fail(const Status& st) {
  std::fprintf(stderr, "update_install: %s\n", st.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr,
                 "usage: update_install IMAGE SHA256_HEX WORK_DIR "
                 "[CHECKPOINT_MIB]\n");
    return 2;
  }
  const std::string image = argv[1], sha256 = argv[2], work = argv[3];
  platform::Env& env = platform::DefaultEnv();
  const std::string boot_dir = platform::JoinPath(work, "boot");
  const std::string state_dir = platform::JoinPath(work, "state");
  if (Status st = platform::MakeDirs(env, boot_dir, 0700); !st.ok()) {
    return Fail(st);
  }
  if (Status st = platform::MakeDirs(env, state_dir, 0700); !st.ok()) {
    return Fail(st);
  }
  update::FileBootEnv store(env, boot_dir);
  if (Status st = platform::WriteFileAtomic(
          env, store.SlotPath(update::Slot::kA), "factory image", 0600);
      !st.ok()) {
    return Fail(st);
  }
  if (Status st = store.Store(update::FactoryBootVars(3)); !st.ok()) {
    return Fail(st);
  }
  update::BootControl boot(store, update::Slot::kA);
  update::InstallerOptions o;
  o.state_dir = state_dir;
  o.slot_paths = {store.SlotPath(update::Slot::kA),
                  store.SlotPath(update::Slot::kB)};
  o.hardware_model = "bench";
  o.factory_version = "1.0.0";
  if (argc == 5) o.checkpoint_bytes = std::stoull(argv[4]) << 20;
  auto installer = update::Installer::Open(env, boot, o, nullptr);
  if (!installer.ok()) return Fail(installer.status());

  auto source = env.Open(image, platform::OpenOptions{});
  if (!source.ok()) return Fail(source.status());
  auto size = (*source)->Size();
  if (!size.ok()) return Fail(size.status());

  const auto start = std::chrono::steady_clock::now();
  update::Target t;
  t.name = "bench.img";
  t.length = *size;
  t.sha256_hex = sha256;
  t.version = "1.1.0";
  t.hardware_model = "bench";
  if (Status st = (*installer)->Offer(t); !st.ok()) return Fail(st);
  auto writer = (*installer)->OpenSlotWriter();
  if (!writer.ok()) return Fail(writer.status());
  static char buf[16 * 1024];
  for (uint64_t off = 0; off < *size;) {
    auto n = (*source)->ReadAt(off, buf, sizeof buf);
    if (!n.ok()) return Fail(n.status());
    if (*n == 0) break;
    Status st =
        (*writer)->Write(ByteView(reinterpret_cast<const uint8_t*>(buf), *n));
    if (!st.ok()) return Fail(st);
    off += *n;
  }
  if (Status st = (*installer)->FinishDownload(**writer); !st.ok()) {
    return Fail(st);
  }
  if (Status st = (*installer)->MarkForTrial(); !st.ok()) return Fail(st);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("%s\n",
              fmt::format("{{\"seconds\": {:.3f}, \"peak_rss_kib\": {}, "
                          "\"bytes\": {}}}",
                          seconds, PeakRssKib(), *size)
                  .c_str());
  return 0;
}
