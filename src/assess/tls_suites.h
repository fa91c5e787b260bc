// Which TLS cipher suites a server accepts, per protocol version, and
// whether it supports secure renegotiation (RFC 5746).
//
// The assessor writes its own ClientHellos here rather than going through
// OpenSSL's client, because the suites that matter most (EXPORT, RC4, DES,
// anonymous, NULL) are ones a current OpenSSL no longer offers: the hello
// names any suite by its IANA number, and only the ServerHello is read (the
// handshake is never finished, so no key is ever computed). For each
// version the probe offers every suite of the bounded list still unseen,
// notes the one the server picks, removes it and offers the rest again,
// until the server refuses: a server accepting N suites costs N + 1
// connections, and gives the same set as offering each suite alone
// (testssl.sh's -e) would.
//
// BuildClientHello and ParseServerHello are pure and fuzzed; ProbeSuites
// does the network part, bounded per connection by ProbeOptions and in
// connections by kMaxSuiteConnections.
#ifndef WARDEN_ASSESS_TLS_SUITES_H_
#define WARDEN_ASSESS_TLS_SUITES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "assess/probe.h"
#include "assess/report.h"
#include "base/bytes.h"

namespace warden::assess {

// The wire versions.
inline constexpr uint16_t kWireTls10 = 0x0301;
inline constexpr uint16_t kWireTls11 = 0x0302;
inline constexpr uint16_t kWireTls12 = 0x0303;
inline constexpr uint16_t kWireTls13 = 0x0304;

// Connections ProbeSuites makes at most per port, all versions together.
inline constexpr size_t kMaxSuiteConnections = 128;

struct CipherSuite {
  uint16_t id;
  std::string_view iana;     // "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
  std::string_view openssl;  // "ECDHE-RSA-AES128-GCM-SHA256"
};

// The bounded list probed for TLS 1.2 and below (every suite testssl.sh
// rates as weak that has been seen in use, and the common good ones), and
// the five TLS 1.3 suites.
std::span<const CipherSuite> Tls12Suites();
std::span<const CipherSuite> Tls13Suites();
// The list entry for `id`, or null.
const CipherSuite* FindSuite(uint16_t id);

// Why a suite accepted under `wire_version` is weak, one reason each:
// "NULL encryption", "EXPORT", "RC4", "DES or 3DES", "anonymous key
// exchange", "no forward secrecy", "MD5", "CBC with SHA-1 under TLS 1.0".
// Empty for a suite without a weakness.
std::vector<std::string> SuiteWeaknesses(const CipherSuite& suite,
                                         uint16_t wire_version);

struct ClientHelloOptions {
  uint16_t version = kWireTls12;  // kWireTls13: supported_versions and x25519
  std::vector<uint16_t> suites;
  std::string server_name;  // SNI when not empty and not an address
  Bytes random;             // 32 bytes; also the x25519 share for TLS 1.3
};

// One TLS record holding a ClientHello. Below TLS 1.3 it also offers
// TLS_EMPTY_RENEGOTIATION_INFO_SCSV, so that a server supporting RFC 5746
// answers with renegotiation_info.
Bytes BuildClientHello(const ClientHelloOptions& options);

struct ServerHelloFacts {
  enum class Kind {
    kIncomplete,  // more bytes are needed
    kServerHello,
    kHelloRetry,  // TLS 1.3 HelloRetryRequest: the suite is chosen too
    kAlert,
    kMalformed,
  };
  Kind kind = Kind::kIncomplete;
  uint16_t version = 0;  // supported_versions when present, else legacy
  uint16_t suite = 0;
  uint8_t compression = 0;
  bool renegotiation_info = false;
  uint8_t alert_level = 0;
  uint8_t alert_description = 0;
  std::string problem;  // for kMalformed
};

// Reads the first handshake message (or alert) a server sent, from the
// start of its byte stream. Handshake messages split across records are
// joined; at most 64 KiB are looked at. Never fails: bytes that are not
// TLS are kMalformed, too few are kIncomplete.
ServerHelloFacts ParseServerHello(ByteView bytes);

struct SuiteProbeResult {
  uint16_t version = 0;
  bool answered = false;  // some reply (ServerHello or alert) came back
  std::vector<uint16_t> accepted;   // in the order the server picked them
  bool renegotiation_info = false;  // in the first ServerHello of this version
  std::vector<std::string> exchanges;  // evidence, one per connection
};

struct SuiteFacts {
  std::vector<SuiteProbeResult> versions;  // TLS 1.0, 1.1, 1.2, 1.3
  size_t connections = 0;
  bool cut_short = false;  // kMaxSuiteConnections reached
};

// Probes each version as described above.
SuiteFacts ProbeSuites(const boost::asio::ip::address& address, uint16_t port,
                       const ProbeOptions& options);

// tls.PORT.suites (guideline 5, 5.5-1): FAIL when an accepted suite is weak
// (SuiteWeaknesses), PASS when suites were accepted and none is weak,
// INCONCLUSIVE when no version answered with a suite.
TestUnit JudgeCipherSuites(uint16_t port, const SuiteFacts& facts);
// tls.PORT.renegotiation (guideline 5, 5.5-1): FAIL when a version below
// TLS 1.3 is accepted without renegotiation_info (RFC 5746) in its
// ServerHello; PASS when every such version has it, or only TLS 1.3 is
// accepted (it has no renegotiation); INCONCLUSIVE when nothing was
// accepted.
TestUnit JudgeRenegotiation(uint16_t port, const SuiteFacts& facts);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_TLS_SUITES_H_
