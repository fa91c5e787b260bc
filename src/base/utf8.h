// Checking that text is well-formed UTF-8 before it goes where only
// UTF-8 may go (JSON, a file a standard says is UTF-8).
//
// Accepted: exactly the sequences RFC 3629 allows, one to four bytes each,
// for the scalar values U+0000..U+D7FF and U+E000..U+10FFFF. Refused: a
// stray continuation byte; a lead byte 0xC0, 0xC1 or 0xF5..0xFF; a
// sequence cut short (also at the end of the text); an overlong form (a
// value written in more bytes than it needs, e.g. C0 AF for '/'); the
// UTF-16 surrogates U+D800..U+DFFF (ED A0 80..ED BF BF); and anything above
// U+10FFFF. U+0000 itself is accepted: whether a NUL is wanted is the
// caller's question, not an encoding one.
#ifndef WARDEN_BASE_UTF8_H_
#define WARDEN_BASE_UTF8_H_

#include <string_view>

#include "base/bytes.h"

namespace warden {

// True when all of `text` is well-formed UTF-8 as above; the empty text
// is.
bool IsValidUtf8(ByteView text);
inline bool IsValidUtf8(std::string_view text) {
  return IsValidUtf8(AsBytes(text));
}

}  // namespace warden

#endif  // WARDEN_BASE_UTF8_H_
