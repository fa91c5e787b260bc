#include "api/password_jobs.h"

#include "crypto/secret.h"

namespace warden::api {

HashPasswordJob::HashPasswordJob(std::string password, auth::HashParams params)
    : password(std::move(password)), params(params) {}

// Copied, then the source wiped: a moved short string would leave its
// bytes behind in the source's inline buffer.
HashPasswordJob::HashPasswordJob(HashPasswordJob&& other) noexcept
    : password(other.password), params(other.params) {
  crypto::Wipe(other.password);
}

HashPasswordJob::~HashPasswordJob() { crypto::Wipe(password); }

Result<std::string> HashPasswordJob::operator()() {
  return auth::HashPassword(password, params);
}

VerifyPasswordJob::VerifyPasswordJob(std::string password,
                                     std::optional<std::string> stored,
                                     auth::HashParams params)
    : password(std::move(password)),
      stored(std::move(stored)),
      params(params) {}

VerifyPasswordJob::VerifyPasswordJob(VerifyPasswordJob&& other) noexcept
    : password(other.password),
      stored(std::move(other.stored)),
      params(other.params) {
  crypto::Wipe(other.password);
}

VerifyPasswordJob::~VerifyPasswordJob() { crypto::Wipe(password); }

Result<bool> VerifyPasswordJob::operator()() {
  if (stored) return auth::VerifyPassword(*stored, password);
  auth::HashPassword(password, params).status().IgnoreError();
  return false;
}

}  // namespace warden::api
