#include "updater/fetchers.h"

#include <utility>

#include "platform/file.h"

namespace warden::updater {
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

constexpr size_t kChunk = 64 * 1024;

}  // namespace

Result<HttpFetcher> HttpFetcher::Create(net::HttpsOptions options) {
  WARDEN_ASSIGN_OR_RETURN(net::HttpsClient client,
                          net::HttpsClient::Create(std::move(options)));
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

Status HttpFetcher::DownloadImage(const std::string& url,
                                  update::SlotWriter& writer,
                                  uint64_t max_length) {
  update::AsDownloadSink<net::DownloadSink> sink(writer);
  return client_.Download(url, sink, max_length).status();
}

DirFetcher::DirFetcher(platform::Env& env, std::string root)
    : env_(env), root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<std::string> DirFetcher::PathOf(const std::string& url) const {
  if (url.size() <= root_.size() + 1 || url.compare(0, root_.size(), root_) ||
      url[root_.size()] != '/') {
    return NotFoundError("not in the repository copy: " + url);
  }
  std::string_view rest(url);
  rest.remove_prefix(root_.size() + 1);
  // Every segment must be a plain name: nothing may reach outside root.
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string_view::npos) end = rest.size();
    std::string_view seg = rest.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") {
      return NotFoundError("not in the repository copy: " + url);
    }
    start = end + 1;
  }
  return url;
}

Result<std::string> DirFetcher::Fetch(const std::string& url,
                                      size_t max_length) {
  WARDEN_ASSIGN_OR_RETURN(std::string path, PathOf(url));
  return platform::ReadFile(env_, path, max_length);
}

Status DirFetcher::FetchTo(const std::string& url, uint64_t max_length,
                           tuf::ByteSink& sink) {
  WARDEN_ASSIGN_OR_RETURN(std::string path, PathOf(url));
  WARDEN_ASSIGN_OR_RETURN(auto file, env_.Open(path, platform::OpenOptions{}));
  std::string buf(kChunk, '\0');
  uint64_t total = 0;
  for (;;) {
    WARDEN_ASSIGN_OR_RETURN(size_t n, file->ReadAt(total, buf.data(), kChunk));
    if (n == 0) return Status::Ok();
    if (total + n > max_length) {
      return ResourceExhaustedError("more than " + std::to_string(max_length) +
                                    " bytes: " + url);
    }
    WARDEN_TRY(sink.Write(AsBytes(std::string_view(buf.data(), n))));
    total += n;
  }
}

Status DirFetcher::CopyImage(const std::string& url, update::SlotWriter& writer,
                             uint64_t max_length) {
  WARDEN_ASSIGN_OR_RETURN(std::string path, PathOf(url));
  WARDEN_ASSIGN_OR_RETURN(auto file, env_.Open(path, platform::OpenOptions{}));
  WARDEN_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (writer.offset() > size) WARDEN_TRY(writer.Restart());
  std::string buf(kChunk, '\0');
  for (;;) {
    uint64_t at = writer.offset();
    // One byte past the limit reaches the writer, which refuses it as the
    // installer's own too_many_bytes.
    if (at > max_length) {
      return ResourceExhaustedError("more than " + std::to_string(max_length) +
                                    " bytes: " + url);
    }
    WARDEN_ASSIGN_OR_RETURN(size_t n, file->ReadAt(at, buf.data(), kChunk));
    if (n == 0) return Status::Ok();
    WARDEN_TRY(writer.Write(AsBytes(std::string_view(buf.data(), n))));
  }
}

}  // namespace warden::updater
