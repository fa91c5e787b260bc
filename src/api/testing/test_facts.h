// Test-only (target warden_api_testing): the facts of a made-up unit whose
// setup code is known, for the service's unit tests and its fuzz target.
#ifndef WARDEN_API_TESTING_TEST_FACTS_H_
#define WARDEN_API_TESTING_TEST_FACTS_H_

#include <string>

#include "api/device_service.h"
#include "crypto/spake2plus.h"

namespace warden::api::testing {

inline constexpr uint32_t kTestIterations = 1000;

// A unit "serial" of maker Acme whose verifier record comes from `code`
// and `salt` (16..32 bytes).
inline DeviceFacts MakeTestFacts(const std::string& serial, uint32_t code,
                                 const Bytes& salt) {
  auto secrets =
      crypto::spake2plus::DeriveProverSecrets(code, salt, kTestIterations);
  auto record = crypto::spake2plus::MakeVerifierRecord(*secrets);
  DeviceFacts facts;
  facts.info.serial = serial;
  facts.info.model = "Thermo";
  facts.info.maker = "Acme";
  facts.info.contact = "mailto:security@acme.example";
  facts.info.policy_url = "https://acme.example/security";
  facts.info.languages = {"en"};
  facts.info.support_end = "2031-12-31";
  facts.info.firmware_version = "1.0.0";
  facts.verifier = {serial, record->w0.bytes(), record->L, salt,
                    kTestIterations};
  facts.certificate_fingerprint = "ab";
  facts.canonical_url = "https://thermo.example:8443/.well-known/security.txt";
  return facts;
}

}  // namespace warden::api::testing

#endif  // WARDEN_API_TESTING_TEST_FACTS_H_
