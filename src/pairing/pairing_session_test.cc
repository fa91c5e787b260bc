#include "pairing/pairing_session.h"

#include <gtest/gtest.h>

#include "pairing/pairing_protocol.h"

namespace warden::pairing {
namespace {

namespace sp = crypto::spake2plus;

constexpr uint32_t kCode = 20260117;
const Bytes kSalt(16, 0x5a);
constexpr uint32_t kIterations = 1000;

VerifierParams Params() {
  auto secrets = sp::DeriveProverSecrets(kCode, kSalt, kIterations);
  auto record = sp::MakeVerifierRecord(*secrets);
  return VerifierParams{"SN-0001", record->w0.bytes(), record->L, kSalt,
                        kIterations};
}

// The owner's side, as the CLI runs it.
struct Client {
  sp::Prover prover;
  crypto::PrivateKey key;
};

Client StartClient(uint32_t code, ByteView exporter) {
  auto secrets = sp::DeriveProverSecrets(code, kSalt, kIterations);
  sp::Identities ids{PairingContext(exporter), ToBytes(kProverId),
                     ToBytes("SN-0001")};
  auto prover =
      sp::Prover::Create(crypto::HashAlg::kSha256, ids, secrets->w0.view(),
                         secrets->w1.view(), SystemRng());
  return Client{std::move(*prover),
                *crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256)};
}

// Runs begin/exchange/confirm; returns the device's verdict.
Result<PairedOwner> RunPairing(uint32_t code, ByteView device_exporter,
                               ByteView client_exporter,
                               bool tamper_proof = false) {
  auto session = ServerSession::Create(Params(), device_exporter, SystemRng());
  if (!session.ok()) return session.status();
  Client client = StartClient(code, client_exporter);

  auto reply = session->Exchange(client.prover.share_p());
  if (!reply.ok()) return reply.status();
  Bytes share_v = *Base64Decode((*reply)["share_v"].get<std::string>());
  Bytes confirm_v = *Base64Decode((*reply)["confirm_v"].get<std::string>());
  auto finished = client.prover.Finish(share_v, confirm_v);
  // A client with the wrong code or a relayed channel stops here; the
  // device must also refuse a confirm_p made without the right key.
  Bytes confirm_p = finished.ok() ? finished->confirm_p : Bytes(32, 0);
  Bytes shared = finished.ok() ? finished->shared_key.bytes() : Bytes(32, 1);
  Bytes proof = KeyProof(shared, client.key.public_key());
  if (tamper_proof) proof[0] ^= 1;
  schema::Json body = {{"confirm_p", Base64Encode(confirm_p)},
                       {"client_key", client.key.public_key().ToPem()},
                       {"key_proof", Base64Encode(proof)},
                       {"name", "alice"}};
  MessageError error;
  auto request = ParseConfirmRequest(body, &error);
  if (!request.ok()) return request.status();
  return session->Confirm(std::move(*request));
}

TEST(PairingSessionTest, RightCodeOnOneChannelPairs) {
  Bytes exporter(32, 7);
  auto owner = RunPairing(kCode, exporter, exporter);
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(owner->name, "alice");
}

TEST(PairingSessionTest, WrongCodeIsRefused) {
  Bytes exporter(32, 7);
  auto owner = RunPairing(kCode + 1, exporter, exporter);
  EXPECT_EQ(owner.status().code(), Code::kUnauthenticated);
}

TEST(PairingSessionTest, RelayedChannelIsRefusedEvenWithTheRightCode) {
  // A relay terminates TLS on both sides: each peer sees its own exporter.
  auto owner = RunPairing(kCode, Bytes(32, 7), Bytes(32, 8));
  EXPECT_EQ(owner.status().code(), Code::kUnauthenticated);
}

TEST(PairingSessionTest, KeyProofBindsTheRegisteredKey) {
  Bytes exporter(32, 7);
  auto owner = RunPairing(kCode, exporter, exporter, /*tamper_proof=*/true);
  EXPECT_EQ(owner.status().code(), Code::kUnauthenticated);
}

TEST(PairingSessionTest, SessionIsSingleUse) {
  Bytes exporter(32, 7);
  auto session = ServerSession::Create(Params(), exporter, SystemRng());
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->BeginResponse()["id_verifier"], "SN-0001");
  EXPECT_EQ(session->BeginResponse()["iterations"], kIterations);
  Client client = StartClient(kCode, exporter);
  ASSERT_TRUE(session->Exchange(client.prover.share_p()).ok());
  EXPECT_EQ(session->Exchange(client.prover.share_p()).status().code(),
            Code::kFailedPrecondition);
}

TEST(PairingSessionTest, InvalidPointSpendsTheSession) {
  auto session = ServerSession::Create(Params(), Bytes(32, 7), SystemRng());
  ASSERT_TRUE(session.ok());
  Bytes bad(65, 0);
  bad[0] = 0x04;  // (0, 0) is not on P-256
  EXPECT_FALSE(session->Exchange(bad).ok());
  EXPECT_TRUE(session->spent());
}

TEST(PairingMessagesTest, ExchangeShapeIsChecked) {
  MessageError e;
  EXPECT_FALSE(ParseExchangeRequest(schema::Json::array(), &e).ok());
  EXPECT_EQ(e.rule, "type");
  EXPECT_FALSE(ParseExchangeRequest(schema::Json::object(), &e).ok());
  EXPECT_EQ(e.field, "/share_p");
  EXPECT_EQ(e.rule, "required");
  EXPECT_FALSE(ParseExchangeRequest({{"share_p", "AAAA"}, {"x", 1}}, &e).ok());
  EXPECT_EQ(e.field, "/x");
  EXPECT_FALSE(ParseExchangeRequest({{"share_p", "AAAA"}}, &e).ok());
  EXPECT_EQ(e.rule, "length");
  EXPECT_FALSE(ParseExchangeRequest({{"share_p", "!!!!"}}, &e).ok());
  EXPECT_EQ(e.rule, "format");
  EXPECT_TRUE(
      ParseExchangeRequest({{"share_p", Base64Encode(Bytes(65, 4))}}, &e).ok());
}

TEST(PairingMessagesTest, ConfirmShapeIsChecked) {
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  schema::Json good = {{"confirm_p", Base64Encode(Bytes(32, 1))},
                       {"client_key", key->public_key().ToPem()},
                       {"key_proof", Base64Encode(Bytes(32, 2))},
                       {"name", "alice"},
                       {"password", "a long passphrase"}};
  MessageError e;
  auto parsed = ParseConfirmRequest(good, &e);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed->password, "a long passphrase");

  auto bad = good;
  bad["name"] = "";
  EXPECT_FALSE(ParseConfirmRequest(bad, &e).ok());
  EXPECT_EQ(e.field, "/name");
  bad = good;
  bad["client_key"] =
      "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  EXPECT_FALSE(ParseConfirmRequest(bad, &e).ok());
  EXPECT_EQ(e.field, "/client_key");
  bad = good;
  bad["password"] = std::string(129, 'x');
  EXPECT_FALSE(ParseConfirmRequest(bad, &e).ok());
  EXPECT_EQ(e.rule, "maxLength");
  bad = good;
  bad["name"] = std::string("a\x01");
  EXPECT_FALSE(ParseConfirmRequest(bad, &e).ok());
}

}  // namespace
}  // namespace warden::pairing
