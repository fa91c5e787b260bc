// Writes the TUF repositories test_tuf.py serves to `warden tuf`, all from
// one set of keys (src/tuf/testing/repository.h):
//   DIR/v1/        root 1, target firmware.bin ("firmware one")
//   DIR/v2/        root 2 (timestamp key rotated), firmware.bin ("firmware
//                  two"); a superset of v1, as a repository grows
//   DIR/tampered/  v2 with the bytes of firmware.bin swapped
//   DIR/v3/        v2 with a new timestamp and snapshot
//   DIR/rollback/  v3 serving v2's (validly signed) timestamp again
// Each has metadata/ and targets/.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tuf/testing/repository.h"

namespace {

using warden::tuf::testing::Repository;
using Files = std::map<std::string, std::string>;

void Write(const std::string& dir, const Files& files) {
  for (const auto& [name, bytes] : files) {
    std::filesystem::path p = std::filesystem::path(dir) / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  Repository repo(std::chrono::system_clock::now());
  repo.AddTarget("targets", "firmware.bin", "firmware one");
  repo.Publish({"targets"});
  const Files v1 = repo.files;
  Write(dir + "/v1", v1);

  std::vector<warden::tuf::testing::Signer> old = repo.signers["root"];
  repo.RotateKey("timestamp");
  ++repo.root.version;
  repo.PublishRoot(old);
  repo.AddTarget("targets", "firmware.bin", "firmware two");
  repo.Publish({"targets"});
  Write(dir + "/v2", repo.files);

  Files tampered = repo.files;
  tampered["targets/firmware.bin"] = "firmware TWO";
  Write(dir + "/tampered", tampered);

  const Files v2 = repo.files;
  repo.Publish();
  Write(dir + "/v3", repo.files);
  Files rollback = repo.files;
  rollback["metadata/timestamp.json"] = v2.at("metadata/timestamp.json");
  Write(dir + "/rollback", rollback);
  return 0;
}
