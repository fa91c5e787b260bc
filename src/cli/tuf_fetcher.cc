#include "cli/tuf_fetcher.h"

#include <utility>

namespace warden::cli {
namespace {

// A fresh download every time: the TUF client verifies a whole file, so a
// partial one from an earlier run is never resumed.
class Sink : public net::DownloadSink {
 public:
  explicit Sink(tuf::ByteSink& out) : out_(out) {}
  uint64_t offset() const override { return 0; }
  Status Write(ByteView bytes) override { return out_.Write(bytes); }
  Status Restart() override {
    return InternalError("a download from offset 0 was restarted");
  }

 private:
  tuf::ByteSink& out_;
};

}  // namespace

Result<HttpFetcher> HttpFetcher::Create() {
  net::HttpsOptions o;
  o.allow_plain_http = true;
  o.connect_timeout = std::chrono::milliseconds(10000);
  o.user_agent = "warden-tuf";
  WARDEN_ASSIGN_OR_RETURN(net::HttpsClient client,
                          net::HttpsClient::Create(std::move(o)));
  return HttpFetcher(std::move(client));
}

Result<std::string> HttpFetcher::Fetch(const std::string& url,
                                       size_t max_length) {
  WARDEN_ASSIGN_OR_RETURN(net::HttpsResponse r, client_.Get(url, max_length));
  return std::move(r.body);
}

Status HttpFetcher::FetchTo(const std::string& url, uint64_t max_length,
                            tuf::ByteSink& sink) {
  Sink s(sink);
  return client_.Download(url, s, max_length).status();
}

}  // namespace warden::cli
