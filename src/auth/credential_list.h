// The text of data/default-credentials.txt, compiled into the library by
// CMake (credential_list.cc.in) so the daemon needs no file at run time.
// Only password.cc reads it; the public view is IsKnownDefaultCredential.
#ifndef WARDEN_AUTH_CREDENTIAL_LIST_H_
#define WARDEN_AUTH_CREDENTIAL_LIST_H_

#include <string_view>

namespace warden::auth::internal {

// The file's bytes, unparsed. Lives for the whole program.
std::string_view DefaultCredentialListText();

}  // namespace warden::auth::internal

#endif  // WARDEN_AUTH_CREDENTIAL_LIST_H_
