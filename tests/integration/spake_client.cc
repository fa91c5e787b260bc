// A raw SPAKE2+ pairing client for the integration tests: pairing
// attempts against a running wardend, as an attacker's own tool would make
// them, with none of the owner CLI's manners.
//
//   warden-test-spake-client --port PORT --code PASSCODE [--confirm]
//                            [--attempts N]
//
// It opens one TLS connection to 127.0.0.1:PORT (without checking the
// device certificate) and makes up to N attempts on it, one after the
// other, stopping at the first refusal: each posts /v1/pair/begin and
// /v1/pair/exchange and checks the guess locally against confirm_v.
// Without --confirm it never sends /v1/pair/confirm: the online guesser
// that tests its guesses on its own. With --confirm it always sends
// confirm, with a fresh owner key, even when its own check failed, so the
// test sees the device's verdict. It prints one JSON object per attempt:
//
//   {"begin": 200, "exchange": 200, "guess_ok": false, "confirm": 401,
//    "retry_after": 3, "error": {...}}
//
// "exchange", "guess_ok" and "confirm" appear only when that step ran;
// "retry_after" and "error" come from the refused step. Exit status 0 when
// every step it ran was answered, 1 when the connection failed. Test-only;
// not installed.
#include <openssl/ssl.h>

// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/rng.h"
#include "crypto/keys.h"
#include "crypto/spake2plus.h"
#include "pairing/pairing_protocol.h"
#include "schema/json.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace sp = warden::crypto::spake2plus;
using warden::Bytes;
using warden::schema::Json;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;

struct Reply {
  int status = 0;
  Json body;
  std::optional<int> retry_after;
};

bool Post(Stream& stream, const std::string& target, const Json& body,
          Reply* reply) {
  http::request<http::string_body> req(http::verb::post, target, 11);
  req.set(http::field::host, "device");
  req.set(http::field::content_type, "application/json");
  req.body() = body.dump();
  req.prepare_payload();
  beast::error_code ec;
  http::write(stream, req, ec);
  if (ec) return false;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) return false;
  reply->status = static_cast<int>(res.result_int());
  reply->body = Json::parse(res.body(), nullptr, false);
  auto retry = res.find(http::field::retry_after);
  if (retry != res.end()) {
    reply->retry_after = std::atoi(std::string(retry->value()).c_str());
  }
  return true;
}

Bytes B64(const Json& body, const char* name) {
  if (!body.is_object() || !body.contains(name) || !body[name].is_string()) {
    return {};
  }
  return warden::Base64Decode(body[name].get<std::string>()).value_or(Bytes());
}

void NoteRefusal(const Reply& r, Json& out) {
  if (r.retry_after) out["retry_after"] = *r.retry_after;
  if (r.body.is_object() && r.body.contains("error")) {
    out["error"] = r.body["error"];
  }
}

// One attempt on `stream`. False when the connection failed; *refused
// when the device refused a step.
bool Attempt(Stream& stream, uint32_t code, bool confirm, bool* refused) {
  Json out = Json::object();
  *refused = true;
  Reply begin;
  if (!Post(stream, "/v1/pair/begin", Json::object(), &begin)) return false;
  out["begin"] = begin.status;
  if (begin.status != 200) {
    NoteRefusal(begin, out);
    std::cout << out.dump() << "\n";
    return true;
  }

  Bytes exporter(warden::pairing::kExporterLength);
  if (SSL_export_keying_material(
          stream.native_handle(), exporter.data(), exporter.size(),
          warden::pairing::kExporterLabel.data(),
          warden::pairing::kExporterLabel.size(), nullptr, 0, 0) != 1) {
    return false;
  }
  auto secrets =
      sp::DeriveProverSecrets(code, B64(begin.body, "salt"),
                              begin.body.value("iterations", uint32_t{0}));
  if (!secrets.ok()) return false;
  sp::Identities ids{
      warden::pairing::PairingContext(exporter),
      warden::ToBytes(warden::pairing::kProverId),
      warden::ToBytes(begin.body.value("id_verifier", std::string()))};
  auto prover = sp::Prover::Create(warden::crypto::HashAlg::kSha256, ids,
                                   secrets->w0.view(), secrets->w1.view(),
                                   warden::SystemRng());
  if (!prover.ok()) return false;

  Reply exchange;
  if (!Post(stream, "/v1/pair/exchange",
            Json{{"share_p", warden::Base64Encode(prover->share_p())}},
            &exchange)) {
    return false;
  }
  out["exchange"] = exchange.status;
  if (exchange.status != 200) {
    NoteRefusal(exchange, out);
    std::cout << out.dump() << "\n";
    return true;
  }
  auto finished = prover->Finish(B64(exchange.body, "share_v"),
                                 B64(exchange.body, "confirm_v"));
  out["guess_ok"] = finished.ok();
  *refused = false;

  if (confirm) {
    auto key =
        warden::crypto::PrivateKey::Generate(warden::crypto::KeyType::kEd25519);
    if (!key.ok()) return false;
    Bytes confirm_p = finished.ok() ? finished->confirm_p : Bytes(32, 0);
    Bytes shared = finished.ok() ? finished->shared_key.bytes() : Bytes(32, 0);
    Json body = {{"confirm_p", warden::Base64Encode(confirm_p)},
                 {"client_key", key->public_key().ToPem()},
                 {"key_proof", warden::Base64Encode(warden::pairing::KeyProof(
                                   shared, key->public_key()))},
                 {"name", "raw client"}};
    Reply confirmed;
    if (!Post(stream, "/v1/pair/confirm", body, &confirmed)) return false;
    out["confirm"] = confirmed.status;
    if (confirmed.status != 200) NoteRefusal(confirmed, out);
  }
  std::cout << out.dump() << "\n";
  return true;
}

int Run(const std::string& port, uint32_t code, bool confirm, int attempts) {
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_3_VERSION);
  tls.set_verify_mode(asio::ssl::verify_none);
  Stream stream(io, tls);
  beast::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve("127.0.0.1", port, ec);
  if (!ec) beast::get_lowest_layer(stream).connect(endpoints, ec);
  if (!ec) stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) {
    std::cerr << "spake client: cannot connect: " << ec.message() << "\n";
    return 1;
  }
  for (int i = 0; i < attempts; ++i) {
    bool refused = false;
    if (!Attempt(stream, code, confirm, &refused)) {
      std::cerr << "spake client: the connection failed\n";
      return 1;
    }
    if (refused) break;
  }
  std::cout.flush();
  beast::get_lowest_layer(stream).close();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string port;
  std::optional<uint32_t> code;
  bool confirm = false;
  int attempts = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      port = argv[++i];
    } else if (arg == "--code" && i + 1 < argc) {
      code = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--confirm") {
      confirm = true;
    } else if (arg == "--attempts" && i + 1 < argc) {
      attempts = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: warden-test-spake-client --port PORT --code "
                   "PASSCODE [--confirm] [--attempts N]\n";
      return 2;
    }
  }
  if (port.empty() || !code) {
    std::cerr << "spake client: --port and --code are required\n";
    return 2;
  }
  return Run(port, *code, confirm, attempts < 1 ? 1 : attempts);
}
