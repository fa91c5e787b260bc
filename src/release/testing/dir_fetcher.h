// Test only (target warden_release_testing): a tuf::Fetcher that reads a
// published tree from the file system, the way a mirror serving it would:
// a URL is a path, a missing file is kNotFound (HTTP 404), a file over the
// caller's limit is kResourceExhausted.
#ifndef WARDEN_RELEASE_TESTING_DIR_FETCHER_H_
#define WARDEN_RELEASE_TESTING_DIR_FETCHER_H_

#include <string>
#include <vector>

#include "platform/env.h"
#include "tuf/fetcher.h"

namespace warden::release::testing {

class DirFetcher : public tuf::Fetcher {
 public:
  explicit DirFetcher(platform::Env& env) : env_(env) {}

  Result<std::string> Fetch(const std::string& url, size_t max_length) override;
  Status FetchTo(const std::string& url, uint64_t max_length,
                 tuf::ByteSink& sink) override;

  std::vector<std::string> requests;

 private:
  platform::Env& env_;
};

}  // namespace warden::release::testing

#endif  // WARDEN_RELEASE_TESTING_DIR_FETCHER_H_
