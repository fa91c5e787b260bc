// Writes the update repositories test_update.py serves to wardend, all
// from one set of keys (src/tuf/testing/repository.h), in the layout
// `warden release publish` writes (docs/PROTOCOLS.md, "Update repository"):
//
//   update_repo_tool OUT MODEL VERSION=IMAGE [VERSION=IMAGE ...]
//
//   OUT/r1/, OUT/r2/, ...     the repository after each release, in order;
//                             the first is the factory release
//   OUT/root.json             the first root, the device's initial trust
//   OUT/factory.targets.json  the factory release's signed targets
// Every image carries support_until 2031-12-31.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "platform/file.h"
#include "tuf/testing/repository.h"

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s OUT MODEL VERSION=IMAGE...\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  const std::string model = argv[2];
  warden::tuf::testing::Repository repo(std::chrono::system_clock::now(),
                                        /*consistent_snapshot=*/true);
  for (int i = 3; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "not VERSION=IMAGE: %s\n", argv[i]);
      return 2;
    }
    repo.targets.targets.clear();
    repo.AddImage(model, arg.substr(0, eq), Slurp(arg.substr(eq + 1)), "",
                  "2031-12-31");
    repo.Publish({"targets"});
    const std::string dir = out + "/r" + std::to_string(i - 2);
    warden::Status st = repo.WriteTo(dir);
    if (st.ok() && i == 3) {
      st = warden::platform::WriteFileAtomic(
          out + "/factory.targets.json", repo.files["metadata/targets.json"],
          0644);
      if (st.ok()) {
        st = warden::platform::WriteFileAtomic(
            out + "/root.json", repo.files["metadata/1.root.json"], 0644);
      }
    }
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
