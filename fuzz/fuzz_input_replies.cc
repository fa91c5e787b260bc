// What a device answers to the assessor's malformed messages (HTTP, TLS,
// MQTT). None of it may crash or hang the assessor.
#include <cstddef>
#include <cstdint>

#include "assess/input_probes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::assess;
  MalformedOutcome o;
  o.name = "probe";
  o.received.assign(data, data + size);
  o.closed = size % 2 == 0;
  o.healthy_after = size % 3 != 0;
  InputFacts facts;
  facts.port = 443;
  facts.healthy_before = true;
  facts.outcomes = {o};
  for (InputProtocol p : {InputProtocol::kHttp, InputProtocol::kHttps,
                          InputProtocol::kTls, InputProtocol::kMqtt}) {
    (void)JudgeReply(p, o);
    facts.protocol = p;
    (void)JudgeInput(facts);
  }
  return 0;
}
