// Status and Result<T>: how every fallible call in Warden reports failure.
//
// Our code does not throw. A function that can fail returns Status (no value)
// or Result<T> (a value or a Status). Security failures have codes of their
// own so that callers never retry them as if they were transient.
#ifndef WARDEN_BASE_STATUS_H_
#define WARDEN_BASE_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace warden {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed or out of range
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // creating something that is already there
  kFailedPrecondition,  // the system is not in a state that allows this
  kPermissionDenied,    // authenticated, but not allowed
  kResourceExhausted,   // throttled, locked out, or a limit was hit
  kUnavailable,         // transient: network, peer gone; may be retried
  kDeadlineExceeded,    // a timeout expired
  kIo,                  // the operating system reported an error
  kDataLoss,            // stored data is corrupt or truncated
  kInternal,            // a bug or an unexpected library failure
  // Security failures: never retried as if they were transient.
  kUnauthenticated,  // missing or wrong credentials, failed proof
  kBadSignature,     // a signature or MAC did not verify
  kExpired,          // a certificate, token or metadata is past its time
  kRollback,         // a version went backwards
  kIntegrity,        // content does not match what was signed or stored
};

// Short stable name of a code, e.g. "invalid_argument".
std::string_view CodeName(Code code);

// True for the codes that mean "a security check failed".
bool IsSecurityFailure(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "code_name: message", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "context: message".
  Status WithContext(std::string_view context) const;

  // Explicitly discards a status the caller has decided not to act on.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgumentError(std::string m) {
  return Status(Code::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) {
  return Status(Code::kNotFound, std::move(m));
}
inline Status AlreadyExistsError(std::string m) {
  return Status(Code::kAlreadyExists, std::move(m));
}
inline Status FailedPreconditionError(std::string m) {
  return Status(Code::kFailedPrecondition, std::move(m));
}
inline Status PermissionDeniedError(std::string m) {
  return Status(Code::kPermissionDenied, std::move(m));
}
inline Status ResourceExhaustedError(std::string m) {
  return Status(Code::kResourceExhausted, std::move(m));
}
inline Status UnavailableError(std::string m) {
  return Status(Code::kUnavailable, std::move(m));
}
inline Status DeadlineExceededError(std::string m) {
  return Status(Code::kDeadlineExceeded, std::move(m));
}
inline Status IoError(std::string m) { return Status(Code::kIo, std::move(m)); }
inline Status DataLossError(std::string m) {
  return Status(Code::kDataLoss, std::move(m));
}
inline Status InternalError(std::string m) {
  return Status(Code::kInternal, std::move(m));
}
inline Status UnauthenticatedError(std::string m) {
  return Status(Code::kUnauthenticated, std::move(m));
}
inline Status BadSignatureError(std::string m) {
  return Status(Code::kBadSignature, std::move(m));
}
inline Status ExpiredError(std::string m) {
  return Status(Code::kExpired, std::move(m));
}
inline Status RollbackError(std::string m) {
  return Status(Code::kRollback, std::move(m));
}
inline Status IntegrityError(std::string m) {
  return Status(Code::kIntegrity, std::move(m));
}

// A value of type T, or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
    if (std::get<Status>(v_).ok()) {
      v_ = Status(Code::kInternal, "Result built from an OK status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(v_); }

  // The status: Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  // Requires ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The value, or `fallback` when there is none.
  T value_or(T fallback) const& { return ok() ? value() : fallback; }

 private:
  std::variant<T, Status> v_;
};

namespace internal {
inline Status AsStatus(const Status& s) { return s; }
inline Status AsStatus(Status&& s) { return std::move(s); }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace warden

#define WARDEN_CONCAT_INNER_(a, b) a##b
#define WARDEN_CONCAT_(a, b) WARDEN_CONCAT_INNER_(a, b)

// Returns early from the enclosing function when `expr` (a Status or a
// Result) is not OK.
#define WARDEN_TRY(expr)                                      \
  do {                                                        \
    auto&& warden_try_value_ = (expr);                        \
    if (!warden_try_value_.ok()) {                            \
      return ::warden::internal::AsStatus(warden_try_value_); \
    }                                                         \
  } while (false)

// `lhs` = the value of the Result `expr`, or return its Status.
//   WARDEN_ASSIGN_OR_RETURN(auto key, PrivateKey::FromPem(pem));
#define WARDEN_ASSIGN_OR_RETURN(lhs, expr)                                     \
  WARDEN_ASSIGN_OR_RETURN_IMPL_(WARDEN_CONCAT_(warden_result_, __LINE__), lhs, \
                                expr)
#define WARDEN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#endif  // WARDEN_BASE_STATUS_H_
