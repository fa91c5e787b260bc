// Replays a libFuzzer corpus outside the fuzz build: every file named on the
// command line, or found in a directory named there, goes through the
// target once. Used by ctest so every build exercises the corpora.
//
// A target returns 0 for every input it handled; anything else (libFuzzer
// reserves -1 for "reject this input") fails the replay, as does a crash or
// an abort() from a target's own consistency checks.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int RunFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return 1;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  int rc = LLVMFuzzerTestOneInput(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (rc != 0) {
    std::fprintf(stderr, "replay: %s: the target returned %d\n", path.c_str(),
                 rc);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int files = 0;
  int failures = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) {
          failures += RunFile(entry.path());
          ++files;
        }
      }
    } else {
      failures += RunFile(arg);
      ++files;
    }
  }
  std::printf("replayed %d inputs\n", files);
  if (files == 0) {
    std::fprintf(stderr, "replay: empty corpus\n");
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
