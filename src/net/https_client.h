// A general HTTPS client on libcurl, for what the device fetches from the
// outside: update metadata and images. Downloads are bounded in size and
// time, verified against a CA or a pinned server key, and resumable with
// ranged requests into a caller's sink, so that an image can be verified
// while it streams in and a restart loses at most the chunk in flight.
//
// Only https URLs (unless HttpsOptions::allow_plain_http; RFC 3986, parsed by
// libcurl's URL API), HTTP/1.1, no proxy, no content coding (a range is a range
// of the stored bytes), no cookies. A transfer blocks the calling thread; a
// client is not thread-safe, but keeps its connections for the next transfer.
#ifndef WARDEN_NET_HTTPS_CLIENT_H_
#define WARDEN_NET_HTTPS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace warden::net {

enum class TlsMinimum { kTls12, kTls13 };

struct HttpsOptions {
  // Trust. At least one of the three. With a CA (a PEM bundle file, or a
  // directory of hashed certificates as c_rehash makes) the server's chain
  // and host name are verified. With pins, the server's key must be one of
  // them: each is the SHA-256 of a SubjectPublicKeyInfo DER, 32 bytes (more
  // than one lets a key be rolled over). Pins alone are the whole check: no
  // chain, no host name, as for a server whose key the caller knows.
  std::string ca_file;
  std::string ca_dir;
  std::vector<Bytes> spki_sha256_pins;
  TlsMinimum min_tls = TlsMinimum::kTls12;

  // The TCP connection and the TLS handshake together.
  std::chrono::milliseconds connect_timeout{10000};
  // A whole transfer, first byte to last.
  std::chrono::milliseconds total_timeout{600000};
  // A transfer slower than low_speed_bytes per second for the whole of
  // low_speed_window is abandoned (a peer feeding a byte now and then).
  uint32_t low_speed_bytes = 1024;
  std::chrono::seconds low_speed_window{30};
  // The status line and headers of one response, all lines together.
  size_t max_header_bytes = 32 * 1024;
  // Redirects followed, to https URLs only, each verified like the first.
  int max_redirects = 0;
  std::string user_agent = "warden";

  // Also fetch plain http URLs (redirects included), and allow no trust at
  // all. Off by default, and on only for data that is verified by
  // signatures rather than by the transport: `warden tuf` sets it for TUF
  // repositories, whose every byte is checked against signed metadata. An
  // https URL is still verified as above when trust is given.
  bool allow_plain_http = false;
};

// Where a download goes. The client calls offset() once, before the
// request, then Write() with the body in order, in chunks of at most 16 KiB
// as they arrive. An error from the sink ends the transfer at once and is
// what Download returns.
class DownloadSink {
 public:
  virtual ~DownloadSink() = default;
  // How many bytes of the resource the sink already holds from an earlier,
  // interrupted download (0 for a fresh one). The download asks for the
  // rest only.
  virtual uint64_t offset() const = 0;
  // `bytes` continue the resource where the last write (or offset()) left
  // off.
  virtual Status Write(ByteView bytes) = 0;
  // The server sent the whole resource instead of the rest: drop what is
  // held; the next Write is at offset 0.
  virtual Status Restart() = 0;
};

struct DownloadResult {
  uint64_t start = 0;      // where this transfer's bytes began (0 on restart)
  uint64_t received = 0;   // bytes written to the sink by this transfer
  bool restarted = false;  // the server ignored the range
  // The resource's whole size, when the server said.
  std::optional<uint64_t> total;
};

struct HttpsResponse {
  int status = 0;  // always 2xx: other statuses are errors
  std::string content_type;
  std::string body;
};

// Errors of Get and Download, each with its own code so that a caller never
// retries a security failure as if it were the network:
//   kInvalidArgument    not an https URL (or http, when allowed), or user
//                       information in it
//   kUnavailable        cannot resolve or connect, connection lost, the TLS
//                       handshake failed (e.g. below the TLS minimum),
//                       malformed HTTP, a bad Content-Range, HTTP 5xx, 408,
//                       429 and other statuses not listed here
//   kDeadlineExceeded   connect, total or low-speed timeout
//   kResourceExhausted  a response over its header or size limit (the
//                       transfer stops as soon as the limit is passed)
//   kUnauthenticated    the server's certificate or key failed the check
//   kNotFound           HTTP 404 or 410
//   kPermissionDenied   HTTP 401 or 403
//   kFailedPrecondition the sink holds more than the server's whole resource
//   a sink's own error  as the sink returned it
// Messages name the URL without its query (it may hold a token).
class HttpsClient {
 public:
  // kInvalidArgument for options without any trust (and without
  // allow_plain_http), or a pin that is not
  // 32 bytes; kInternal when libcurl cannot be set up.
  static Result<HttpsClient> Create(HttpsOptions options);

  // GETs `url`; the body may be at most `max_bytes`.
  Result<HttpsResponse> Get(std::string_view url, size_t max_bytes);

  // GETs `url` into `sink`, resuming at sink.offset() with a Range request.
  // The whole resource may be at most `max_bytes` (offset included). A 206
  // reply must carry a Content-Range starting at the offset; a 200 reply to
  // a range request restarts the sink and takes the whole resource; a 416
  // whose size equals the offset means the sink already holds all of it
  // (received 0). On any error the sink keeps what was written, and
  // another Download resumes from there.
  Result<DownloadResult> Download(std::string_view url, DownloadSink& sink,
                                  uint64_t max_bytes);

  HttpsClient(HttpsClient&&) noexcept;
  HttpsClient& operator=(HttpsClient&&) noexcept;
  ~HttpsClient();
  struct Impl;

 private:
  explicit HttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An RFC 9110 Content-Range value: "bytes FIRST-LAST/COMPLETE", where
// COMPLETE may be "*" (unknown), or "bytes */COMPLETE" (unsatisfied range).
struct ContentRange {
  std::optional<uint64_t> first;  // unset for "*/COMPLETE"
  std::optional<uint64_t> last;
  std::optional<uint64_t> complete;
};

// kInvalidArgument unless `value` is exactly one of those forms with
// FIRST <= LAST < COMPLETE and every number at most 2^63 - 1.
Result<ContentRange> ParseContentRange(std::string_view value);

}  // namespace warden::net

#endif  // WARDEN_NET_HTTPS_CLIENT_H_
