// What the owner does with paired devices, on top of the home directory,
// the registry and pinned mutual-TLS connections. The `warden` tool is a
// thin layer of argument parsing and printing over these calls.
#ifndef WARDEN_CLIENT_OWNER_H_
#define WARDEN_CLIENT_OWNER_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/rng.h"
#include "base/status.h"
#include "client/connection.h"
#include "client/home.h"
#include "client/pair.h"
#include "client/registry.h"
#include "schema/json.h"

namespace warden::client {

// Pairs with the device at `url_text` and records it in the registry of
// `home`, creating the home directory (0700) and the owner identity on
// first use. `name` defaults to the unit's serial; it must be a valid
// device name not yet registered, which is checked before the owner key is
// sent. `owner_name` is what the device calls this owner (empty:
// DefaultOwnerName()). Nothing is registered when pairing fails. Errors as
// Pair, plus kAlreadyExists for a taken name; if the device paired but the
// registry cannot be written, the error says so and names the fingerprint.
Result<PairResult> PairDevice(const std::string& home,
                              std::string_view url_text, uint32_t passcode,
                              std::string_view name,
                              std::string_view owner_name,
                              std::optional<std::string> password,
                              const Clock& clock, Rng& rng,
                              const ConnectOptions& connect = {});

// A capability key: ^[a-z][a-z0-9_]{0,31}$. kInvalidArgument otherwise.
Status ValidateKey(std::string_view key);

// One connection to a registered device: pinned certificate, owner
// certificate presented. Each call is one request; a refused request is a
// Status from StatusFromResponse with context "device refused ...".
class DeviceSession {
 public:
  // kNotFound for an unknown name; kNotFound/kDataLoss for a missing or
  // broken owner identity; connection errors as Connection::Open
  // (kUnauthenticated "device certificate changed" on a pin mismatch).
  static Result<DeviceSession> Open(const std::string& home,
                                    std::string_view name,
                                    const ConnectOptions& connect = {});

  const DeviceRecord& record() const { return record_; }

  Result<schema::Json> Info();          // GET /v1/info
  Result<schema::Json> State();         // GET /v1/state -> the "state" object
  Result<schema::Json> Capabilities();  // GET /v1/capabilities -> the array
  Result<schema::Json> Get(std::string_view key);  // -> {"key","value"}
  Result<schema::Json> Set(std::string_view key,
                           const schema::Json& value);  // -> {"key","value"}
  // PUT /v1/owner/password. The password is wiped after sending.
  Status SetPassword(std::string password);
  // POST /v1/reset: the device forgets every owner.
  Status Reset();
  // POST /v1/reset {"transfer": true}: the device deletes all personal
  // data and forgets every owner in one step; returns the deletion
  // (as DataDelete's reply, with "receipt").
  Result<schema::Json> Transfer();
  // Lets one more owner pair with the label's code within `minutes`
  // (1..30), as an administrator when `admin`, else as a member. Returns
  // the unix time the window closes. Needs an administrator.
  Result<int64_t> OpenPairing(int minutes, bool admin = false);
  // GET /v1/owners: {"owners": [{"name", "role", "created_at", "key"}],
  // "you": NAME}.
  Result<schema::Json> Owners();
  // DELETE /v1/owners/NAME. Needs an administrator.
  Status RemoveOwner(std::string_view owner);

  // GET /v1/update: the updater's status (docs/PROTOCOLS.md, "Updates").
  Result<schema::Json> UpdateStatus();
  // POST /v1/update/ACTION with `body`: check, install, defer, upload,
  // reinstall. `action` is one of those names (kInvalidArgument otherwise).
  Result<schema::Json> UpdateAction(std::string_view action,
                                    const schema::Json& body);

  // GET /v1/data/inventory: {"kinds": [{"name", "category", "purpose",
  // "retention_seconds", "may_leave_device"}], ...}.
  Result<schema::Json> DataInventory();
  // GET /v1/data/export: every personal record the device holds
  // (docs/PROTOCOLS.md, "Personal data"); bounded by the reply limits.
  Result<schema::Json> DataExport();
  // GET /v1/data/events[/{after}]: one page of wardend's event log,
  // {"entries": [...], "next": id | null} (docs/PROTOCOLS.md).
  Result<schema::Json> DataEvents(int64_t after);

  // GET /v1/data/receipts: {"receipts": [...]}, the signed receipts of the
  // device's last deletions, newest first. Checking them is the caller's.
  Result<schema::Json> DataReceipts();
  // POST /v1/data/delete: deletes all personal data; returns what was
  // deleted. Needs an administrator.
  Result<schema::Json> DataDelete();

 private:
  DeviceSession(DeviceRecord record, Connection conn)
      : record_(std::move(record)), conn_(std::move(conn)) {}
  Result<schema::Json> Call(http::verb method, std::string_view target,
                            const std::optional<schema::Json>& body,
                            std::string_view context);
  DeviceRecord record_;
  Connection conn_;
};

// Resets the device registered as `name` and then removes it from the
// registry. The registry is left alone when the device refuses.
// With `transfer`, the device also deletes all personal data
// (DeviceSession::Transfer), whose reply goes to `*deletion` when not null.
Status ResetDevice(const std::string& home, std::string_view name,
                   bool transfer, schema::Json* deletion,
                   const ConnectOptions& connect = {});
Status ResetDevice(const std::string& home, std::string_view name,
                   const ConnectOptions& connect = {});

// Reads a secret (a password, a setup code) from a file or a stream: at
// most 4 KiB, one trailing "\n" or "\r\n" removed, must be one non-empty
// line. kInvalidArgument when empty, longer or more than one line; `what`
// names the secret in messages. Every copy read is wiped.
Result<std::string> ReadSecretFile(const std::string& path,
                                   std::string_view what = "password");
Result<std::string> ReadSecretStream(std::FILE* stream,
                                     std::string_view what = "password");

// Asks for a secret on the terminal `stream` is (prompt on stderr) and
// reads one line with echo off, so that the secret never shows on screen;
// the terminal's settings are restored afterwards. kFailedPrecondition
// when `stream` is not a terminal; otherwise as ReadSecretStream.
Result<std::string> PromptSecret(std::FILE* stream, std::string_view prompt,
                                 std::string_view what);

// A value typed on the command line: JSON when it parses as JSON, else the
// text itself as a JSON string.
schema::Json ParseValueArgument(std::string_view text);

}  // namespace warden::client

#endif  // WARDEN_CLIENT_OWNER_H_
