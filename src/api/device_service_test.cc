#include "api/device_service.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "api/test_facts.h"
#include "crypto/spake2plus.h"
#include "pairing/pairing_protocol.h"

namespace warden::api {
namespace {

namespace sp = crypto::spake2plus;
constexpr uint32_t kCode = 31415926;
const Bytes kSalt(16, 3);

class DeviceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-api-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    store_ = std::move(*store::StateStore::Open(dir_ + "/state.db"));
    DeviceFacts facts = testing::MakeTestFacts("SN-TEST-1", kCode, kSalt);
    ServiceOptions options;
    options.password_hash = auth::MinimumHashParams();
    service_ = std::make_unique<DeviceService>(facts, *store_, nullptr, clock_,
                                               SystemRng(), options, bus_);
    bus_.Subscribe([this](const events::Event& e) {
      events_.emplace_back(e.kind().name);
    });
    ASSERT_TRUE(service_->Init().ok());
    peer_.address = "127.0.0.1";
    peer_.exporter = [this]() -> Result<Bytes> { return exporter_; };
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Response Send(http::verb method, std::string target, std::string body = "",
                std::string content_type = "application/json",
                std::string bearer = "") {
    Request req(method, target, 11);
    if (!body.empty()) {
      req.set(http::field::content_type, content_type);
      req.body() = body;
      req.prepare_payload();
    }
    if (!bearer.empty())
      req.set(http::field::authorization, "Bearer " + bearer);
    boost::asio::io_context io;
    Response out;
    boost::asio::co_spawn(io, service_->Handle(std::move(req), peer_),
                          [&](std::exception_ptr e, Response r) {
                            ASSERT_FALSE(e);
                            out = std::move(r);
                          });
    io.run();
    return out;
  }

  static schema::Json Body(const Response& r) {
    return schema::Json::parse(r.body(), nullptr, false);
  }

  // Runs the pairing exchange as the CLI would; returns the confirm reply.
  Response Pair(uint32_t code, const std::string& password = "",
                const crypto::PrivateKey* key = nullptr) {
    const crypto::PrivateKey& owner_key = key ? *key : owner_key_;
    Response begin = Send(http::verb::post, "/v1/pair/begin", "{}");
    if (begin.result() != http::status::ok) return begin;
    auto b = Body(begin);
    auto salt = *Base64Decode(b["salt"].get<std::string>());
    auto secrets = sp::DeriveProverSecrets(code, salt, b["iterations"]);
    sp::Identities ids{pairing::PairingContext(exporter_),
                       ToBytes(pairing::kProverId),
                       ToBytes(b["id_verifier"].get<std::string>())};
    auto prover =
        sp::Prover::Create(crypto::HashAlg::kSha256, ids, secrets->w0.view(),
                           secrets->w1.view(), SystemRng());
    schema::Json ex = {{"share_p", Base64Encode(prover->share_p())}};
    Response exchange = Send(http::verb::post, "/v1/pair/exchange", ex.dump());
    if (exchange.result() != http::status::ok) return exchange;
    auto e = Body(exchange);
    auto finished =
        prover->Finish(*Base64Decode(e["share_v"].get<std::string>()),
                       *Base64Decode(e["confirm_v"].get<std::string>()));
    Bytes confirm_p = finished.ok() ? finished->confirm_p : Bytes(32, 0);
    Bytes shared = finished.ok() ? finished->shared_key.bytes() : Bytes(32, 0);
    schema::Json confirm = {
        {"confirm_p", Base64Encode(confirm_p)},
        {"client_key", owner_key.public_key().ToPem()},
        {"key_proof",
         Base64Encode(pairing::KeyProof(shared, owner_key.public_key()))},
        {"name",
         key ? "owner-" + owner_key.public_key().Fingerprint().substr(0, 8)
             : "alice"}};
    if (!password.empty()) confirm["password"] = password;
    return Send(http::verb::post, "/v1/pair/confirm", confirm.dump());
  }

  std::string dir_;
  FakeClock clock_;
  events::Bus bus_{clock_};
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<DeviceService> service_;
  Peer peer_;
  Bytes exporter_ = Bytes(32, 0x42);
  crypto::PrivateKey owner_key_ =
      *crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  std::vector<std::string> events_;
};

TEST_F(DeviceServiceTest, PublicFactsAndSecurityTxt) {
  Response info = Send(http::verb::get, "/v1/info");
  ASSERT_EQ(info.result(), http::status::ok);
  auto j = Body(info);
  EXPECT_EQ(j["serial"], "SN-TEST-1");
  EXPECT_EQ(j["paired"], false);
  EXPECT_EQ(j["support_end"], "2031-12-31");
  EXPECT_FALSE(j.contains("w0"));

  Response txt = Send(http::verb::get, "/.well-known/security.txt");
  ASSERT_EQ(txt.result(), http::status::ok);
  EXPECT_NE(txt.body().find("Contact: mailto:security@acme.example"),
            std::string::npos);
  EXPECT_NE(txt.body().find("Expires: "), std::string::npos);
  EXPECT_NE(txt.body().find("Canonical: https://127.0.0.1:1/"),
            std::string::npos);
}

TEST_F(DeviceServiceTest, PairingWithTheRightCodeRegistersTheOwnerOnce) {
  Response r = Pair(kCode, "correct horse battery staple 7");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  EXPECT_EQ(Body(r)["owner"], "alice");
  EXPECT_TRUE(*store_->IsPaired());
  EXPECT_TRUE(store_->PasswordHash(store_->Owners()->front().id)->has_value());
  // Pairing is closed now.
  Response again = Send(http::verb::post, "/v1/pair/begin", "{}");
  EXPECT_EQ(again.result(), http::status::conflict);
  EXPECT_EQ(Body(again)["error"]["rule"], "already_paired");
  // The owner key authenticates over mutual TLS.
  peer_.client_key_fingerprint = owner_key_.public_key().Fingerprint();
  EXPECT_EQ(Send(http::verb::post, "/v1/reset").result(), http::status::ok);
  EXPECT_FALSE(*store_->IsPaired());
  EXPECT_EQ(Send(http::verb::post, "/v1/reset").result(),
            http::status::unauthorized);
}

TEST_F(DeviceServiceTest, ASecondOwnerPairsOnlyWithConsentAndOnlyOnce) {
  ASSERT_EQ(Pair(kCode).result(), http::status::ok);
  auto bob = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  auto carol = *crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  EXPECT_EQ(Pair(kCode, "", &bob).result(), http::status::conflict);

  // Only an owner may open pairing.
  EXPECT_EQ(
      Send(http::verb::post, "/v1/pair/open", R"({"minutes": 5})").result(),
      http::status::unauthorized);
  peer_.client_key_fingerprint = owner_key_.public_key().Fingerprint();
  EXPECT_EQ(
      Send(http::verb::post, "/v1/pair/open", R"({"minutes": 31})").result(),
      http::status::bad_request);
  ASSERT_EQ(
      Send(http::verb::post, "/v1/pair/open", R"({"minutes": 5})").result(),
      http::status::ok);
  peer_.client_key_fingerprint.reset();

  // The second owner may not replace the first owner's password.
  EXPECT_EQ(Pair(kCode, "another long passphrase 12", &bob).result(),
            http::status::bad_request);
  ASSERT_EQ(Pair(kCode, "", &bob).result(), http::status::ok);
  EXPECT_EQ(store_->Owners()->size(), 2u);
  // One consent, one owner.
  EXPECT_EQ(Pair(kCode, "", &carol).result(), http::status::conflict);

  // A window that has passed lets nobody in.
  peer_.client_key_fingerprint = bob.public_key().Fingerprint();
  ASSERT_EQ(
      Send(http::verb::post, "/v1/pair/open", R"({"minutes": 1})").result(),
      http::status::ok);
  peer_.client_key_fingerprint.reset();
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(Pair(kCode, "", &carol).result(), http::status::conflict);
  EXPECT_EQ(store_->Owners()->size(), 2u);
}

TEST_F(DeviceServiceTest, WrongCodeFailsAndChangesNothing) {
  Response r = Pair(kCode + 1);
  EXPECT_EQ(r.result(), http::status::unauthorized);
  EXPECT_FALSE(*store_->IsPaired());
  EXPECT_NE(std::find(events_.begin(), events_.end(), "pairing_failed"),
            events_.end());
}

TEST_F(DeviceServiceTest, WeakPasswordIsRefusedAtPairing) {
  Response r = Pair(kCode, "password123");
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_EQ(Body(r)["error"]["rule"], "password_policy");
  EXPECT_FALSE(*store_->IsPaired());
}

TEST_F(DeviceServiceTest, PairingLocksAfterTwentyFailures) {
  int throttled = 0;
  for (int i = 0; i < 20; ++i) {
    Response r = Pair(kCode + 1);
    if (r.result() == http::status::too_many_requests) {
      ++throttled;
      clock_.Advance(std::chrono::seconds(
          std::stoi(std::string(r[http::field::retry_after]))));
      r = Pair(kCode + 1);
    }
    ASSERT_EQ(r.result(), http::status::unauthorized) << i;
  }
  EXPECT_GT(throttled, 0);
  clock_.Advance(std::chrono::minutes(59));
  Response locked = Pair(kCode);
  EXPECT_EQ(locked.result(), http::status::too_many_requests);
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(Pair(kCode).result(), http::status::ok);
}

TEST_F(DeviceServiceTest, PasswordLoginIsThrottledButNeverLocksOutForGood) {
  ASSERT_EQ(Pair(kCode, "correct horse battery staple 7").result(),
            http::status::ok);
  const std::string wrong = R"({"password": "not the password at all"})";
  const std::string right = R"({"password": "correct horse battery staple 7"})";
  Response r;
  int failures = 0;
  for (; failures < 12; ++failures) {
    r = Send(http::verb::post, "/v1/login", wrong);
    if (r.result() == http::status::too_many_requests) break;
    ASSERT_EQ(r.result(), http::status::unauthorized);
  }
  ASSERT_EQ(r.result(), http::status::too_many_requests);
  int retry = std::stoi(std::string(r[http::field::retry_after]));
  EXPECT_GE(retry, 1);
  // Even the right password waits...
  EXPECT_EQ(Send(http::verb::post, "/v1/login", right).result(),
            http::status::too_many_requests);
  // ...but only until the delay passes.
  clock_.Advance(std::chrono::seconds(retry));
  Response ok = Send(http::verb::post, "/v1/login", right);
  ASSERT_EQ(ok.result(), http::status::ok) << ok.body();
  std::string token = Body(ok)["token"];
  EXPECT_EQ(Send(http::verb::get, "/v1/state", "", "", token).result(),
            http::status::service_unavailable);  // authenticated; no app here
  EXPECT_EQ(Send(http::verb::get, "/v1/state", "", "", "forged").result(),
            http::status::unauthorized);
  clock_.Advance(std::chrono::hours(13));
  EXPECT_EQ(Send(http::verb::get, "/v1/state", "", "", token).result(),
            http::status::unauthorized);
}

TEST_F(DeviceServiceTest, BadRequestsAreAnsweredPrecisely) {
  EXPECT_EQ(Send(http::verb::get, "/nope").result(), http::status::not_found);
  Response m = Send(http::verb::delete_, "/v1/info");
  EXPECT_EQ(m.result(), http::status::method_not_allowed);
  EXPECT_EQ(m[http::field::allow], "GET");
  EXPECT_EQ(
      Send(http::verb::post, "/v1/pair/begin", "{}", "text/plain").result(),
      http::status::unsupported_media_type);
  Response deep = Send(http::verb::post, "/v1/pair/begin",
                       std::string(40, '[') + std::string(40, ']'));
  EXPECT_EQ(deep.result(), http::status::bad_request);
  EXPECT_EQ(Body(deep)["error"]["rule"], "max_depth");
  Response extra = Send(http::verb::post, "/v1/pair/begin", R"({"x":1})");
  EXPECT_EQ(extra.result(), http::status::bad_request);
  Response seq =
      Send(http::verb::post, "/v1/pair/exchange", R"({"share_p":"AAAA"})");
  EXPECT_EQ(seq.result(), http::status::conflict);
  EXPECT_EQ(Send(http::verb::get, "/v1/capabilities").result(),
            http::status::unauthorized);
  EXPECT_EQ(
      Send(http::verb::put, "/v1/state/setpoint", R"({"value":1})").result(),
      http::status::unauthorized);
  EXPECT_FALSE(*store_->IsPaired());
}

}  // namespace
}  // namespace warden::api
