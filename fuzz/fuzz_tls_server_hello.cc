// The first bytes a TLS server sends back to the assessor's own
// ClientHellos: records, alerts, a ServerHello split across records. None of
// it may crash or hang the assessor.
#include <cstddef>
#include <cstdint>

#include "assess/tls_suites.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::assess;
  ServerHelloFacts f = ParseServerHello(warden::ByteView(data, size));
  SuiteFacts facts;
  SuiteProbeResult r;
  r.version = f.version;
  r.renegotiation_info = f.renegotiation_info;
  if (f.kind == ServerHelloFacts::Kind::kServerHello) {
    r.accepted.push_back(f.suite);
  }
  facts.versions.push_back(r);
  (void)JudgeCipherSuites(443, facts);
  (void)JudgeRenegotiation(443, facts);
  return 0;
}
