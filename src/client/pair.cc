#include "client/pair.h"

#include <boost/asio/ip/host_name.hpp>
#include <cstdlib>

#include "client/api_error.h"
#include "crypto/hash.h"
#include "crypto/secret.h"
#include "crypto/spake2plus.h"
#include "pairing/pairing_protocol.h"

namespace warden::client {
namespace {

namespace spake = crypto::spake2plus;

constexpr size_t kMaxServerString = 256;

Result<std::string> StringField(const schema::Json& j, const char* key,
                                std::string_view what) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return UnavailableError(std::string(what) + ": reply lacks \"" + key +
                            "\"");
  }
  std::string s = it->get<std::string>();
  if (s.size() > 64 * 1024) {
    return UnavailableError(std::string(what) + ": \"" + key +
                            "\" is too long");
  }
  return s;
}

Result<Bytes> Base64Field(const schema::Json& j, const char* key,
                          std::string_view what) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, StringField(j, key, what));
  Result<Bytes> b = Base64Decode(text);
  if (!b.ok()) {
    return UnavailableError(std::string(what) + ": \"" + key +
                            "\" is not base64");
  }
  return b;
}

Result<schema::Json> Call(Connection& conn, http::verb method,
                          std::string_view target,
                          const std::optional<schema::Json>& body,
                          std::string_view context) {
  WARDEN_ASSIGN_OR_RETURN(web::Response r, conn.Request(method, target, body));
  WARDEN_TRY(StatusFromResponse(r, context, conn.limits()));
  WARDEN_ASSIGN_OR_RETURN(schema::Json j, ReplyJson(r, conn.limits()));
  if (!j.is_object()) {
    return UnavailableError(std::string(context) +
                            ": reply is not a JSON object");
  }
  return j;
}

bool PrintableText(std::string_view s) {
  if (s.empty() || s.size() > kMaxServerString) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

schema::Json ConfirmBody(const spake::ProverAttempt& attempt,
                         const OwnerIdentity& identity, const std::string& name,
                         const std::optional<std::string>& password) {
  Bytes key_proof =
      pairing::KeyProof(attempt.shared_key.view(), identity.key.public_key());
  schema::Json body = {
      {"confirm_p", Base64Encode(attempt.confirm_p)},
      {"client_key", identity.key.public_key().ToPem()},
      {"key_proof", Base64Encode(key_proof)},
      {"name", name},
  };
  if (password.has_value()) body["password"] = *password;
  return body;
}

// The device's confirmation was wrong: sends our confirmation anyway so the
// device refuses it where the owner and the device's log can see it, and
// reports the wrong code whatever the device answers.
Status RefusedAttempt(Connection& conn, const spake::ProverAttempt& attempt,
                      const OwnerIdentity& identity, const std::string& name) {
  constexpr std::string_view kWrong =
      "pairing failed: the setup code is wrong (if it is right, the "
      "connection is being relayed)";
  Result<web::Response> r =
      conn.Request(http::verb::post, "/v1/pair/confirm",
                   ConfirmBody(attempt, identity, name, std::nullopt));
  conn.Close();
  if (!r.ok()) {
    return UnauthenticatedError(
        std::string(kWrong) +
        "; the device was not told: " + r.status().message());
  }
  if (r->result() == http::status::unauthorized) {
    return UnauthenticatedError(std::string(kWrong) +
                                "; the device refused it too");
  }
  if (http::to_status_class(r->result()) == http::status_class::successful) {
    return UnauthenticatedError(
        "pairing failed: the device accepted a setup code that its own "
        "confirmation shows to be wrong; it does not behave as a Warden "
        "device, and nothing was recorded");
  }
  return UnauthenticatedError(
      std::string(kWrong) + "; the device answered: " +
      StatusFromResponse(*r, "", conn.limits()).message());
}

}  // namespace

Result<PairResult> Pair(PairRequest request, const OwnerIdentity& identity,
                        Rng& rng) {
  // Wipes the password whatever way we leave.
  struct PasswordWiper {
    std::optional<std::string>& p;
    ~PasswordWiper() {
      if (p.has_value()) crypto::Wipe(*p);
    }
  } wiper{request.password};

  ConnectOptions options = request.connect;
  options.pinned_fingerprint.reset();
  options.client_key = &identity.key;
  options.client_certificate = &identity.certificate;
  WARDEN_ASSIGN_OR_RETURN(Connection conn,
                          Connection::Open(request.url, options));

  PairResult result;
  result.fingerprint = conn.peer_fingerprint();

  // Public information first, on the same connection.
  WARDEN_ASSIGN_OR_RETURN(
      schema::Json info,
      Call(conn, http::verb::get, "/v1/info", std::nullopt, "device info"));
  if (auto it = info.find("model"); it != info.end() && it->is_string()) {
    result.model = Printable(it->get<std::string>(), kMaxServerString);
  }

  // 1. begin
  Result<web::Response> begin_r =
      conn.Request(http::verb::post, "/v1/pair/begin", schema::Json::object());
  if (!begin_r.ok()) return begin_r.status();
  if (begin_r->result() == http::status::conflict) {
    return FailedPreconditionError(
        "device is already paired (an owner must run 'warden share' "
        "or reset it first)");
  }
  WARDEN_TRY(StatusFromResponse(*begin_r, "pairing refused", conn.limits()));
  WARDEN_ASSIGN_OR_RETURN(schema::Json begin,
                          ReplyJson(*begin_r, conn.limits()));
  if (!begin.is_object()) {
    return UnavailableError("pairing: begin reply is not a JSON object");
  }
  WARDEN_ASSIGN_OR_RETURN(std::string suite,
                          StringField(begin, "suite", "pairing"));
  if (suite != pairing::kSuite) {
    return UnavailableError("pairing: device offers unsupported suite \"" +
                            Printable(suite, 64) + "\"");
  }
  WARDEN_ASSIGN_OR_RETURN(Bytes salt, Base64Field(begin, "salt", "pairing"));
  auto it_iter = begin.find("iterations");
  if (it_iter == begin.end() || !it_iter->is_number_unsigned() ||
      it_iter->get<uint64_t>() > UINT32_MAX) {
    return UnavailableError("pairing: begin reply lacks \"iterations\"");
  }
  uint32_t iterations = static_cast<uint32_t>(it_iter->get<uint64_t>());
  WARDEN_ASSIGN_OR_RETURN(result.serial,
                          StringField(begin, "id_verifier", "pairing"));
  if (!PrintableText(result.serial)) {
    return UnavailableError("pairing: device serial is empty or unprintable");
  }
  result.name = request.name.empty() ? result.serial : request.name;
  if (request.check_name) WARDEN_TRY(request.check_name(result.name));
  result.owner =
      request.owner_name.empty() ? DefaultOwnerName() : request.owner_name;

  // 2. exchange
  WARDEN_ASSIGN_OR_RETURN(Bytes exporter,
                          conn.ExportKeyingMaterial(pairing::kExporterLabel,
                                                    pairing::kExporterLength));
  spake::Identities ids;
  ids.context = pairing::PairingContext(exporter);
  ids.id_prover = ToBytes(pairing::kProverId);
  ids.id_verifier = ToBytes(result.serial);
  Result<spake::ProverSecrets> secrets =
      spake::DeriveProverSecrets(request.passcode, salt, iterations);
  if (!secrets.ok()) {
    return UnavailableError("pairing: device sent unusable parameters: " +
                            secrets.status().message());
  }
  WARDEN_ASSIGN_OR_RETURN(
      spake::Prover prover,
      spake::Prover::Create(crypto::HashAlg::kSha256, std::move(ids),
                            secrets->w0.view(), secrets->w1.view(), rng));
  WARDEN_ASSIGN_OR_RETURN(
      schema::Json exchange,
      Call(conn, http::verb::post, "/v1/pair/exchange",
           schema::Json{{"share_p", Base64Encode(prover.share_p())}},
           "pairing refused"));
  WARDEN_ASSIGN_OR_RETURN(Bytes share_v,
                          Base64Field(exchange, "share_v", "pairing"));
  WARDEN_ASSIGN_OR_RETURN(Bytes confirm_v,
                          Base64Field(exchange, "confirm_v", "pairing"));
  Result<spake::ProverAttempt> attempt =
      prover.FinishAttempt(share_v, confirm_v);
  if (!attempt.ok()) {
    return UnavailableError("pairing: device sent an unusable share (" +
                            attempt.status().message() + ")");
  }
  if (!attempt->verifier_confirmed) {
    // The device did not prove the code. We still send our proof, without
    // the password, so that the device sees the failed attempt and counts
    // it: a client that stops here would let guesses go unseen.
    return RefusedAttempt(conn, *attempt, identity, result.owner);
  }

  // 3. confirm: prove the owner key belongs to this exchange.
  schema::Json confirm_body =
      ConfirmBody(*attempt, identity, result.owner, request.password);
  Result<web::Response> confirm_r =
      conn.Request(http::verb::post, "/v1/pair/confirm", confirm_body);
  // nlohmann::json has no secure erase; overwrite the copy we made.
  if (request.password.has_value()) {
    std::string& held = confirm_body["password"].get_ref<std::string&>();
    crypto::Wipe(held);
  }
  if (!confirm_r.ok()) return confirm_r.status();
  if (confirm_r->result() == http::status::unauthorized) {
    return UnauthenticatedError(
        "pairing failed: the device did not accept our proof: " +
        StatusFromResponse(*confirm_r, "", conn.limits()).message());
  }
  WARDEN_TRY(StatusFromResponse(*confirm_r, "pairing refused", conn.limits()));
  WARDEN_ASSIGN_OR_RETURN(schema::Json confirm,
                          ReplyJson(*confirm_r, conn.limits()));
  if (!confirm.is_object()) {
    return UnavailableError("pairing: confirm reply is not a JSON object");
  }
  WARDEN_ASSIGN_OR_RETURN(
      std::string reported,
      StringField(confirm, "device_fingerprint", "pairing"));
  for (char& c : reported) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  if (reported != result.fingerprint) {
    return UnauthenticatedError(
        "pairing: the device reports certificate " + Printable(reported, 80) +
        " but the connection presented " + result.fingerprint);
  }
  if (auto it = confirm.find("serial");
      it != confirm.end() && it->is_string() &&
      it->get<std::string>() != result.serial) {
    return UnauthenticatedError(
        "pairing: the device reports a different serial than it began with");
  }
  // Pairing again with a registered key answers with the stored name.
  if (auto it = confirm.find("owner"); it != confirm.end() && it->is_string() &&
                                       PrintableText(it->get<std::string>())) {
    result.owner = it->get<std::string>();
  }
  conn.Close();
  return result;
}

std::string DefaultOwnerName() {
  std::string user;
  if (const char* env = std::getenv("USER"); env != nullptr) user = env;
  boost::system::error_code ec;
  std::string host = boost::asio::ip::host_name(ec);
  if (ec) host.clear();
  std::string name = user.empty()   ? host
                     : host.empty() ? user
                                    : user + "@" + host;
  std::string out;
  for (char c : name) {
    if (c > 0x20 && c < 0x7f && out.size() < 64) out += c;
  }
  return out.empty() ? std::string("owner") : out;
}

}  // namespace warden::client
