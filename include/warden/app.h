// The Warden app SDK: what a device application links to talk to wardend.
//
// wardend starts the application with one end of a Unix socket pair whose
// descriptor number is in WARDEN_APP_FD. The application declares its
// capabilities (each a key, a description, whether the owner may write it,
// and a JSON Schema for its value), publishes their current values, and
// handles commands. wardend checks every command against the capability's
// schema before it reaches the application, so a handler receives values
// that already have the declared shape.
//
//   auto app = warden::sdk::App::FromEnvironment(&error);
//   app->Declare({"setpoint", "Target temperature in °C", true,
//                 {{"type", "number"}, {"minimum", 5}, {"maximum", 30}}});
//   app->OnCommand([&](const std::string& key, const nlohmann::json& value,
//                      std::string* why) { ...; return true; });
//   app->Start("thermostat", "1.0.0", &error);
//   app->Publish("setpoint", 21.5, &error);
//   while (app->ProcessPending(1000, &error)) { ... }
//
// Connecting (FromEnvironment, FromFd) first makes the process
// non-dumpable (prctl PR_SET_DUMPABLE 0): while a process is dumpable, any
// other process of its user may read its memory and environment and take
// its socket with pidfd_getfd, and execve made every program dumpable
// again, so the program has to undo it itself. wardend checks it when the
// app says hello and kills an app that is still dumpable. Core dumps of
// the app are off as a result; do not set it back.
//
// Personal data (guideline 8). The app declares each kind of personal data
// it keeps (DeclareData: a name of [a-z0-9_], a category, a purpose, a
// retention and whether it may leave the device) and keeps its records in
// wardend's data store rather than in files of its own: there they are
// sealed at rest, shown to the owner (export), kept no longer than the
// declared retention, and deleted for good, with a signed receipt, when
// the owner asks or the device's own control does (DeleteAllPersonalData).
// Only kinds this process declared can be reached. Record values are UTF-8
// text of at most kMaxDataValueSize bytes. These calls wait for wardend's
// answer; commands that arrive meanwhile are handled by the next
// ProcessPending.
//
//   app->DeclareData({"schedule", "usage", "Heating schedule", 31536000,
//                     false}, &error);
//   auto id = app->WriteRecord("schedule", "06:30 21.0", &error);
//
// wardend builds the app's whole environment: WARDEN_APP_FD,
// WARDEN_APP_STATE_DIR and HOME (the app's own directory), PATH=/usr/bin:
// /bin, LANG=C.UTF-8, and what the device's configuration adds. stdin is
// /dev/null; what the app writes to stdout and stderr becomes wardend's
// log, one line per event, quoted and rate-limited.
//
// Nothing in this API throws: failures return false with a reason in
// `*error` (which may be null). Exceptions a command handler throws are
// caught and reported to wardend as a refused command. The App is not
// thread-safe: use it from one thread.
#ifndef WARDEN_SDK_APP_H_
#define WARDEN_SDK_APP_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::sdk {

// Largest frame either side sends or accepts (the JSON text, without the
// 4-byte length prefix).
inline constexpr size_t kMaxFrameSize = 64 * 1024;
// The app socket protocol version this SDK speaks.
inline constexpr int kProtocolVersion = 1;
// At most this many capabilities; keys match ^[a-z][a-z0-9_]{0,31}$.
inline constexpr size_t kMaxCapabilities = 64;

// Largest record value, in bytes of UTF-8 text.
inline constexpr size_t kMaxDataValueSize = 8 * 1024;
// Most records one ListRecords answer gives.
inline constexpr size_t kMaxDataListLimit = 256;

// A kind of personal data. `category` is one of "identity", "contact",
// "location", "usage", "sensor", "health", "audio_visual", "other";
// `retention_seconds` from 1 to ten years.
struct DataKind {
  std::string name;  // ^[a-z0-9_]{1,32}$, unique
  std::string category;
  std::string purpose;  // shown to the owner, at most 256 bytes
  int64_t retention_seconds = 0;
  bool may_leave_device = false;
};

struct DataRecord {
  int64_t id = 0;
  int64_t created_at = 0;  // unix seconds, wardend's clock
  std::string value;       // empty in ListRecords answers
};

struct Capability {
  std::string key;          // ^[a-z][a-z0-9_]{0,31}$, unique
  std::string description;  // shown to the owner
  bool writable = false;    // whether the owner may send commands for it
  nlohmann::json schema;    // JSON Schema for the value (see wardend docs)
};

class App {
 public:
  // Handles one command. `value` has already passed the capability's schema.
  // Return true to accept; false with a reason in `*error` (never null) to
  // refuse. Publishing the new value from within the handler, before
  // returning, lets the owner read it back as soon as the command completes.
  using CommandHandler = std::function<bool(
      const std::string& key, const nlohmann::json& value, std::string* error)>;
  // Called when wardend refused a message this App sent (for instance a
  // published value that violates its schema).
  using RefusalHandler = std::function<void(const std::string& message)>;
  // Called when all personal data was deleted (by the owner, or by
  // DeleteAllPersonalData): what the app holds in memory of it, and any
  // value it published from it, is to be dropped.
  using DataDeletedHandler = std::function<void()>;

  // Makes the process non-dumpable, then takes the socket wardend passed
  // in WARDEN_APP_FD. Fails (nullopt, with a reason) when the variable is
  // missing or is not an open stream socket, or prctl fails. Call it before
  // anything else that matters: until then the process is readable by its
  // user's other processes.
  static std::optional<App> FromEnvironment(std::string* error);
  // Makes the process non-dumpable, then takes ownership of a connected
  // stream socket `fd` (not closed on failure).
  static std::optional<App> FromFd(int fd, std::string* error);

  App(App&&) noexcept;
  App& operator=(App&&) noexcept;
  ~App();  // closes the socket

  // Adds a capability to the hello message. Only before Start(); a repeated
  // key replaces the earlier declaration.
  void Declare(Capability capability);
  void OnCommand(CommandHandler handler);
  void OnRefusal(RefusalHandler handler);
  void OnDataDeleted(DataDeletedHandler handler);

  // Sends hello with the declared capabilities and waits up to `timeout_ms`
  // for wardend's welcome. Fails with wardend's reason when it refuses the
  // hello (an invalid key or schema, for instance).
  bool Start(std::string name, std::string version, std::string* error,
             int timeout_ms = 10000);

  // Sends the current value of a declared capability. Only after Start().
  // Fails for an undeclared key, a value whose encoding exceeds
  // kMaxFrameSize, or a broken socket. wardend checks the value against the
  // schema and, if it refuses it, the refusal handler is called later.
  bool Publish(const std::string& key, const nlohmann::json& value,
               std::string* error);

  // The socket, for the application's own poll loop: readable means
  // ProcessPending() has something to do.
  int fd() const;

  // Waits up to `timeout_ms` (0: do not wait, -1: forever) for messages
  // from wardend, then handles every complete one: commands go to the
  // handler and are answered. Returns true when the connection is still up
  // (also when nothing arrived or a signal interrupted the wait); false
  // when wardend closed the socket or broke the protocol.
  bool ProcessPending(int timeout_ms, std::string* error);

  // Declares a kind of personal data. Before Start() it goes with the
  // hello (and a refused declaration makes Start fail); after, it is sent
  // at once. A repeated name replaces the earlier declaration. Fails with
  // wardend's reason when it refuses the declaration.
  bool DeclareData(DataKind kind, std::string* error);
  // Stores a new record of a declared kind; its id, or nullopt with
  // wardend's reason (an undeclared kind, a value too large or not UTF-8,
  // a full store). Only after Start().
  std::optional<int64_t> WriteRecord(const std::string& kind,
                                     std::string_view value,
                                     std::string* error);
  // One record; nullopt when there is none of that id (or on failure).
  std::optional<DataRecord> ReadRecord(const std::string& kind, int64_t id,
                                       std::string* error);
  // Up to `limit` (at most kMaxDataListLimit) records with an id above
  // `after`, oldest first, without their values.
  std::optional<std::vector<DataRecord>> ListRecords(const std::string& kind,
                                                     int64_t after,
                                                     size_t limit,
                                                     std::string* error);
  // Deletes one record.
  bool EraseRecord(const std::string& kind, int64_t id, std::string* error);
  // Deletes all personal data the device holds, as the device's own
  // control (a reset button) asks it: the receipt names "device button" as
  // who asked. Returns the signed receipt (JSON text) once everything is
  // gone. Waits up to `timeout_ms`.
  std::optional<std::string> DeleteAllPersonalData(std::string* error,
                                                   int timeout_ms = 120000);

 private:
  struct State;
  explicit App(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The directory wardend gives the application for its own files
// (WARDEN_APP_STATE_DIR), or nullopt when it is not set.
std::optional<std::string> StateDir();

// Replaces `path` atomically with `data` (temporary file, fsync, rename,
// fsync of the directory), so a power cut leaves the old or the new
// content. Mode 0600.
bool WriteFileAtomic(const std::string& path, std::string_view data,
                     std::string* error);

// Reads a whole file of at most `max_size` bytes. nullopt (with a reason)
// when it is missing, unreadable or larger.
std::optional<std::string> ReadSmallFile(const std::string& path,
                                         size_t max_size, std::string* error);

}  // namespace warden::sdk

#endif  // WARDEN_SDK_APP_H_
