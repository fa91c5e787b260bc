// A stand-in device for the client's and the CLI's tests: answers the
// owner API from a TLS server on 127.0.0.1, running the device's own
// pairing session code (src/pairing), so both sides of the exchange are
// the real ones.
#ifndef WARDEN_CLIENT_FAKE_DEVICE_H_
#define WARDEN_CLIENT_FAKE_DEVICE_H_

#include <optional>
#include <string>

#include "base/rng.h"
#include "client/tls_test_server.h"
#include "crypto/spake2plus.h"
#include "pairing/pairing_protocol.h"
#include "pairing/pairing_session.h"
#include "schema/json.h"

namespace warden::client::testing {

inline constexpr uint32_t kPasscode = 20202021;
inline constexpr char kSerial[] = "SN-0042";

inline std::string ErrorBody(const std::string& code,
                             const std::string& message,
                             const std::string& field = "",
                             const std::string& rule = "") {
  schema::Json e = {{"code", code}, {"message", message}};
  if (!field.empty()) e["field"] = field;
  if (!rule.empty()) e["rule"] = rule;
  return schema::Json{{"error", e}}.dump();
}

// The device side: pairing state per connection, one owner at a time.
class FakeDevice {
 public:
  FakeDevice() : identity_(MakeServerIdentity(kSerial)) {
    auto salt = RandomBytes(SystemRng(), 32).value();
    auto secrets =
        crypto::spake2plus::DeriveProverSecrets(kPasscode, salt, 1000).value();
    auto record = crypto::spake2plus::MakeVerifierRecord(secrets).value();
    params_ = {kSerial, record.w0.bytes(), record.L, salt, 1000};
  }

  TlsTestServer::Options ServerOptions(int connections) {
    TlsTestServer::Options o{&identity_.key, &identity_.cert};
    o.max_connections = connections;
    return o;
  }

  TestResponse Handle(const TestRequest& req, SSL* ssl) {
    schema::Json body = req.body.empty()
                            ? schema::Json::object()
                            : schema::Json::parse(req.body, nullptr, false);
    if (req.target == "/v1/info") {
      return {200, schema::Json{{"serial", kSerial},
                                {"model", "Thermostat T1"},
                                {"maker", "Acme"},
                                {"firmware_version", "1.0.0"},
                                {"support_end", "2030-01-01"},
                                {"paired", owner_key_.has_value()},
                                {"api", "warden/1"}}
                       .dump()};
    }
    if (req.target == "/v1/pair/begin") {
      if (throttle_) {
        TestResponse r{429, ErrorBody("resource_exhausted", "throttled")};
        r.headers["Retry-After"] = "30";
        return r;
      }
      if (owner_key_) {
        return {409, ErrorBody("failed_precondition", "already paired")};
      }
      Bytes exporter(32);
      SSL_export_keying_material(ssl, exporter.data(), exporter.size(),
                                 pairing::kExporterLabel.data(),
                                 pairing::kExporterLabel.size(), nullptr, 0, 0);
      session_.emplace(
          pairing::ServerSession::Create(params_, exporter, SystemRng())
              .value());
      return {200, session_->BeginResponse().dump()};
    }
    if (req.target == "/v1/pair/exchange") {
      pairing::MessageError err;
      Result<Bytes> x = pairing::ParseExchangeRequest(body, &err);
      if (!x.ok() || !session_) {
        return {400, ErrorBody("invalid_argument", err.message, err.field,
                               err.rule)};
      }
      Result<schema::Json> r = session_->Exchange(*x);
      if (!r.ok()) return {400, ErrorBody("invalid_argument", "bad point")};
      return {200, r->dump()};
    }
    if (req.target == "/v1/pair/confirm") {
      ++confirms_;
      pairing::MessageError err;
      Result<pairing::ConfirmRequest> c =
          pairing::ParseConfirmRequest(body, &err);
      if (!c.ok() || !session_) {
        return {400, ErrorBody("invalid_argument", err.message, err.field,
                               err.rule)};
      }
      Result<pairing::PairedOwner> owner = session_->Confirm(std::move(*c));
      if (!owner.ok()) {
        return {401, ErrorBody("unauthenticated", owner.status().message())};
      }
      owner_key_ = owner->key.Fingerprint();
      owner_name_ = owner->name;
      password_ = owner->password;
      std::string fp = lie_about_fingerprint_ ? std::string(64, 'f')
                                              : identity_.cert.Fingerprint();
      return {200, schema::Json{{"owner", owner->name},
                                {"serial", kSerial},
                                {"device_fingerprint", fp}}
                       .dump()};
    }
    if (req.target == "/v1/state/setpoint" && req.method == "PUT") {
      const schema::Json& v = body["value"];
      if (!v.is_number() || v.get<double>() > 30) {
        return {400, ErrorBody("invalid_argument",
                               v.dump() + " is greater than the maximum 30",
                               "/value", "maximum")};
      }
      return {200, schema::Json{{"key", "setpoint"}, {"value", v}}.dump()};
    }
    if (req.target == "/v1/reset" && req.method == "POST") {
      owner_key_.reset();
      return {200, R"({"paired": false})"};
    }
    return {404, ErrorBody("not_found", "no such path")};
  }

  TestServerIdentity identity_;
  pairing::VerifierParams params_;
  std::optional<pairing::ServerSession> session_;
  std::optional<std::string> owner_key_;
  std::string owner_name_;
  std::optional<std::string> password_;
  int confirms_ = 0;
  bool throttle_ = false;
  bool lie_about_fingerprint_ = false;
};

}  // namespace warden::client::testing

#endif  // WARDEN_CLIENT_FAKE_DEVICE_H_
