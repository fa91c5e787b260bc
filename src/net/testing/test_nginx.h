// Test-only (target warden_net_testing): a real nginx from Debian, started
// by the test on 127.0.0.1 and stopped by its pid, serving a directory over
// HTTPS with a certificate from a CA made for the test. The HTTPS client is
// tested against it, not against a server of our own.
//
// Locations under the served root, for what a test needs from the server:
//   /files/...    plain static files (ranges honoured)
//   /norange/...  the same files, answering every range request with 200
//   /chunked/...  the same files, sent chunked (no Content-Length)
//   /slow/...     the same files at 64 bytes a second
//   /badrange/... "206" with "Content-Range: bytes 0-3/4", whatever was
//                 asked for
#ifndef WARDEN_NET_TESTING_TEST_NGINX_H_
#define WARDEN_NET_TESTING_TEST_NGINX_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace warden::net::testing {

struct TestNginxOptions {
  // "TLSv1.2 TLSv1.3" unless set to e.g. "TLSv1.2".
  std::string protocols = "TLSv1.2 TLSv1.3";
};

class TestNginx {
 public:
  // Makes a CA and a server certificate for 127.0.0.1, writes the
  // configuration into a new temporary directory and starts nginx there.
  // kUnavailable when nginx is missing or does not come up.
  static Result<std::unique_ptr<TestNginx>> Start(
      TestNginxOptions options = {});
  // Stops nginx (SIGTERM, then SIGKILL if it lingers), reaps it and removes
  // the directory.
  ~TestNginx();
  TestNginx(const TestNginx&) = delete;
  TestNginx& operator=(const TestNginx&) = delete;

  uint16_t port() const;
  // "https://127.0.0.1:PORT" + path.
  std::string Url(std::string_view path) const;
  // The PEM file of the CA that issued the server certificate.
  const std::string& ca_file() const;
  // SHA-256 of the server key's SubjectPublicKeyInfo: its pin.
  const Bytes& spki_sha256() const;
  // Writes the file `name` into the served directory.
  Status Put(const std::string& name, std::string_view content);
  // A file of `size` zero bytes that takes no disk space, for a body far
  // larger than any limit.
  Status PutSparse(const std::string& name, uint64_t size);

  struct Impl;

 private:
  explicit TestNginx(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::net::testing

#endif  // WARDEN_NET_TESTING_TEST_NGINX_H_
