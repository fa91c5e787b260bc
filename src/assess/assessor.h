// `warden assess`: tests one device, ours or anyone's, against the
// guidelines it can judge from the network, and builds the report.
//
// Test groups (docs/ASSESSMENT.md has the full list and the verdict rules):
//   services       a TCP connect scan of the port range, then per open port:
//                  the service named by banner or handshake, plaintext
//                  flagged (guideline 5), compared with the declaration
//                  (guideline 6)
//   tls.PORT       per TLS port: versions accepted, cipher suites per version
//                  (tls_suites.h), secure renegotiation, finite-field-only key
//                  exchange, certificate, compression (guideline 5)
//   disclosure.PORT per web service: RFC 9116 security.txt (guideline 2)
//   warden.PORT    on a Warden device: pairing closed when owned, unconfirmed
//                  pairings counted, nothing secret or personal shown
//                  without a session (warden_probes.h)
//   input.PORT     malformed HTTP, TLS and MQTT messages, the service still
//                  serving after each (guideline 13, input_probes.h)
//   robustness.PORT served while a few connections are held (guideline 9,
//                  robustness.h)
//   support        the support period shown and declared, and the update
//                  metadata the declaration names (guideline 3,
//                  update_metadata.h)
// Traffic goes only to the one address the target names, and to the update
// metadata URL the declaration names (update_metadata.h); every probe is
// bounded (probe.h). A declaration never makes a PASS by itself: it is only
// compared with what the device shows.
#ifndef WARDEN_ASSESS_ASSESSOR_H_
#define WARDEN_ASSESS_ASSESSOR_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "assess/probe.h"
#include "assess/report.h"
#include "assess/update_metadata.h"
#include "base/clock.h"
#include "base/status.h"

namespace warden::assess {

// What the user named: a host name, an IPv4 or IPv6 address (IPv6 may be
// bracketed), or a URL whose host is taken (scheme, port and path
// ignored: every port is scanned).
struct Target {
  std::string text;  // as given
  std::string host;  // without brackets
  bool is_name = false;
};
// kInvalidArgument when no host can be taken from `text`.
Result<Target> ParseTarget(std::string_view text);

// The maker's declaration (a JSON form of TS 103 701's implementation
// conformance statement); this slice reads the declared services:
//   {"services": [{"port": 8443, "protocol": "https", "purpose": "..."}],
//    ...}
// the facts the label shows: "product", "support_until",
// "disclosure_url"; and the update mechanism with its metadata URL:
//   "updates": {"mechanism": "tuf",
//               "metadata_url": "https://updates.example/metadata/"}
// Other members are not read.
struct DeclaredService {
  uint16_t port = 0;
  std::string protocol;
  std::string purpose;
};
struct Declaration {
  std::vector<DeclaredService> services;
  std::string product;         // "product": maker and model, for the label
  std::string support_until;   // "support_until": YYYY-MM-DD
  std::string disclosure_url;  // "disclosure_url": where to report flaws
  std::optional<DeclaredUpdates> updates;  // "updates"
};
inline constexpr size_t kMaxDeclarationBytes = 256 * 1024;
// kInvalidArgument for malformed JSON, a missing or bad "services" array,
// a port outside 1..65535, a "support_until" that is not YYYY-MM-DD, a
// "product" or "disclosure_url" that is not a string of at most 256 bytes,
// an "updates" that is not an object with a "mechanism" of at most 32 bytes
// and a "metadata_url" ParseMetadataUrl() takes, or text over
// kMaxDeclarationBytes.
Result<Declaration> ParseDeclaration(std::string_view text);

struct AssessOptions {
  ScanOptions scan;
  ProbeOptions probe;
  Clock* clock = nullptr;  // null: the system clock
};

// Assesses `target`. kUnavailable (the CLI's "could not assess") when the
// name does not resolve or nothing listens in the port range; any other
// outcome, conforming or not, is a Report.
Result<Report> Assess(const Target& target,
                      const std::optional<Declaration>& declaration,
                      const AssessOptions& options);

// What a Warden device shows at its public GET /v1/info.
struct WardenInfo {
  std::string maker;
  std::string model;
  std::string serial;
  std::string firmware_version;
  std::string support_end;  // YYYY-MM-DD
};
// Reads the JSON body of /v1/info. kInvalidArgument unless it is an object
// with "api": "warden/1" whose text members are strings of at most 256
// bytes, and a "support_end" that is a date YYYY-MM-DD when present.
Result<WardenInfo> ParseWardenInfo(std::string_view body);

// True for a date YYYY-MM-DD (digits in place; the calendar not checked).
bool IsIsoDate(std::string_view text);

// Verdict rules, separate from the network so that they are tested alone.
// The support period (guideline 3, 5.3-13): shown by the device and not
// past PASSes (FAILs if it disagrees with the declaration); declared only
// is INCONCLUSIVE, unless the declared date is already past (FAIL).
// The declared disclosure_url (guideline 2, 5.2-1) against the Contact and
// Policy values of the device's valid security.txt (`shown`, empty when it
// serves none): PASS when one equals it, FAIL when none does,
// INCONCLUSIVE with nothing shown.
TestUnit JudgeDeclaredDisclosure(const std::string& declared,
                                 const std::vector<std::string>& shown);
TestUnit JudgeSupportPeriod(const std::optional<Declaration>& declaration,
                            const std::optional<WardenInfo>& shown,
                            uint16_t port, WallTime now);
TestUnit JudgePlaintext(const PortFacts& facts);
TestUnit JudgeDeclared(uint16_t port, Service service,
                       const std::optional<Declaration>& declaration);
TestUnit JudgeTlsVersions(uint16_t port, const TlsFacts& tls);
TestUnit JudgeFfdhe(uint16_t port, const TlsFacts& tls);
TestUnit JudgeCertificate(uint16_t port, const TlsFacts& tls, WallTime now);
TestUnit JudgeCompression(uint16_t port, const TlsFacts& tls);
TestUnit JudgeSecurityTxt(uint16_t port, bool tls, const Fetch& fetch,
                          WallTime now, const std::string& url);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_ASSESSOR_H_
