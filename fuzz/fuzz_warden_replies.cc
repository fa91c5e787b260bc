// What a device that calls itself a Warden device sends back to the
// assessor's Warden probes: /v1/info, public pages and pairing replies. None
// of it may crash or hang the assessor.
#include <cstddef>
#include <cstdint>
#include <string>

#include "assess/warden_probes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::assess;
  const std::string body(reinterpret_cast<const char*>(data), size);
  (void)FindExposures(body);
  WardenProbeFacts f;
  f.port = 8443;
  f.paired_known = size % 2 == 0;
  f.paired = size % 3 == 0;
  WardenCall c;
  c.method = "GET";
  c.path = "/v1/info";
  c.status = 200;
  c.reply_body = body;
  c.retry_after = body.substr(0, 16);
  c.error_rule = body.substr(0, 16);
  f.info = c;
  f.public_calls = {c};
  f.owner_calls = {c};
  WardenCall inventory = c;
  inventory.path = "/v1/data/inventory";
  f.public_calls.push_back(inventory);
  c.path = "/v1/pair/exchange";
  c.status = size % 5 == 0 ? 429 : 200;
  f.pairing = {c, c};
  (void)JudgeWarden(f);
  return 0;
}
