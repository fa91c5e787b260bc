// Canonical JSON as TUF signs it: securesystemslib's encode_canonical.
// Object keys sorted (by UTF-8 bytes, which is code point order), no
// whitespace, strings with only '\' and '"' escaped (every other byte,
// control characters included, as is), integers only, true/false/null.
//
// The bytes a TUF signature covers are this encoding of the "signed"
// object, so a client and a signer must agree on it to the byte.
#ifndef WARDEN_TUF_CANONICAL_JSON_H_
#define WARDEN_TUF_CANONICAL_JSON_H_

#include <string>

#include "base/status.h"
#include "schema/json.h"

namespace warden::tuf {

// The canonical encoding of `value`. A floating-point number anywhere in it
// is kInvalidArgument (securesystemslib refuses them too).
Result<std::string> EncodeCanonical(const schema::Json& value);

}  // namespace warden::tuf

#endif  // WARDEN_TUF_CANONICAL_JSON_H_
