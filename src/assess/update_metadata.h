// The update metadata a maker declares (guideline 3): the TUF repository
// behind the device's updates, fetched from the URL the declaration names
// and judged on what it serves.
//
// The unit fetches root.json and timestamp.json from that one URL (the
// layout of docs/RELEASES.md), each bounded by the probe's deadline and by
// kMaxHttpBodyBytes, and checks with src/tuf/ that both parse as TUF, that
// root carries its own threshold of signatures by its own root keys, that
// timestamp carries root's timestamp threshold, and that neither has
// expired. It does not follow redirects and fetches nothing else: a
// declaration is a claim to test, not a pointer to wander from.
#ifndef WARDEN_ASSESS_UPDATE_METADATA_H_
#define WARDEN_ASSESS_UPDATE_METADATA_H_

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include "assess/probe.h"
#include "assess/report.h"
#include "base/clock.h"
#include "base/status.h"

namespace warden::assess {

// The declaration's "updates" member.
struct DeclaredUpdates {
  std::string mechanism;     // "tuf" is the one judged
  std::string metadata_url;  // http(s)://host[:port]/path/, as declared
};

// A metadata URL taken apart. `path` ends in '/', so that a file name
// appends to it.
struct MetadataUrl {
  bool tls = false;
  std::string host;  // without brackets
  uint16_t port = 0;
  std::string path;
};
// kInvalidArgument unless `text` is at most 256 bytes of
// "http://" or "https://", a host (name, IPv4, or bracketed IPv6), an
// optional port 1..65535 and an optional path of printable ASCII without
// spaces, '?' or '#'.
Result<MetadataUrl> ParseMetadataUrl(std::string_view text);

// What the repository served.
struct UpdateFacts {
  std::string mechanism;
  std::string url;            // as declared
  std::string resolve_error;  // set when the host did not resolve
  std::string root_url;       // url + "root.json"
  std::string timestamp_url;  // url + "timestamp.json"
  Fetch root;
  Fetch timestamp;
};

// GETs root.json and timestamp.json under `url` from `address` (what the
// URL's host resolved to), each on its own bounded connection. Never fails:
// what went wrong is in the facts.
UpdateFacts ProbeUpdateMetadata(const boost::asio::ip::address& address,
                                const MetadataUrl& url,
                                const DeclaredUpdates& declared,
                                const ProbeOptions& options);

// Unit updates.metadata (guideline 3). PASS when both files are served
// (HTTP 200, whole), parse as TUF, are signed as above and expire after
// `now`. FAIL when the URL answers with anything else, or the metadata is
// malformed, unsigned, signed by too few or the wrong keys, or expired.
// INCONCLUSIVE when nothing could be fetched (no address, no connection,
// no byte back, or a reply cut short) or the mechanism is not TUF. The
// evidence names each URL, the versions and expiry dates, and the SHA-256
// of each file served.
TestUnit JudgeUpdateMetadata(const UpdateFacts& facts, WallTime now);

}  // namespace warden::assess

#endif  // WARDEN_ASSESS_UPDATE_METADATA_H_
