#include "pairing/pairing_session.h"

#include "crypto/secret.h"
#include "pairing/pairing_protocol.h"

namespace warden::pairing {
namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxPasswordBytes = 128;
constexpr size_t kMaxKeyPemBytes = 1024;

Status FieldError(MessageError* error, std::string field, std::string rule,
                  std::string message) {
  if (error) *error = {field, rule, message};
  if (field.empty()) return InvalidArgumentError(message);
  return InvalidArgumentError(field.substr(1) + ": " + message);
}

// The member `name` as base64 decoding to exactly `size` bytes.
Result<Bytes> Base64Field(const schema::Json& body, const std::string& name,
                          size_t size, MessageError* error) {
  auto it = body.find(name);
  if (it == body.end()) {
    return FieldError(error, "/" + name, "required", "is required");
  }
  if (!it->is_string()) {
    return FieldError(error, "/" + name, "type", "must be a base64 string");
  }
  const std::string& text = it->get_ref<const std::string&>();
  if (text.size() > (size + 2) / 3 * 4) {
    return FieldError(error, "/" + name, "maxLength", "is too long");
  }
  auto bytes = Base64Decode(text);
  if (!bytes.ok()) {
    return FieldError(error, "/" + name, "format", "is not valid base64");
  }
  if (bytes->size() != size) {
    return FieldError(error, "/" + name, "length",
                      "must be " + std::to_string(size) + " bytes");
  }
  return *bytes;
}

bool IsPrintableName(const std::string& s) {
  if (s.empty() || s.size() > kMaxNameBytes) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

Status OnlyMembers(const schema::Json& body,
                   std::initializer_list<std::string_view> allowed,
                   MessageError* error) {
  if (!body.is_object()) {
    return FieldError(error, "", "type", "body must be a JSON object");
  }
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (auto a : allowed) known = known || key == a;
    if (!known) {
      return FieldError(error, "/" + key, "additionalProperties",
                        "is not allowed");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Bytes> ParseExchangeRequest(const schema::Json& body,
                                   MessageError* error) {
  WARDEN_TRY(OnlyMembers(body, {"share_p"}, error));
  return Base64Field(body, "share_p", crypto::p256::kPointSize, error);
}

Result<ConfirmRequest> ParseConfirmRequest(const schema::Json& body,
                                           MessageError* error) {
  WARDEN_TRY(OnlyMembers(
      body, {"confirm_p", "client_key", "key_proof", "name", "password"},
      error));
  WARDEN_ASSIGN_OR_RETURN(Bytes confirm_p,
                          Base64Field(body, "confirm_p", 32, error));
  WARDEN_ASSIGN_OR_RETURN(Bytes key_proof,
                          Base64Field(body, "key_proof", 32, error));

  auto key_it = body.find("client_key");
  if (key_it == body.end() || !key_it->is_string()) {
    return FieldError(error, "/client_key", "required",
                      "must be a PEM public key");
  }
  const std::string& pem = key_it->get_ref<const std::string&>();
  if (pem.size() > kMaxKeyPemBytes) {
    return FieldError(error, "/client_key", "maxLength", "is too long");
  }
  auto key = crypto::PublicKey::FromPem(pem);
  if (!key.ok()) {
    return FieldError(error, "/client_key", "format",
                      "is not a P-256 or ed25519 public key");
  }

  auto name_it = body.find("name");
  if (name_it == body.end() || !name_it->is_string() ||
      !IsPrintableName(name_it->get_ref<const std::string&>())) {
    return FieldError(error, "/name", "pattern",
                      "must be 1 to 64 printable characters");
  }

  std::optional<std::string> password;
  auto pw_it = body.find("password");
  if (pw_it != body.end()) {
    if (!pw_it->is_string()) {
      return FieldError(error, "/password", "type", "must be a string");
    }
    if (pw_it->get_ref<const std::string&>().size() > kMaxPasswordBytes) {
      return FieldError(error, "/password", "maxLength",
                        "is longer than 128 bytes");
    }
    password = pw_it->get<std::string>();
  }
  return ConfirmRequest{std::move(confirm_p), std::move(*key),
                        std::move(key_proof), name_it->get<std::string>(),
                        std::move(password)};
}

Result<ServerSession> ServerSession::Create(const VerifierParams& params,
                                            ByteView exporter, Rng& rng) {
  if (exporter.size() != kExporterLength) {
    return InvalidArgumentError("pairing: bad exporter length");
  }
  crypto::spake2plus::Identities ids{
      PairingContext(exporter), ToBytes(kProverId), ToBytes(params.serial)};
  WARDEN_ASSIGN_OR_RETURN(
      auto verifier,
      crypto::spake2plus::Verifier::Create(
          crypto::HashAlg::kSha256, std::move(ids), params.w0, params.L, rng));
  return ServerSession(params, std::move(verifier));
}

schema::Json ServerSession::BeginResponse() const {
  return schema::Json{{"suite", std::string(kSuite)},
                      {"salt", Base64Encode(params_.salt)},
                      {"iterations", params_.iterations},
                      {"id_verifier", params_.serial}};
}

Result<schema::Json> ServerSession::Exchange(ByteView share_p) {
  if (exchanged_ || spent_) {
    return FailedPreconditionError("pairing: exchange already done");
  }
  exchanged_ = true;
  auto response = verifier_.Respond(share_p);
  if (!response.ok()) {
    spent_ = true;
    return response.status();
  }
  return schema::Json{{"share_v", Base64Encode(response->share_v)},
                      {"confirm_v", Base64Encode(response->confirm_v)}};
}

Result<PairedOwner> ServerSession::Confirm(ConfirmRequest request) {
  if (!exchanged_ || spent_) {
    return FailedPreconditionError("pairing: no exchange to confirm");
  }
  spent_ = true;
  auto shared = verifier_.Confirm(request.confirm_p);
  if (!shared.ok()) {
    return UnauthenticatedError("pairing: wrong setup code");
  }
  Bytes expected = KeyProof(shared->view(), request.client_key);
  if (!crypto::ConstantTimeEquals(expected, request.key_proof)) {
    return UnauthenticatedError("pairing: client key proof does not verify");
  }
  return PairedOwner{std::move(request.name), std::move(request.client_key),
                     std::move(request.password)};
}

}  // namespace warden::pairing
