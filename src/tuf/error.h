// The failures of the TUF client, each with a code of its own.
//
// A TUF failure travels as an ordinary Status: its generic code says what
// kind of failure it is (kExpired, kRollback, kBadSignature, kIntegrity,
// ...), and its message starts with "tuf/<name>: " so that a caller (and a
// test) can tell, say, a hash mismatch from a length mismatch. ErrorOf()
// reads the TUF code back.
#ifndef WARDEN_TUF_ERROR_H_
#define WARDEN_TUF_ERROR_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace warden::tuf {

enum class Error {
  kNone = 0,         // not a TUF failure (or no failure)
  kMalformed,        // not JSON, fails the schema, or a field out of range
  kTooLarge,         // a file over its size limit (endless data)
  kWrongType,        // _type is not the role expected
  kThreshold,        // fewer valid signatures than the role's threshold
  kExpired,          // metadata past its expiry (freeze)
  kRollback,         // a version lower than the trusted one
  kBadVersion,       // a version other than the one required
  kLengthMismatch,   // a file's length differs from the signed length
  kHashMismatch,     // a file's hash differs from the signed hash
  kMissingRole,      // a role the signed metadata should list is absent
  kFetchFailed,      // the repository could not be reached or read
  kTargetNotFound,   // no trusted role names the target
  kDelegationLimit,  // too many delegated roles visited, or too deep
  kStorage,          // the local metadata could not be read or written
  kState,            // a call out of order (e.g. download before refresh)
};

// Stable short name, e.g. "hash_mismatch".
std::string_view ErrorName(Error error);

// The generic Status code each TUF failure is reported with.
Code ErrorCode(Error error);

// A Status with ErrorCode(error) and message "tuf/<name>: <message>".
Status TufError(Error error, std::string_view message);

// The TUF code of a status built by TufError (also after WithContext),
// kNone for an OK status or any other failure.
Error ErrorOf(const Status& status);

}  // namespace warden::tuf

#endif  // WARDEN_TUF_ERROR_H_
