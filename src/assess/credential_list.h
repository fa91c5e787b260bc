// The text of data/assess-credentials.txt, compiled into the library by
// CMake (credential_list.cc.in) so the assessor needs no data file at run
// time. Only credentials.cc reads it; the public view is
// ShippedCredentials.
#ifndef WARDEN_ASSESS_CREDENTIAL_LIST_H_
#define WARDEN_ASSESS_CREDENTIAL_LIST_H_

#include <string_view>

namespace warden::assess::internal {

// The file's bytes, unparsed. Lives for the whole program.
std::string_view AssessCredentialListText();

}  // namespace warden::assess::internal

#endif  // WARDEN_ASSESS_CREDENTIAL_LIST_H_
