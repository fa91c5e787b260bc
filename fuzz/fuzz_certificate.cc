// Fuzzes certificate parsing: a client certificate arrives from whoever
// opens a TLS connection, and device certificates come from files a user
// may hand us. The input is tried as DER and as PEM; whatever parses must
// answer every accessor and survive a round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/clock.h"
#include "crypto/x509.h"

using namespace warden;

namespace {

void Exercise(const crypto::Certificate& cert) {
  (void)cert.subject_common_name();
  (void)cert.subject_serial_number();
  (void)cert.not_before();
  (void)cert.not_after();
  (void)cert.is_ca();
  (void)cert.Fingerprint();
  (void)cert.public_key().Fingerprint();
  Bytes der = cert.ToDer();
  auto again = crypto::Certificate::FromDer(der);
  if (!again.ok() || again->ToDer() != der) std::abort();
  auto from_pem = crypto::Certificate::FromPem(cert.ToPem());
  if (!from_pem.ok() || from_pem->ToDer() != der) std::abort();
  // Checking against itself walks the whole verification path.
  crypto::VerifyCertificate(cert, cert, cert.not_before()).IgnoreError();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView bytes(data, size);
  auto der = crypto::Certificate::FromDer(bytes);
  if (der.ok()) Exercise(*der);
  auto pem = crypto::Certificate::FromPem(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (pem.ok()) Exercise(*pem);
  return 0;
}
