// Pairing: the owner proves knowledge of the unit's setup code with SPAKE2+
// (docs/PROTOCOLS.md "Pairing") and registers the owner's public key, and
// the device certificate seen on that connection becomes the pin for every
// later connection.
//
// The three requests (begin, exchange, confirm) travel on one TLS
// connection, and the SPAKE2+ context contains that connection's TLS
// exporter value: a relay that terminates TLS on both sides derives a
// different context on each, and the confirmation MACs fail. That is what
// makes accepting an unknown certificate during pairing safe.
#ifndef WARDEN_CLIENT_PAIR_H_
#define WARDEN_CLIENT_PAIR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/rng.h"
#include "base/status.h"
#include "client/connection.h"
#include "client/home.h"
#include "web/url.h"

namespace warden::client {

struct PairRequest {
  web::Url url;
  uint32_t passcode = 0;
  // The owner's name for the device in the registry; empty means the
  // unit's serial.
  std::string name;
  // The name the device knows this owner by (1..64 printable characters,
  // unique among its owners); empty means DefaultOwnerName().
  std::string owner_name;
  // The owner password for browser logins; absent for none.
  std::optional<std::string> password;
  // Called with the final name after the device has been identified and
  // before the owner key is sent; an error aborts pairing with nothing
  // registered on the device. May be empty.
  std::function<Status(const std::string& name)> check_name;
  ConnectOptions connect;  // pinned_fingerprint and client key are ignored
};

struct PairResult {
  std::string name;         // the device's name in the owner's registry
  std::string owner;        // the name the device registered the owner by
  std::string serial;       // the unit's serial (idVerifier)
  std::string model;        // from /v1/info; may be empty
  std::string fingerprint;  // hex SHA-256 of the device certificate DER
};

// Runs /v1/info, begin, exchange and confirm on one connection, presenting
// `identity` as the TLS client certificate and registering its public key.
// When the device's confirmation shows the code to be wrong (or the
// connection relayed), our confirmation is sent all the same, without the
// password, so that the device refuses and counts the attempt; the result
// is kUnauthenticated "the setup code is wrong", also when the device
// answers anything else (a device that accepts is named as misbehaving).
// Errors: kUnauthenticated for a wrong setup code or a relayed connection,
// when the device refuses our proof, and when the device reports a
// certificate other than the one seen;
// kFailedPrecondition "already paired"; kResourceExhausted when throttled
// (message carries the retry delay); kInvalidArgument for a refused
// password or name (field and rule in the message); transport errors as in
// Connection. The password is wiped from memory after sending.
// "USER@HOST" of the local login, cut to 64 printable characters; "owner"
// when neither is known. What an owner is called on a device unless they
// choose (two people sharing a device must not both be "home").
std::string DefaultOwnerName();

Result<PairResult> Pair(PairRequest request, const OwnerIdentity& identity,
                        Rng& rng);

}  // namespace warden::client

#endif  // WARDEN_CLIENT_PAIR_H_
