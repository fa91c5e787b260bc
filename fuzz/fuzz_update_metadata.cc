// What an update server sends for the declared metadata URL: two HTTP
// replies, for root.json and timestamp.json, split at the first NUL byte
// (raw, so the HTTP head is fuzzed too). The judgement parses both as TUF
// and checks signatures across them; nothing may crash, hang or PASS
// without both files parsing.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "assess/update_metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::assess;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t split = all.find('\0');
  std::string_view root = all.substr(0, split);
  std::string_view ts =
      split == std::string_view::npos ? root : all.substr(split + 1);
  UpdateFacts facts;
  facts.mechanism = "tuf";
  facts.url = "http://127.0.0.2:8080/metadata/";
  facts.root_url = facts.url + "root.json";
  facts.timestamp_url = facts.url + "timestamp.json";
  facts.root.raw.assign(root.begin(), root.end());
  facts.timestamp.raw.assign(ts.begin(), ts.end());
  const TestUnit u = JudgeUpdateMetadata(
      facts, warden::WallTime(std::chrono::seconds(1800000000)));
  if (u.verdict == Verdict::kPass && u.evidence.artefacts.size() != 2) {
    std::abort();
  }
  return 0;
}
