// Where the update metadata and images come from: a tuf::Fetcher over
// HTTPS (net::HttpsClient) and one over a local copy of a published
// repository (a directory in the layout of docs/PROTOCOLS.md, "Update
// repository"), and the image stream into a slot writer for both.
//
// Neither fetcher is trusted: every byte is checked against signed
// metadata by the TUF client, and every image byte by the installer
// against the digests the signed targets role gives. The two differ only
// in transport; the checks are the same.
#ifndef WARDEN_UPDATER_FETCHERS_H_
#define WARDEN_UPDATER_FETCHERS_H_

#include <memory>
#include <string>

#include "net/https_client.h"
#include "platform/env.h"
#include "tuf/fetcher.h"
#include "update/installer.h"

namespace warden::updater {

// The TUF client's Fetcher over the project's HTTP client. `warden tuf`
// uses it with allow_plain_http (TUF needs no transport authentication);
// wardend with https only and a CA.
class HttpFetcher : public tuf::Fetcher {
 public:
  // kInvalidArgument for options HttpsClient refuses; kInternal when
  // libcurl cannot be set up.
  static Result<HttpFetcher> Create(net::HttpsOptions options);

  Result<std::string> Fetch(const std::string& url, size_t max_length) override;
  Status FetchTo(const std::string& url, uint64_t max_length,
                 tuf::ByteSink& sink) override;

  // Streams `url` into `writer`, resuming at writer.offset() with a ranged
  // request (a server that ignores the range restarts the writer). At most
  // `max_length` bytes in all. The errors of HttpsClient::Download.
  Status DownloadImage(const std::string& url, update::SlotWriter& writer,
                       uint64_t max_length);

 private:
  explicit HttpFetcher(net::HttpsClient client) : client_(std::move(client)) {}
  net::HttpsClient client_;
};

// A Fetcher over the files under `root`: a URL is a path under root
// ("ROOT/metadata/1.root.json"). kNotFound for a missing file or any URL
// outside root (a ".." segment, another prefix); kResourceExhausted for a
// file over the limit, refused before it is read. `env` must outlive it.
class DirFetcher : public tuf::Fetcher {
 public:
  DirFetcher(platform::Env& env, std::string root);

  Result<std::string> Fetch(const std::string& url, size_t max_length) override;
  Status FetchTo(const std::string& url, uint64_t max_length,
                 tuf::ByteSink& sink) override;

  // Copies the file `url` names into `writer` from writer.offset() on. At
  // most `max_length` bytes in all: the writer refuses what is past the
  // target's length.
  Status CopyImage(const std::string& url, update::SlotWriter& writer,
                   uint64_t max_length);

  const std::string& root() const { return root_; }

 private:
  Result<std::string> PathOf(const std::string& url) const;
  platform::Env& env_;
  std::string root_;
};

}  // namespace warden::updater

#endif  // WARDEN_UPDATER_FETCHERS_H_
