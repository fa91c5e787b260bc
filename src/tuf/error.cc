#include "tuf/error.h"

#include <array>

namespace warden::tuf {
namespace {

struct Entry {
  Error error;
  std::string_view name;
  Code code;
};

constexpr std::array<Entry, 16> kEntries = {{
    {Error::kNone, "none", Code::kOk},
    {Error::kMalformed, "malformed", Code::kInvalidArgument},
    {Error::kTooLarge, "too_large", Code::kResourceExhausted},
    {Error::kWrongType, "wrong_type", Code::kInvalidArgument},
    {Error::kThreshold, "threshold", Code::kBadSignature},
    {Error::kExpired, "expired", Code::kExpired},
    {Error::kRollback, "rollback", Code::kRollback},
    {Error::kBadVersion, "bad_version", Code::kIntegrity},
    {Error::kLengthMismatch, "length_mismatch", Code::kIntegrity},
    {Error::kHashMismatch, "hash_mismatch", Code::kIntegrity},
    {Error::kMissingRole, "missing_role", Code::kIntegrity},
    {Error::kFetchFailed, "fetch_failed", Code::kUnavailable},
    {Error::kTargetNotFound, "target_not_found", Code::kNotFound},
    {Error::kDelegationLimit, "delegation_limit", Code::kResourceExhausted},
    {Error::kStorage, "storage", Code::kIo},
    {Error::kState, "state", Code::kFailedPrecondition},
}};

constexpr std::string_view kPrefix = "tuf/";

}  // namespace

std::string_view ErrorName(Error error) {
  return kEntries[static_cast<size_t>(error)].name;
}

Code ErrorCode(Error error) {
  return kEntries[static_cast<size_t>(error)].code;
}

Status TufError(Error error, std::string_view message) {
  std::string m(kPrefix);
  m += ErrorName(error);
  m += ": ";
  m += message;
  return Status(ErrorCode(error), std::move(m));
}

Error ErrorOf(const Status& status) {
  if (status.ok()) return Error::kNone;
  // WithContext prepends "context: ", so the tag is looked for at the
  // start of any word, and must agree with the generic code.
  const std::string& m = status.message();
  size_t pos = 0;
  while ((pos = m.find(kPrefix, pos)) != std::string::npos) {
    if (pos == 0 || m[pos - 1] == ' ') {
      size_t start = pos + kPrefix.size();
      size_t end = m.find(':', start);
      if (end != std::string::npos) {
        std::string_view name(m.data() + start, end - start);
        for (const Entry& e : kEntries) {
          if (e.name == name && e.code == status.code()) return e.error;
        }
      }
    }
    pos += kPrefix.size();
  }
  return Error::kNone;
}

}  // namespace warden::tuf
