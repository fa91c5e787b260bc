// Argon2id work for the worker pool (worker/worker_pool.h): hashing a new
// password and checking one, each as a job that owns its copy of the
// password and wipes it when done.
//
// Name a job and pass it with std::move, never as a temporary: g++ 12
// destroys a prvalue argument of a coroutine twice (GCC PR 100611).
#ifndef WARDEN_API_PASSWORD_JOBS_H_
#define WARDEN_API_PASSWORD_JOBS_H_

#include <optional>
#include <string>

#include "auth/password.h"
#include "base/status.h"

namespace warden::api {

// The Argon2id hash of `password` (auth::HashPassword).
struct HashPasswordJob {
  std::string password;
  auth::HashParams params;

  HashPasswordJob(std::string password, auth::HashParams params);
  HashPasswordJob(HashPasswordJob&&) noexcept;
  ~HashPasswordJob();
  Result<std::string> operator()();
};

// Whether `password` matches `stored`. Without a stored hash (no such
// owner, or no password) it hashes the password instead and answers false,
// so the time taken does not tell which owners exist.
struct VerifyPasswordJob {
  std::string password;
  std::optional<std::string> stored;
  auth::HashParams params;

  VerifyPasswordJob(std::string password, std::optional<std::string> stored,
                    auth::HashParams params);
  VerifyPasswordJob(VerifyPasswordJob&&) noexcept;
  ~VerifyPasswordJob();
  Result<bool> operator()();
};

}  // namespace warden::api

#endif  // WARDEN_API_PASSWORD_JOBS_H_
