// Fuzzes the pairing messages a stranger can send before being paired: the
// JSON of /v1/pair/exchange and /v1/pair/confirm, and the share itself
// through the SPAKE2+ verifier.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/rng.h"
#include "crypto/spake2plus.h"
#include "pairing/pairing_session.h"
#include "schema/json.h"

using namespace warden;

namespace {

const pairing::VerifierParams& Params() {
  static const pairing::VerifierParams* params = [] {
    Bytes salt(16, 1);
    auto secrets =
        crypto::spake2plus::DeriveProverSecrets(12121213, salt, 1000);
    auto record = crypto::spake2plus::MakeVerifierRecord(*secrets);
    return new pairing::VerifierParams{"SN-FUZZ", record->w0.bytes(), record->L,
                                       salt, 1000};
  }();
  return *params;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = schema::ParseJson(text, schema::JsonLimits{});
  if (!body.ok()) return 0;
  pairing::MessageError error;
  auto share = pairing::ParseExchangeRequest(*body, &error);
  // A refused message names the rule it broke (the client shows it).
  if (!share.ok() && (error.rule.empty() || error.message.empty())) {
    __builtin_trap();
  }
  if (share.ok()) {
    auto session =
        pairing::ServerSession::Create(Params(), Bytes(32, 9), SystemRng());
    if (session.ok()) {
      auto reply = session->Exchange(*share);
      (void)reply;
    }
  }
  error = pairing::MessageError{};
  auto confirm = pairing::ParseConfirmRequest(*body, &error);
  if (!confirm.ok() && (error.rule.empty() || error.message.empty())) {
    __builtin_trap();
  }
  if (confirm.ok()) {
    auto session =
        pairing::ServerSession::Create(Params(), Bytes(32, 9), SystemRng());
    // Without an exchange the confirm must be refused.
    if (session.ok() && session->Confirm(std::move(*confirm)).ok()) {
      __builtin_trap();
    }
  }
  return 0;
}
