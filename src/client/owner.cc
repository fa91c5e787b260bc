#include "client/owner.h"

#include <termios.h>
#include <unistd.h>

#include "base/time_format.h"
#include "client/api_error.h"
#include "crypto/secret.h"
#include "platform/file.h"

namespace warden::client {
namespace {

constexpr size_t kMaxSecret = 4096;

Result<std::string> TrimSecret(std::string text, std::string_view what) {
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
  }
  if (text.empty()) {
    return InvalidArgumentError("the " + std::string(what) + " is empty");
  }
  if (text.find('\n') != std::string::npos) {
    crypto::Wipe(text);
    return InvalidArgumentError("the " + std::string(what) +
                                " must be one line");
  }
  return text;
}

// `text` as one path segment: unreserved characters kept, every other
// byte as %XX (RFC 3986).
std::string PercentEncodeSegment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

Result<PairResult> PairDevice(const std::string& home,
                              std::string_view url_text, uint32_t passcode,
                              std::string_view name,
                              std::string_view owner_name,
                              std::optional<std::string> password,
                              const Clock& clock, Rng& rng,
                              const ConnectOptions& connect) {
  WARDEN_ASSIGN_OR_RETURN(web::Url url, web::ParseUrl(url_text));
  if (!name.empty()) WARDEN_TRY(ValidateDeviceName(name));
  WARDEN_TRY(EnsureHomeDir(home));
  WARDEN_ASSIGN_OR_RETURN(Registry registry, Registry::Load(home));
  if (!name.empty() && registry.devices().count(std::string(name)) != 0) {
    return AlreadyExistsError("a device named \"" + std::string(name) +
                              "\" is already registered (choose --name)");
  }
  WARDEN_ASSIGN_OR_RETURN(OwnerIdentity identity,
                          LoadOrCreateOwnerIdentity(home, clock));

  PairRequest request;
  request.url = url;
  request.passcode = passcode;
  request.name = std::string(name);
  request.owner_name = std::string(owner_name);
  request.password = std::move(password);
  request.connect = connect;
  request.check_name = [&registry](const std::string& n) -> Status {
    Status valid = ValidateDeviceName(n);
    if (!valid.ok()) {
      return InvalidArgumentError(
          "the unit's serial is not usable as a name (" + valid.message() +
          "); choose --name");
    }
    if (registry.devices().count(n) != 0) {
      return AlreadyExistsError("a device named \"" + n +
                                "\" is already registered (choose --name)");
    }
    return Status::Ok();
  };
  WARDEN_ASSIGN_OR_RETURN(PairResult result,
                          Pair(std::move(request), identity, rng));

  DeviceRecord record{
      .name = result.name,
      .url = url,
      .fingerprint = result.fingerprint,
      .serial = result.serial,
      .model = result.model,
      .paired_at = FormatTimestamp(clock.Now()),
  };
  Status saved = registry.Add(record);
  if (saved.ok()) saved = registry.Save();
  if (!saved.ok()) {
    return saved.WithContext("paired with " + result.serial + " (certificate " +
                             result.fingerprint +
                             ") but could not record it in " + home);
  }
  return result;
}

Status ValidateKey(std::string_view key) {
  bool ok = !key.empty() && key.size() <= 32 && key.front() >= 'a' &&
            key.front() <= 'z';
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      ok = false;
    }
  }
  if (!ok) {
    return InvalidArgumentError(
        "a key is a lowercase letter followed by up to 31 lowercase letters, "
        "digits or '_'");
  }
  return Status::Ok();
}

Result<DeviceSession> DeviceSession::Open(const std::string& home,
                                          std::string_view name,
                                          const ConnectOptions& connect) {
  WARDEN_ASSIGN_OR_RETURN(Registry registry, Registry::Load(home));
  WARDEN_ASSIGN_OR_RETURN(DeviceRecord record, registry.Find(name));
  WARDEN_ASSIGN_OR_RETURN(OwnerIdentity identity, LoadOwnerIdentity(home));
  ConnectOptions options = connect;
  options.pinned_fingerprint = record.fingerprint;
  options.client_key = &identity.key;
  options.client_certificate = &identity.certificate;
  // The SSL context keeps its own references to the key and certificate.
  WARDEN_ASSIGN_OR_RETURN(Connection conn,
                          Connection::Open(record.url, options));
  return DeviceSession(std::move(record), std::move(conn));
}

Result<schema::Json> DeviceSession::Call(
    http::verb method, std::string_view target,
    const std::optional<schema::Json>& body, std::string_view context) {
  WARDEN_ASSIGN_OR_RETURN(web::Response r, conn_.Request(method, target, body));
  WARDEN_TRY(StatusFromResponse(r, context, conn_.limits()));
  if (r.result() == http::status::no_content) return schema::Json::object();
  WARDEN_ASSIGN_OR_RETURN(schema::Json j, ReplyJson(r, conn_.limits()));
  if (!j.is_object()) {
    return UnavailableError("device reply is not a JSON object");
  }
  return j;
}

Result<schema::Json> DeviceSession::DataInventory() {
  return Call(http::verb::get, "/v1/data/inventory", std::nullopt,
              "device refused the data inventory");
}

Result<schema::Json> DeviceSession::DataExport() {
  return Call(http::verb::get, "/v1/data/export", std::nullopt,
              "device refused the data export");
}

Result<schema::Json> DeviceSession::DataEvents(int64_t after) {
  const std::string path = after > 0
                               ? "/v1/data/events/" + std::to_string(after)
                               : std::string("/v1/data/events");
  return Call(http::verb::get, path, std::nullopt,
              "device refused its event log");
}

Result<schema::Json> DeviceSession::DataReceipts() {
  WARDEN_ASSIGN_OR_RETURN(
      schema::Json j, Call(http::verb::get, "/v1/data/receipts", std::nullopt,
                           "device refused the receipts"));
  if (!j.contains("receipts") || !j["receipts"].is_array()) {
    return UnavailableError("device reply has no list of receipts");
  }
  return j;
}

Result<schema::Json> DeviceSession::DataDelete() {
  WARDEN_ASSIGN_OR_RETURN(
      schema::Json j, Call(http::verb::post, "/v1/data/delete",
                           schema::Json::object(), "device refused deletion"));
  if (!j.contains("kinds") || !j["kinds"].is_array() ||
      !j.contains("completed_at")) {
    return UnavailableError("device did not confirm the deletion");
  }
  return j;
}

Result<schema::Json> DeviceSession::UpdateStatus() {
  return Call(http::verb::get, "/v1/update", std::nullopt,
              "device refused the update status");
}

Result<schema::Json> DeviceSession::UpdateAction(std::string_view action,
                                                 const schema::Json& body) {
  if (action != "check" && action != "install" && action != "defer" &&
      action != "upload" && action != "reinstall") {
    return InvalidArgumentError("unknown update action " + std::string(action));
  }
  return Call(http::verb::post, "/v1/update/" + std::string(action), body,
              "device refused update " + std::string(action));
}

Result<schema::Json> DeviceSession::Info() {
  return Call(http::verb::get, "/v1/info", std::nullopt, "device refused info");
}

Result<schema::Json> DeviceSession::State() {
  WARDEN_ASSIGN_OR_RETURN(
      schema::Json j,
      Call(http::verb::get, "/v1/state", std::nullopt, "device refused state"));
  auto it = j.find("state");
  if (it == j.end() || !it->is_object()) {
    return UnavailableError("device state reply lacks \"state\"");
  }
  return *it;
}

Result<schema::Json> DeviceSession::Capabilities() {
  WARDEN_ASSIGN_OR_RETURN(
      schema::Json j, Call(http::verb::get, "/v1/capabilities", std::nullopt,
                           "device refused capabilities"));
  auto it = j.find("capabilities");
  if (it == j.end() || !it->is_array()) {
    return UnavailableError("device capabilities reply lacks \"capabilities\"");
  }
  return *it;
}

Result<schema::Json> DeviceSession::Get(std::string_view key) {
  WARDEN_TRY(ValidateKey(key));
  std::string k(key);
  WARDEN_ASSIGN_OR_RETURN(schema::Json j,
                          Call(http::verb::get, "/v1/state/" + k, std::nullopt,
                               "device refused " + k));
  if (!j.contains("value")) {
    return UnavailableError("device reply lacks \"value\"");
  }
  return j;
}

Result<schema::Json> DeviceSession::Set(std::string_view key,
                                        const schema::Json& value) {
  WARDEN_TRY(ValidateKey(key));
  std::string k(key);
  WARDEN_ASSIGN_OR_RETURN(
      schema::Json j,
      Call(http::verb::put, "/v1/state/" + k, schema::Json{{"value", value}},
           "device refused " + k));
  if (!j.contains("value")) {
    return UnavailableError("device reply lacks \"value\"");
  }
  return j;
}

Status DeviceSession::SetPassword(std::string password) {
  schema::Json body = {{"password", password}};
  crypto::Wipe(password);
  Result<schema::Json> r = Call(http::verb::put, "/v1/owner/password", body,
                                "device refused the password");
  crypto::Wipe(body["password"].get_ref<std::string&>());
  return r.status();
}

Status DeviceSession::Reset() {
  WARDEN_ASSIGN_OR_RETURN(schema::Json j,
                          Call(http::verb::post, "/v1/reset",
                               schema::Json::object(), "device refused reset"));
  auto it = j.find("paired");
  if (it == j.end() || !it->is_boolean() || it->get<bool>()) {
    return UnavailableError("device did not confirm the reset");
  }
  return Status::Ok();
}

Result<schema::Json> DeviceSession::Transfer() {
  WARDEN_ASSIGN_OR_RETURN(schema::Json j, Call(http::verb::post, "/v1/reset",
                                               schema::Json{{"transfer", true}},
                                               "device refused the transfer"));
  auto paired = j.find("paired");
  auto deletion = j.find("deletion");
  if (paired == j.end() || !paired->is_boolean() || paired->get<bool>() ||
      deletion == j.end() || !deletion->is_object() ||
      !deletion->value("unpaired", false)) {
    return UnavailableError("device did not confirm the transfer");
  }
  return *deletion;
}

Result<int64_t> DeviceSession::OpenPairing(int minutes, bool admin) {
  if (minutes < 1 || minutes > 30) {
    return InvalidArgumentError("minutes must be from 1 to 30");
  }
  WARDEN_ASSIGN_OR_RETURN(
      schema::Json j, Call(http::verb::post, "/v1/pair/open",
                           schema::Json{{"minutes", minutes},
                                        {"role", admin ? "admin" : "member"}},
                           "device refused to open pairing"));
  auto it = j.find("open_until");
  if (it == j.end() || !it->is_number_integer()) {
    return UnavailableError("device reply lacks \"open_until\"");
  }
  return it->get<int64_t>();
}

Result<schema::Json> DeviceSession::Owners() {
  WARDEN_ASSIGN_OR_RETURN(schema::Json j,
                          Call(http::verb::get, "/v1/owners", std::nullopt,
                               "device refused the owners"));
  auto it = j.find("owners");
  if (it == j.end() || !it->is_array()) {
    return UnavailableError("device owners reply lacks \"owners\"");
  }
  return j;
}

Status DeviceSession::RemoveOwner(std::string_view owner) {
  if (owner.empty() || owner.size() > 64) {
    return InvalidArgumentError("an owner name is 1 to 64 characters");
  }
  return Call(http::verb::delete_, "/v1/owners/" + PercentEncodeSegment(owner),
              std::nullopt, "device refused to remove " + std::string(owner))
      .status();
}

Status ResetDevice(const std::string& home, std::string_view name,
                   const ConnectOptions& connect) {
  return ResetDevice(home, name, false, nullptr, connect);
}

Status ResetDevice(const std::string& home, std::string_view name,
                   bool transfer, schema::Json* deletion,
                   const ConnectOptions& connect) {
  {
    WARDEN_ASSIGN_OR_RETURN(DeviceSession session,
                            DeviceSession::Open(home, name, connect));
    if (transfer) {
      WARDEN_ASSIGN_OR_RETURN(schema::Json done, session.Transfer());
      if (deletion != nullptr) *deletion = std::move(done);
    } else {
      WARDEN_TRY(session.Reset());
    }
  }
  WARDEN_ASSIGN_OR_RETURN(Registry registry, Registry::Load(home));
  WARDEN_TRY(registry.Remove(name));
  return registry.Save();
}

Result<std::string> ReadSecretFile(const std::string& path,
                                   std::string_view what) {
  Result<std::string> text = platform::ReadFile(path, kMaxSecret + 2);
  if (!text.ok()) {
    if (text.status().code() == Code::kResourceExhausted) {
      return InvalidArgumentError(std::string(what) + " file " + path +
                                  " is longer than 4096 bytes");
    }
    return text.status();
  }
  return TrimSecret(std::move(text).value(), what);
}

Result<std::string> ReadSecretStream(std::FILE* stream, std::string_view what) {
  std::string text;
  char buf[512];
  while (true) {
    size_t n = std::fread(buf, 1, sizeof(buf), stream);
    text.append(buf, n);
    crypto::Wipe(buf, sizeof(buf));
    if (text.size() > kMaxSecret + 2) {
      crypto::Wipe(text);
      return InvalidArgumentError(std::string(what) +
                                  " is longer than 4096 bytes");
    }
    if (n < sizeof(buf)) break;
  }
  if (std::ferror(stream)) {
    crypto::Wipe(text);
    return IoError("cannot read the " + std::string(what));
  }
  return TrimSecret(std::move(text), what);
}

Result<std::string> PromptSecret(std::FILE* stream, std::string_view prompt,
                                 std::string_view what) {
  int fd = fileno(stream);
  termios saved{};
  if (fd < 0 || !isatty(fd) || tcgetattr(fd, &saved) != 0) {
    return FailedPreconditionError("standard input is not a terminal");
  }
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  // Echo goes off before the prompt shows, so nothing typed after it can
  // appear; what was typed before the prompt is discarded.
  if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
    return FailedPreconditionError("cannot turn off the terminal's echo");
  }
  std::fprintf(stderr, "%.*s", static_cast<int>(prompt.size()), prompt.data());
  std::fflush(stderr);
  std::string text;
  bool too_long = false;
  while (true) {
    int c = std::fgetc(stream);
    if (c == EOF) break;
    if (text.size() > kMaxSecret) {
      too_long = true;
    } else {
      text.push_back(static_cast<char>(c));
    }
    if (c == '\n') break;
  }
  bool failed = std::ferror(stream) != 0;
  tcsetattr(fd, TCSANOW, &saved);
  if (failed || too_long) {
    crypto::Wipe(text);
    return failed ? IoError("cannot read the " + std::string(what))
                  : InvalidArgumentError(std::string(what) +
                                         " is longer than 4096 bytes");
  }
  return TrimSecret(std::move(text), what);
}

schema::Json ParseValueArgument(std::string_view text) {
  schema::JsonLimits limits;
  Result<schema::Json> j = schema::ParseJson(text, limits);
  if (j.ok()) return std::move(j).value();
  return schema::Json(std::string(text));
}

}  // namespace warden::client
