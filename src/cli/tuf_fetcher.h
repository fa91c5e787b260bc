// The TUF client's Fetcher over the project's HTTP client, for `warden
// tuf`. Plain http is allowed: TUF checks every byte against signed
// metadata, so the transport needs no authentication of its own.
#ifndef WARDEN_CLI_TUF_FETCHER_H_
#define WARDEN_CLI_TUF_FETCHER_H_

#include <string>

#include "net/https_client.h"
#include "tuf/fetcher.h"

namespace warden::cli {

class HttpFetcher : public tuf::Fetcher {
 public:
  // kInternal when libcurl cannot be set up.
  static Result<HttpFetcher> Create();

  Result<std::string> Fetch(const std::string& url, size_t max_length) override;
  Status FetchTo(const std::string& url, uint64_t max_length,
                 tuf::ByteSink& sink) override;

 private:
  explicit HttpFetcher(net::HttpsClient client) : client_(std::move(client)) {}
  net::HttpsClient client_;
};

}  // namespace warden::cli

#endif  // WARDEN_CLI_TUF_FETCHER_H_
