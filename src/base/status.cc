#include "base/status.h"

namespace warden {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kNotFound:
      return "not_found";
    case Code::kAlreadyExists:
      return "already_exists";
    case Code::kFailedPrecondition:
      return "failed_precondition";
    case Code::kPermissionDenied:
      return "permission_denied";
    case Code::kResourceExhausted:
      return "resource_exhausted";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kDeadlineExceeded:
      return "deadline_exceeded";
    case Code::kIo:
      return "io";
    case Code::kDataLoss:
      return "data_loss";
    case Code::kInternal:
      return "internal";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kBadSignature:
      return "bad_signature";
    case Code::kExpired:
      return "expired";
    case Code::kRollback:
      return "rollback";
    case Code::kIntegrity:
      return "integrity";
  }
  return "unknown";
}

bool IsSecurityFailure(Code code) {
  switch (code) {
    case Code::kUnauthenticated:
    case Code::kBadSignature:
    case Code::kExpired:
    case Code::kRollback:
    case Code::kIntegrity:
      return true;
    default:
      return false;
  }
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(CodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  if (!message_.empty()) {
    m += ": ";
    m += message_;
  }
  return Status(code_, std::move(m));
}

}  // namespace warden
