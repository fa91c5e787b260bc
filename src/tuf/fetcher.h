// How the TUF client reaches a repository: bytes of a URL, never more than
// the caller allows. The transport is not trusted: every byte is checked
// against signed metadata, so a Fetcher needs no authentication of its
// own (net/ gives one over HTTPS; tests give one over a map).
#ifndef WARDEN_TUF_FETCHER_H_
#define WARDEN_TUF_FETCHER_H_

#include <string>

#include "base/bytes.h"
#include "base/status.h"

namespace warden::tuf {

// Where a streamed target goes, chunk by chunk, in order. An error from the
// sink ends the download and is what the client returns. The client checks
// the length and hashes only when the stream ends: until DownloadTarget
// returns OK, what the sink holds is unverified and must not be used.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(ByteView bytes) = 0;
};

class Fetcher {
 public:
  virtual ~Fetcher() = default;

  // The body of `url`. Errors the client relies on:
  //   kNotFound           the repository has no such file (HTTP 403/404)
  //   kResourceExhausted  the body is longer than `max_length`; the
  //                       transfer must stop once the limit is passed
  //   any other code      the fetch failed
  virtual Result<std::string> Fetch(const std::string& url,
                                    size_t max_length) = 0;

  // The body of `url` into `sink`, with the errors of Fetch (and the
  // sink's). At most `max_length` bytes reach the sink.
  virtual Status FetchTo(const std::string& url, uint64_t max_length,
                         ByteSink& sink) = 0;
};

}  // namespace warden::tuf

#endif  // WARDEN_TUF_FETCHER_H_
