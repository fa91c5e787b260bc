#include "release/testing/dir_fetcher.h"

#include "platform/file.h"

namespace warden::release::testing {

Result<std::string> DirFetcher::Fetch(const std::string& url,
                                      size_t max_length) {
  requests.push_back(url);
  Result<platform::FileInfo> info = env_.Stat(url);
  if (!info.ok() || info->type != platform::FileType::kRegular) {
    return NotFoundError(url + ": HTTP 404");
  }
  Result<std::string> bytes = platform::ReadFile(env_, url, max_length);
  if (!bytes.ok() && bytes.status().code() == Code::kResourceExhausted) {
    return ResourceExhaustedError(url + ": body over " +
                                  std::to_string(max_length) + " bytes");
  }
  return bytes;
}

Status DirFetcher::FetchTo(const std::string& url, uint64_t max_length,
                           tuf::ByteSink& sink) {
  WARDEN_ASSIGN_OR_RETURN(std::string body, Fetch(url, max_length));
  return sink.Write(AsBytes(body));
}

}  // namespace warden::release::testing
