#include "api/device_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "api/testing/test_facts.h"
#include "crypto/spake2plus.h"
#include "data/data_store.h"
#include "data/receipt.h"
#include "keystore/file_backend.h"
#include "pairing/pairing_protocol.h"

namespace warden::api {
namespace {

namespace sp = crypto::spake2plus;
using http::status;
using http::verb;
constexpr uint32_t kCode = 31415926;
const Bytes kSalt(16, 3);
const std::string kAlicePassword = "correct horse battery staple 7";
const std::string kBobPassword = "another long passphrase 12";

struct Seen {
  std::string kind;
  int64_t failures = -1;
};

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
    keystore::FileBackendOptions kek;
    kek.kek_path = dir_ + "/kek";
    keystore_ = std::move(*keystore::Keystore::Open(
        platform::DefaultEnv(), dir_ + "/keystore",
        std::move(*keystore::FileBackend::Open(platform::DefaultEnv(), kek))));
    data_ = std::move(*data::DataStore::Open(
        platform::DefaultEnv(), dir_ + "/data.db", *keystore_, clock_));
    const WallTime now = std::chrono::system_clock::now();
    device_cert_ = *crypto::IssueCertificate(
        crypto::CertificateRequest{.common_name = "SN-TEST-1",
                                   .subject_key = device_key_.public_key(),
                                   .not_before = now,
                                   .not_after = now + std::chrono::hours(1)},
        device_key_, nullptr);
    service_->SetDataStore(data_.get(), &device_key_, &*device_cert_);
    bus_.Subscribe([this](const events::Event& e) {
      Seen s{std::string(e.kind().name)};
      for (const auto& f : e.fields()) {
        if (f.name == "failures") s.failures = std::get<int64_t>(f.value);
      }
      events_.push_back(s);
    });
    ASSERT_TRUE(service_->Init().ok());
    peer_.address = "127.0.0.1";
    peer_.exporter = [this]() -> Result<Bytes> { return exporter_; };
  }
  void TearDown() override {
    peer_ = Peer();  // ends its pairing attempt while the service is here
    service_.reset();
    data_.reset();
    keystore_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response Send(verb method, std::string target, std::string body = "",
                std::string content_type = "application/json",
                std::string bearer = "", Peer* peer = nullptr) {
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
    boost::asio::co_spawn(
        io, service_->Handle(std::move(req), peer ? *peer : peer_),
        [&](std::exception_ptr e, Response r) {
          ASSERT_FALSE(e);
          out = std::move(r);
        });
    io.run();
    return out;
  }

  // A request from the owner whose client certificate carries `key`.
  Response As(const crypto::PrivateKey& key, verb method, std::string target,
              std::string body = "") {
    Peer peer;
    peer.address = "127.0.0.1";
    peer.client_key_fingerprint = key.public_key().Fingerprint();
    return Send(method, std::move(target), std::move(body), "application/json",
                "", &peer);
  }

  Response Login(const std::string& owner, const std::string& password,
                 const std::string& address = "127.0.0.1",
                 const std::string& cookie = "") {
    Peer peer;
    peer.address = address;
    schema::Json body = {{"owner", owner}, {"password", password}};
    if (!cookie.empty()) body["device_cookie"] = cookie;
    return Send(verb::post, "/v1/login", body.dump(), "application/json", "",
                &peer);
  }

  static schema::Json Body(const Response& r) {
    return schema::Json::parse(r.body(), nullptr, false);
  }
  static int RetryAfter(const Response& r) {
    return std::stoi(std::string(r[http::field::retry_after]));
  }

  sp::Prover MakeProver(uint32_t code, const schema::Json& begin) {
    auto salt = *Base64Decode(begin["salt"].get<std::string>());
    auto secrets = sp::DeriveProverSecrets(code, salt, begin["iterations"]);
    sp::Identities ids{pairing::PairingContext(exporter_),
                       ToBytes(pairing::kProverId),
                       ToBytes(begin["id_verifier"].get<std::string>())};
    return std::move(*sp::Prover::Create(crypto::HashAlg::kSha256, ids,
                                         secrets->w0.view(), secrets->w1.view(),
                                         SystemRng()));
  }

  // Runs the pairing exchange as the CLI would; returns the confirm reply
  // (or the first refusal).
  Response Pair(uint32_t code, const std::string& password = "",
                const crypto::PrivateKey* key = nullptr,
                const std::string& name = "alice") {
    const crypto::PrivateKey& owner_key = key ? *key : owner_key_;
    Response begin = Send(verb::post, "/v1/pair/begin", "{}");
    if (begin.result() != status::ok) return begin;
    sp::Prover prover = MakeProver(code, Body(begin));
    schema::Json ex = {{"share_p", Base64Encode(prover.share_p())}};
    Response exchange = Send(verb::post, "/v1/pair/exchange", ex.dump());
    if (exchange.result() != status::ok) return exchange;
    auto e = Body(exchange);
    auto finished =
        prover.Finish(*Base64Decode(e["share_v"].get<std::string>()),
                      *Base64Decode(e["confirm_v"].get<std::string>()));
    Bytes confirm_p = finished.ok() ? finished->confirm_p : Bytes(32, 0);
    Bytes shared = finished.ok() ? finished->shared_key.bytes() : Bytes(32, 0);
    schema::Json confirm = {{"confirm_p", Base64Encode(confirm_p)},
                            {"client_key", owner_key.public_key().ToPem()},
                            {"key_proof", Base64Encode(pairing::KeyProof(
                                              shared, owner_key.public_key()))},
                            {"name", name}};
    if (!password.empty()) confirm["password"] = password;
    return Send(verb::post, "/v1/pair/confirm", confirm.dump());
  }

  // Alice pairs as the administrator; Bob joins as a member with her
  // consent. Both set passwords.
  void PairAliceAndBob() {
    ASSERT_EQ(Pair(kCode, kAlicePassword).result(), status::ok);
    ASSERT_EQ(As(owner_key_, verb::post, "/v1/pair/open").result(), status::ok);
    Response bob = Pair(kCode, kBobPassword, &bob_key_, "bob");
    ASSERT_EQ(bob.result(), status::ok) << bob.body();
    ASSERT_EQ(Body(bob)["role"], "member");
  }

  size_t Count(std::string_view kind) const {
    return std::count_if(events_.begin(), events_.end(),
                         [&](const Seen& s) { return s.kind == kind; });
  }

  std::string dir_;
  FakeClock clock_;
  events::Bus bus_{clock_};
  std::vector<Seen> events_;
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<keystore::Keystore> keystore_;
  std::unique_ptr<data::DataStore> data_;
  crypto::PrivateKey device_key_ =
      *crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  std::optional<crypto::Certificate> device_cert_;
  std::unique_ptr<DeviceService> service_;
  Bytes exporter_ = Bytes(32, 0x42);
  crypto::PrivateKey owner_key_ =
      *crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  crypto::PrivateKey bob_key_ =
      *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  Peer peer_;
};

TEST_F(DeviceServiceTest, PublicFactsAndSecurityTxt) {
  Response info = Send(verb::get, "/v1/info");
  ASSERT_EQ(info.result(), status::ok);
  auto j = Body(info);
  EXPECT_EQ(j["serial"], "SN-TEST-1");
  EXPECT_EQ(j["paired"], false);
  EXPECT_EQ(j["support_end"], "2031-12-31");
  EXPECT_FALSE(j.contains("w0"));

  Response txt = Send(verb::get, "/.well-known/security.txt");
  ASSERT_EQ(txt.result(), status::ok);
  EXPECT_NE(txt.body().find("Contact: mailto:security@acme.example"),
            std::string::npos);
  EXPECT_NE(txt.body().find("Expires: "), std::string::npos);
  EXPECT_NE(
      txt.body().find(
          "Canonical: https://thermo.example:8443/.well-known/security.txt"),
      std::string::npos);
  service_->set_canonical_url("https://other.example/.well-known/security.txt");
  txt = Send(verb::get, "/.well-known/security.txt");
  EXPECT_NE(txt.body().find("Canonical: https://other.example/"),
            std::string::npos);
}

TEST_F(DeviceServiceTest, EveryRouteIsRegisteredWithItsAccess) {
  std::vector<std::string> routes = service_->Routes();
  for (const char* want : {"GET /.well-known/security.txt public",
                           "GET /v1/info public",
                           "POST /v1/pair/begin public",
                           "POST /v1/pair/exchange public",
                           "POST /v1/pair/confirm public",
                           "POST /v1/pair/open admin",
                           "POST /v1/login public",
                           "POST /v1/logout owner",
                           "PUT /v1/owner/password owner",
                           "GET /v1/owners owner",
                           "DELETE /v1/owners/{name} admin",
                           "PUT /v1/owners/{name}/password owner",
                           "POST /v1/reset admin",
                           "GET /v1/capabilities owner",
                           "GET /v1/state owner",
                           "GET /v1/state/{key} owner",
                           "PUT /v1/state/{key} owner",
                           "GET /v1/update owner",
                           "POST /v1/update/check owner",
                           "POST /v1/update/install admin",
                           "POST /v1/update/defer admin",
                           "POST /v1/update/upload admin",
                           "POST /v1/update/reinstall admin",
                           "GET /v1/data/inventory public",
                           "GET /v1/data/export owner",
                           "GET /v1/data/receipt owner",
                           "GET /v1/data/events owner",
                           "GET /v1/data/events/{after} owner",
                           "GET /v1/data/receipts owner",
                           "POST /v1/data/delete admin"}) {
    EXPECT_NE(std::find(routes.begin(), routes.end(), want), routes.end())
        << want;
  }
  EXPECT_EQ(routes.size(), 30u);
}

TEST_F(DeviceServiceTest, PersonalDataIsExportedByOwnersAndDeletedByAnAdmin) {
  ASSERT_TRUE(data_
                  ->Declare({"schedule", data::Category::kUsage,
                             "heating times", 86400, false})
                  .ok());
  ASSERT_TRUE(data_->Write("schedule", AsBytes("weekdays 06:30")).ok());
  PairAliceAndBob();

  // What the device may keep is public; what it keeps is not.
  Response inventory = Send(verb::get, "/v1/data/inventory");
  ASSERT_EQ(inventory.result(), status::ok);
  EXPECT_EQ(Body(inventory)["kinds"][0]["purpose"], "heating times");
  EXPECT_EQ(inventory.body().find("weekdays"), std::string::npos);
  EXPECT_EQ(Send(verb::get, "/v1/data/export").result(), status::unauthorized);
  EXPECT_EQ(Send(verb::post, "/v1/data/delete").result(), status::unauthorized);

  Response exported = As(bob_key_, verb::get, "/v1/data/export");
  ASSERT_EQ(exported.result(), status::ok);
  EXPECT_EQ(Body(exported)["kinds"][0]["records"][0]["text"], "weekdays 06:30");

  // A member may read but not delete.
  EXPECT_EQ(As(bob_key_, verb::post, "/v1/data/delete").result(),
            status::forbidden);
  EXPECT_EQ(data_->Kinds()->front().records, 1);

  Response deleted = As(owner_key_, verb::post, "/v1/data/delete");
  ASSERT_EQ(deleted.result(), status::ok) << deleted.body();
  auto d = Body(deleted);
  EXPECT_EQ(d["requested_by"], owner_key_.public_key().Fingerprint());
  EXPECT_EQ(d["kinds"][0]["records"], 1);
  EXPECT_EQ(d["keys_destroyed"], 1);
  EXPECT_EQ(Count("data_deleted"), 1u);
  auto after = Body(As(owner_key_, verb::get, "/v1/data/export"));
  EXPECT_TRUE(after["kinds"][0]["records"].empty());

  // The receipt is signed by the device and kept for any owner to fetch.
  auto verified = data::VerifyReceipt(d["receipt"].dump(), *device_cert_);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->deletion.requested_by,
            owner_key_.public_key().Fingerprint());
  EXPECT_EQ(verified->deletion.kinds[0].records, 1);
  Response kept = As(bob_key_, verb::get, "/v1/data/receipt");
  ASSERT_EQ(kept.result(), status::ok);
  EXPECT_EQ(Body(kept)["receipt"], d["receipt"]);

  // A second deletion: both receipts are listed, newest first, to owners
  // only.
  Response second = As(owner_key_, verb::post, "/v1/data/delete");
  ASSERT_EQ(second.result(), status::ok) << second.body();
  Response listed = As(bob_key_, verb::get, "/v1/data/receipts");
  ASSERT_EQ(listed.result(), status::ok) << listed.body();
  auto receipts = Body(listed)["receipts"];
  ASSERT_EQ(receipts.size(), 2u);
  EXPECT_EQ(receipts[0], Body(second)["receipt"]);
  EXPECT_EQ(receipts[1], d["receipt"]);
  EXPECT_EQ(Send(verb::get, "/v1/data/receipts").result(),
            status::unauthorized);
}

TEST_F(DeviceServiceTest, PairingWithTheRightCodeRegistersAnAdministratorOnce) {
  Response r = Pair(kCode, kAlicePassword);
  ASSERT_EQ(r.result(), status::ok) << r.body();
  EXPECT_EQ(Body(r)["owner"], "alice");
  EXPECT_EQ(Body(r)["role"], "admin");
  EXPECT_TRUE(*store_->IsPaired());
  auto alice = *store_->FindOwnerByName("alice");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->role, store::Role::kAdmin);
  EXPECT_TRUE(store_->PasswordHash(alice->id)->has_value());
  // Pairing is closed now.
  Response again = Send(verb::post, "/v1/pair/begin", "{}");
  EXPECT_EQ(again.result(), status::conflict);
  EXPECT_EQ(Body(again)["error"]["rule"], "already_paired");
  // The owner key authenticates over mutual TLS.
  EXPECT_EQ(As(owner_key_, verb::post, "/v1/reset").result(), status::ok);
  EXPECT_FALSE(*store_->IsPaired());
  EXPECT_EQ(As(owner_key_, verb::post, "/v1/reset").result(),
            status::unauthorized);
}

TEST_F(DeviceServiceTest, ASecondOwnerPairsOnlyWithConsentAndOnlyOnce) {
  ASSERT_EQ(Pair(kCode).result(), status::ok);
  auto carol = *crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  EXPECT_EQ(Pair(kCode, "", &bob_key_, "bob").result(), status::conflict);

  // Only an owner may open pairing, and only for 1 to 30 minutes.
  EXPECT_EQ(Send(verb::post, "/v1/pair/open", R"({"minutes": 5})").result(),
            status::unauthorized);
  Response too_long =
      As(owner_key_, verb::post, "/v1/pair/open", R"({"minutes": 31})");
  EXPECT_EQ(too_long.result(), status::bad_request);
  EXPECT_EQ(Body(too_long)["error"]["field"], "/minutes");
  EXPECT_EQ(Body(too_long)["error"]["rule"], "maximum");
  Response open =
      As(owner_key_, verb::post, "/v1/pair/open", R"({"minutes": 5})");
  ASSERT_EQ(open.result(), status::ok);
  EXPECT_EQ(Body(open)["role"], "member");

  // The second owner has a password of their own.
  Response bob = Pair(kCode, kBobPassword, &bob_key_, "bob");
  ASSERT_EQ(bob.result(), status::ok) << bob.body();
  EXPECT_EQ(Body(bob)["role"], "member");
  EXPECT_EQ(store_->Owners()->size(), 2u);
  EXPECT_EQ(Login("bob", kBobPassword).result(), status::ok);
  // One consent, one owner.
  EXPECT_EQ(Pair(kCode, "", &carol, "carol").result(), status::conflict);

  // A member cannot admit anyone.
  Response member = As(bob_key_, verb::post, "/v1/pair/open");
  EXPECT_EQ(member.result(), status::forbidden);
  EXPECT_EQ(Count("access_denied"), 1u);

  // A window that has passed lets nobody in.
  ASSERT_EQ(
      As(owner_key_, verb::post, "/v1/pair/open", R"({"minutes": 1})").result(),
      status::ok);
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(Pair(kCode, "", &carol, "carol").result(), status::conflict);
  EXPECT_EQ(store_->Owners()->size(), 2u);
}

TEST_F(DeviceServiceTest, AnAdministratorMayAdmitAnotherAdministrator) {
  ASSERT_EQ(Pair(kCode).result(), status::ok);
  ASSERT_EQ(As(owner_key_, verb::post, "/v1/pair/open",
               R"({"minutes": 5, "role": "admin"})")
                .result(),
            status::ok);
  Response bob = Pair(kCode, "", &bob_key_, "bob");
  ASSERT_EQ(bob.result(), status::ok);
  EXPECT_EQ(Body(bob)["role"], "admin");
  EXPECT_EQ(As(bob_key_, verb::post, "/v1/pair/open").result(), status::ok);
  EXPECT_EQ(As(owner_key_, verb::post, "/v1/pair/open", R"({"role": "root"})")
                .result(),
            status::bad_request);
}

TEST_F(DeviceServiceTest, WrongCodeFailsAndChangesNothing) {
  Response r = Pair(kCode + 1);
  EXPECT_EQ(r.result(), status::unauthorized);
  EXPECT_FALSE(*store_->IsPaired());
  EXPECT_EQ(Count("pairing_failed"), 1u);
}

TEST_F(DeviceServiceTest, WeakPasswordIsRefusedAtPairing) {
  Response r = Pair(kCode, "password123");
  EXPECT_EQ(r.result(), status::bad_request);
  EXPECT_EQ(Body(r)["error"]["rule"], "password_policy");
  EXPECT_FALSE(*store_->IsPaired());
}

TEST_F(DeviceServiceTest, PairingLocksAfterTwentyFailures) {
  int throttled = 0;
  for (int i = 0; i < 20; ++i) {
    Response r = Pair(kCode + 1);
    while (r.result() == status::too_many_requests) {
      ++throttled;
      clock_.Advance(std::chrono::seconds(RetryAfter(r)));
      r = Pair(kCode + 1);
    }
    ASSERT_EQ(r.result(), status::unauthorized) << i;
  }
  EXPECT_GT(throttled, 0);
  EXPECT_EQ(Count("pairing_locked"), 1u);
  clock_.Advance(std::chrono::minutes(59));
  Response locked = Pair(kCode);
  EXPECT_EQ(locked.result(), status::too_many_requests);
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(Pair(kCode).result(), status::ok);
}

// An online guesser that checks each guess against confirm_v itself and
// never sends confirm: every exchange counts, so it meets the delays and
// the lock like anyone else.
TEST_F(DeviceServiceTest, AGuesserThatNeverConfirmsIsDelayedThenLocked) {
  auto guess = [&]() -> Response {
    Response begin = Send(verb::post, "/v1/pair/begin", "{}");
    if (begin.result() != status::ok) return begin;
    sp::Prover prover = MakeProver(kCode + 1, Body(begin));
    schema::Json ex = {{"share_p", Base64Encode(prover.share_p())}};
    Response exchange = Send(verb::post, "/v1/pair/exchange", ex.dump());
    if (exchange.result() == status::ok) {
      auto e = Body(exchange);
      // The guess is checked here, on the guesser's side.
      EXPECT_FALSE(prover
                       .Finish(*Base64Decode(e["share_v"].get<std::string>()),
                               *Base64Decode(e["confirm_v"].get<std::string>()))
                       .ok());
    }
    return exchange;
  };
  for (int attempt = 1; attempt <= 3; ++attempt) {
    EXPECT_EQ(guess().result(), status::ok) << attempt;
  }
  // The fourth attempt waits.
  Response fourth = guess();
  ASSERT_EQ(fourth.result(), status::too_many_requests);
  EXPECT_EQ(RetryAfter(fourth), 1);
  for (int attempt = 4; attempt <= 20; ++attempt) {
    Response r = guess();
    while (r.result() == status::too_many_requests) {
      ASSERT_EQ(Count("pairing_locked"), 0u) << attempt;
      clock_.Advance(std::chrono::seconds(RetryAfter(r)));
      r = guess();
    }
    ASSERT_EQ(r.result(), status::ok) << attempt;
  }
  EXPECT_EQ(Count("pairing_locked"), 1u);
  // Locked: not even the right code gets an exchange, for an hour.
  clock_.Advance(std::chrono::minutes(10));
  Response locked = Pair(kCode);
  EXPECT_EQ(locked.result(), status::too_many_requests);
  EXPECT_GE(RetryAfter(locked), 3000);
  EXPECT_FALSE(*store_->IsPaired());
  // Each abandoned attempt was reported with the count so far.
  std::vector<int64_t> counts;
  for (const Seen& s : events_) {
    if (s.kind == "pairing_failed") counts.push_back(s.failures);
  }
  ASSERT_EQ(counts.size(), 20u);
  for (size_t i = 0; i < counts.size(); ++i)
    EXPECT_EQ(counts[i], int64_t(i + 1));
}

TEST_F(DeviceServiceTest, ASuccessfulPairingGivesItsCountBack) {
  ASSERT_EQ(Pair(kCode + 1).result(), status::unauthorized);
  ASSERT_EQ(Pair(kCode, kAlicePassword).result(), status::ok);
  // One failure is left, so a reset and a new pairing go ahead at once.
  ASSERT_EQ(As(owner_key_, verb::post, "/v1/reset").result(), status::ok);
  EXPECT_EQ(Pair(kCode + 1).result(), status::unauthorized);
  EXPECT_EQ(Pair(kCode + 1).result(), status::unauthorized);
  EXPECT_EQ(Pair(kCode + 1).result(), status::too_many_requests);
}

// A crash between the device's commit and its reply: the client pairs
// again with the same key, and the device answers as before.
TEST_F(DeviceServiceTest,
       PairingAgainWithTheSameKeyCompletesAndChangesNothing) {
  ASSERT_EQ(Pair(kCode, kAlicePassword).result(), status::ok);
  auto before = *store_->Owners();
  peer_.client_key_fingerprint = owner_key_.public_key().Fingerprint();
  Response again = Pair(kCode, "a different password 99", nullptr, "other");
  ASSERT_EQ(again.result(), status::ok) << again.body();
  EXPECT_EQ(Body(again)["owner"], "alice");
  EXPECT_EQ(Body(again)["serial"], "SN-TEST-1");
  EXPECT_EQ(Body(again)["device_fingerprint"], "ab");
  auto after = *store_->Owners();
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after[0].name, "alice");
  // The password did not change.
  EXPECT_EQ(Login("alice", kAlicePassword).result(), status::ok);
  EXPECT_EQ(Count("paired_again"), 1u);

  // The code must be proven again; a wrong one is a failure like any other.
  Response wrong = Pair(kCode + 1);
  EXPECT_EQ(wrong.result(), status::unauthorized);
  EXPECT_EQ(Count("pairing_failed"), 1u);
}

TEST_F(DeviceServiceTest, PairingAgainNeedsTheRegisteredKeyOnTheConnection) {
  ASSERT_EQ(Pair(kCode).result(), status::ok);
  // A certificate that is no owner's: refused at begin.
  peer_.client_key_fingerprint = bob_key_.public_key().Fingerprint();
  EXPECT_EQ(Pair(kCode, "", &bob_key_, "bob").result(), status::conflict);
  // The owner's certificate, but another key to register: refused.
  peer_.client_key_fingerprint = owner_key_.public_key().Fingerprint();
  Response other = Pair(kCode, "", &bob_key_, "bob");
  EXPECT_EQ(other.result(), status::conflict);
  EXPECT_EQ(Body(other)["error"]["rule"], "already_paired");
  EXPECT_EQ(store_->Owners()->size(), 1u);
}

TEST_F(DeviceServiceTest, PasswordLoginIsThrottledButNeverLocksOutForGood) {
  ASSERT_EQ(Pair(kCode, kAlicePassword).result(), status::ok);
  Response r;
  int failures = 0;
  for (; failures < 12; ++failures) {
    r = Login("alice", "not the password at all");
    if (r.result() == status::too_many_requests) break;
    ASSERT_EQ(r.result(), status::unauthorized);
  }
  ASSERT_EQ(r.result(), status::too_many_requests);
  int retry = RetryAfter(r);
  EXPECT_GE(retry, 1);
  // Even the right password waits, without a device cookie...
  EXPECT_EQ(Login("alice", kAlicePassword).result(), status::too_many_requests);
  // ...but only until the delay passes.
  clock_.Advance(std::chrono::seconds(retry));
  Response ok = Login("alice", kAlicePassword);
  ASSERT_EQ(ok.result(), status::ok) << ok.body();
  std::string token = Body(ok)["token"];
  EXPECT_EQ(Body(ok)["owner"], "alice");
  EXPECT_EQ(Body(ok)["role"], "admin");
  EXPECT_EQ(Send(verb::get, "/v1/state", "", "", token).result(),
            status::service_unavailable);  // authenticated; no app here
  EXPECT_EQ(Send(verb::get, "/v1/state", "", "", "forged").result(),
            status::unauthorized);
  clock_.Advance(std::chrono::hours(13));
  EXPECT_EQ(Send(verb::get, "/v1/state", "", "", token).result(),
            status::unauthorized);
}

TEST_F(DeviceServiceTest, LoginNamesTheOwnerAndTellsNoOneWhichNamesExist) {
  ASSERT_EQ(Pair(kCode, kAlicePassword).result(), status::ok);
  Response unknown = Login("mallory", kAlicePassword);
  Response wrong = Login("alice", "not the password at all");
  EXPECT_EQ(unknown.result(), status::unauthorized);
  EXPECT_EQ(wrong.result(), status::unauthorized);
  EXPECT_EQ(Body(unknown)["error"], Body(wrong)["error"]);
  // The old body without the owner is refused, naming the field.
  Response old = Send(verb::post, "/v1/login",
                      R"({"password": "correct horse battery staple 7"})");
  EXPECT_EQ(old.result(), status::bad_request);
  EXPECT_EQ(Body(old)["error"]["field"], "/owner");
  EXPECT_EQ(Body(old)["error"]["rule"], "required");
}

TEST_F(DeviceServiceTest, ATokenAuthenticatesAsTheOwnerWhoLoggedIn) {
  PairAliceAndBob();
  Response bob = Login("bob", kBobPassword);
  ASSERT_EQ(bob.result(), status::ok);
  std::string token = Body(bob)["token"];
  Response owners = Send(verb::get, "/v1/owners", "", "", token);
  ASSERT_EQ(owners.result(), status::ok);
  EXPECT_EQ(Body(owners)["you"], "bob");
  // Bob's token is a member's: it cannot reset the device.
  EXPECT_EQ(Send(verb::post, "/v1/reset", "", "", token).result(),
            status::forbidden);
  EXPECT_TRUE(*store_->IsPaired());
}

TEST_F(DeviceServiceTest, AMemberCannotResetOrChangeTheAdministratorsPassword) {
  PairAliceAndBob();
  Response reset = As(bob_key_, verb::post, "/v1/reset");
  EXPECT_EQ(reset.result(), status::forbidden);
  EXPECT_EQ(Body(reset)["error"]["code"], "permission_denied");
  Response change = As(bob_key_, verb::put, "/v1/owners/alice/password",
                       R"({"password": "bob now owns this device 1"})");
  EXPECT_EQ(change.result(), status::forbidden);
  EXPECT_EQ(As(bob_key_, verb::delete_, "/v1/owners/alice").result(),
            status::forbidden);
  EXPECT_EQ(Count("access_denied"), 3u);
  EXPECT_TRUE(*store_->IsPaired());
  EXPECT_EQ(store_->Owners()->size(), 2u);
  EXPECT_EQ(Login("alice", kAlicePassword).result(), status::ok);
  EXPECT_NE(Login("alice", "bob now owns this device 1").result(), status::ok);

  // A member controls the device and its own credentials.
  EXPECT_EQ(As(bob_key_, verb::put, "/v1/owner/password",
               R"({"password": "bobs own new secret 42"})")
                .result(),
            status::no_content);
  EXPECT_EQ(As(bob_key_, verb::put, "/v1/owners/bob/password",
               R"({"password": "and again it changes 43"})")
                .result(),
            status::no_content);
  EXPECT_EQ(Login("bob", "and again it changes 43").result(), status::ok);
  EXPECT_EQ(As(bob_key_, verb::get, "/v1/state").result(),
            status::service_unavailable);  // allowed; there is no app
}

TEST_F(DeviceServiceTest, AnAdministratorManagesTheOwners) {
  PairAliceAndBob();
  Response list = As(owner_key_, verb::get, "/v1/owners");
  ASSERT_EQ(list.result(), status::ok);
  auto owners = Body(list)["owners"];
  ASSERT_EQ(owners.size(), 2u);
  EXPECT_EQ(owners[0]["name"], "alice");
  EXPECT_EQ(owners[0]["role"], "admin");
  EXPECT_EQ(owners[1]["name"], "bob");
  EXPECT_EQ(owners[1]["role"], "member");
  EXPECT_EQ(owners[1]["key"], bob_key_.public_key().Fingerprint());

  // Alice sets Bob's password; Bob's sessions end with it.
  Response bob_login = Login("bob", kBobPassword);
  std::string bob_token = Body(bob_login)["token"];
  Response alice_login = Login("alice", kAlicePassword);
  std::string alice_token = Body(alice_login)["token"];
  EXPECT_EQ(As(owner_key_, verb::put, "/v1/owners/bob/password",
               R"({"password": "set for bob by alice 77"})")
                .result(),
            status::no_content);
  EXPECT_EQ(Send(verb::get, "/v1/owners", "", "", bob_token).result(),
            status::unauthorized);
  EXPECT_EQ(Send(verb::get, "/v1/owners", "", "", alice_token).result(),
            status::ok);
  EXPECT_EQ(Login("bob", "set for bob by alice 77").result(), status::ok);
  EXPECT_EQ(As(owner_key_, verb::put, "/v1/owners/nobody/password",
               R"({"password": "set for bob by alice 77"})")
                .result(),
            status::not_found);

  // The last administrator stays; Bob can be removed.
  Response last = As(owner_key_, verb::delete_, "/v1/owners/alice");
  EXPECT_EQ(last.result(), status::conflict);
  EXPECT_EQ(Body(last)["error"]["rule"], "last_admin");
  EXPECT_EQ(As(owner_key_, verb::delete_, "/v1/owners/bob").result(),
            status::no_content);
  EXPECT_EQ(As(owner_key_, verb::delete_, "/v1/owners/bob").result(),
            status::not_found);
  EXPECT_EQ(As(bob_key_, verb::get, "/v1/owners").result(),
            status::unauthorized);
  EXPECT_EQ(store_->Owners()->size(), 1u);
  EXPECT_EQ(Count("owner_removed"), 1u);
  EXPECT_EQ(Count("password_changed"), 1u);
}

TEST_F(DeviceServiceTest, LogoutEndsTheSession) {
  ASSERT_EQ(Pair(kCode, kAlicePassword).result(), status::ok);
  std::string first = Body(Login("alice", kAlicePassword))["token"];
  std::string second = Body(Login("alice", kAlicePassword))["token"];
  EXPECT_EQ(Send(verb::post, "/v1/logout", "", "", first).result(),
            status::no_content);
  EXPECT_EQ(Send(verb::get, "/v1/owners", "", "", first).result(),
            status::unauthorized);
  EXPECT_EQ(Send(verb::post, "/v1/logout", "", "", first).result(),
            status::unauthorized);
  // Only that session.
  EXPECT_EQ(Send(verb::get, "/v1/owners", "", "", second).result(), status::ok);
  EXPECT_EQ(Count("logout"), 1u);
}

TEST_F(DeviceServiceTest, AConnectionIsAnOwnersWhileItsLoginSessionLives) {
  ASSERT_EQ(Pair(kCode, kAlicePassword).result(), status::ok);
  Peer browser;
  browser.address = "127.0.0.9";
  EXPECT_FALSE(service_->RecogniseOwner(browser));
  // A wrong password leaves it a stranger's.
  schema::Json wrong = {{"owner", "alice"}, {"password", "not her password"}};
  EXPECT_EQ(Send(verb::post, "/v1/login", wrong.dump(), "application/json", "",
                 &browser)
                .result(),
            status::unauthorized);
  EXPECT_FALSE(service_->RecogniseOwner(browser));
  schema::Json right = {{"owner", "alice"}, {"password", kAlicePassword}};
  Response login = Send(verb::post, "/v1/login", right.dump(),
                        "application/json", "", &browser);
  ASSERT_EQ(login.result(), status::ok);
  EXPECT_TRUE(service_->RecogniseOwner(browser));
  std::string token = Body(login)["token"];

  // Another connection becomes an owner's by a request the token
  // authenticates, and stops being one when the session ends.
  Peer tab;
  tab.address = "127.0.0.9";
  EXPECT_EQ(Send(verb::get, "/v1/owners", "", "", token, &tab).result(),
            status::ok);
  EXPECT_TRUE(service_->RecogniseOwner(tab));
  EXPECT_EQ(Send(verb::post, "/v1/logout", "", "", token, &browser).result(),
            status::no_content);
  EXPECT_FALSE(service_->RecogniseOwner(browser));
  EXPECT_FALSE(service_->RecogniseOwner(tab));
  EXPECT_TRUE(tab.session_token.empty());
}

TEST_F(DeviceServiceTest, SessionsSurviveARestartOfTheService) {
  ASSERT_EQ(Pair(kCode, kAlicePassword).result(), status::ok);
  std::string token = Body(Login("alice", kAlicePassword))["token"];
  ServiceOptions options;
  options.password_hash = auth::MinimumHashParams();
  peer_ = Peer();
  service_ = std::make_unique<DeviceService>(
      testing::MakeTestFacts("SN-TEST-1", kCode, kSalt), *store_, nullptr,
      clock_, SystemRng(), options, bus_);
  ASSERT_TRUE(service_->Init().ok());
  Response r = Send(verb::get, "/v1/owners", "", "", token);
  ASSERT_EQ(r.result(), status::ok);
  EXPECT_EQ(Body(r)["you"], "alice");
}

// 64 addresses guess passwords as fast as they are let. Strangers soon
// wait; the owner with the device cookie from an earlier login does not.
TEST_F(DeviceServiceTest, ADeviceCookieLetsTheOwnerInDuringASpray) {
  ASSERT_EQ(Pair(kCode, kAlicePassword).result(), status::ok);
  Response first = Login("alice", kAlicePassword);
  ASSERT_EQ(first.result(), status::ok);
  const std::string cookie = Body(first)["device_cookie"];
  EXPECT_EQ(cookie.size(), 43u);
  std::string set_cookie(first[http::field::set_cookie]);
  EXPECT_EQ(set_cookie.find("__Host-warden_device=" + cookie + ";"), 0u);
  for (const char* attr : {"Secure", "HttpOnly", "SameSite=Strict", "Path=/"}) {
    EXPECT_NE(set_cookie.find(attr), std::string::npos) << attr;
  }

  int refused = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 2; i < 66; ++i) {
      Response r = Login("alice", "spray guess " + std::to_string(round),
                         "127.0.0." + std::to_string(i));
      if (r.result() == status::too_many_requests) ++refused;
    }
  }
  EXPECT_GT(refused, 100);
  // Without the cookie even the right password waits...
  EXPECT_EQ(Login("alice", kAlicePassword, "127.0.0.1").result(),
            status::too_many_requests);
  // ...with it, the owner is in at the first try, by body or by Cookie.
  Response owner = Login("alice", kAlicePassword, "127.0.0.1", cookie);
  ASSERT_EQ(owner.result(), status::ok) << owner.body();
  EXPECT_EQ(Body(owner)["device_cookie"], cookie);
  Request req(verb::post, "/v1/login", 11);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::cookie, "theme=dark; __Host-warden_device=" + cookie);
  req.body() =
      schema::Json{{"owner", "alice"}, {"password", kAlicePassword}}.dump();
  req.prepare_payload();
  boost::asio::io_context io;
  Response browser;
  Peer peer;
  peer.address = "127.0.0.1";
  boost::asio::co_spawn(io, service_->Handle(std::move(req), peer),
                        [&](std::exception_ptr, Response r) { browser = r; });
  io.run();
  EXPECT_EQ(browser.result(), status::ok) << browser.body();
}

TEST_F(DeviceServiceTest, ADeviceCookieIsBoundToItsOwnerAndRevokedByFailures) {
  PairAliceAndBob();
  const std::string cookie = Body(Login("bob", kBobPassword))["device_cookie"];
  // Bob's cookie does not put a login for Alice on its throttle: that is a
  // stranger's login, and those are throttled per address.
  for (int i = 0; i < 12; ++i) {
    Login("alice", "guessing alice " + std::to_string(i), "127.0.0.9", cookie);
  }
  EXPECT_EQ(Login("alice", kAlicePassword, "127.0.0.9", cookie).result(),
            status::too_many_requests);
  // Failures with the cookie for its own owner are throttled per cookie and
  // revoke it after ten.
  int failures = 0;
  while (failures < 10) {
    Response r = Login("bob", "wrong for bob", "127.0.0.7", cookie);
    if (r.result() == status::too_many_requests) {
      clock_.Advance(std::chrono::seconds(RetryAfter(r)));
      continue;
    }
    ASSERT_EQ(r.result(), status::unauthorized);
    ++failures;
  }
  EXPECT_EQ(Count("device_cookie_revoked"), 1u);
  clock_.Advance(std::chrono::hours(1));
  Response after = Login("bob", kBobPassword, "127.0.0.7", cookie);
  ASSERT_EQ(after.result(), status::ok);
  EXPECT_NE(Body(after)["device_cookie"], cookie);  // a new one
}

TEST_F(DeviceServiceTest, BadRequestsAreAnsweredPrecisely) {
  EXPECT_EQ(Send(verb::get, "/nope").result(), status::not_found);
  Response m = Send(verb::delete_, "/v1/info");
  EXPECT_EQ(m.result(), status::method_not_allowed);
  EXPECT_EQ(m[http::field::allow], "GET");
  EXPECT_EQ(Send(verb::post, "/v1/pair/begin", "{}", "text/plain").result(),
            status::unsupported_media_type);
  Response deep = Send(verb::post, "/v1/pair/begin",
                       std::string(40, '[') + std::string(40, ']'));
  EXPECT_EQ(deep.result(), status::bad_request);
  EXPECT_EQ(Body(deep)["error"]["rule"], "max_depth");
  Response extra = Send(verb::post, "/v1/pair/begin", R"({"x":1})");
  EXPECT_EQ(extra.result(), status::bad_request);
  Response seq = Send(verb::post, "/v1/pair/exchange", R"({"share_p":"AAAA"})");
  EXPECT_EQ(seq.result(), status::conflict);
  Response missing = Send(verb::post, "/v1/pair/exchange", R"({})");
  EXPECT_EQ(Body(missing)["error"]["field"], "/share_p");
  EXPECT_EQ(Body(missing)["error"]["rule"], "required");
  Response type = Send(verb::post, "/v1/pair/confirm",
                       R"({"confirm_p": 1, "client_key": "", "key_proof": "",
                           "name": "x"})");
  EXPECT_EQ(Body(type)["error"]["field"], "/confirm_p");
  EXPECT_EQ(Body(type)["error"]["rule"], "type");
  EXPECT_EQ(Send(verb::get, "/v1/capabilities").result(), status::unauthorized);
  EXPECT_EQ(Send(verb::put, "/v1/state/setpoint", R"({"value":1})").result(),
            status::unauthorized);
  EXPECT_FALSE(*store_->IsPaired());
}

}  // namespace
}  // namespace warden::api
