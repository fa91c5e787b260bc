#include "pairing/attempts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "crypto/spake2plus.h"
#include "events/catalog.h"
#include "pairing/pairing_protocol.h"

namespace warden::pairing {
namespace {

namespace sp = crypto::spake2plus;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr uint32_t kCode = 20202021;
constexpr uint32_t kIterations = 1000;
const Bytes kSalt(16, 7);
const Bytes kExporter(kExporterLength, 0x42);

struct Seen {
  std::string kind;
  int64_t failures = -1;
  std::string reason;
};

class AttemptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto secrets = sp::DeriveProverSecrets(kCode, kSalt, kIterations);
    auto record = sp::MakeVerifierRecord(*secrets);
    params_ = {"SN-1", record->w0.bytes(), record->L, kSalt, kIterations};
    bus_.Subscribe([this](const events::Event& e) {
      Seen s{std::string(e.kind().name)};
      for (const auto& f : e.fields()) {
        if (f.name == "failures") s.failures = std::get<int64_t>(f.value);
        if (f.name == "reason") s.reason = std::get<std::string>(f.value);
      }
      seen_.push_back(s);
    });
  }

  sp::Prover MakeProver(uint32_t code) {
    auto secrets = sp::DeriveProverSecrets(code, kSalt, kIterations);
    sp::Identities ids{PairingContext(kExporter), ToBytes(kProverId),
                       ToBytes("SN-1")};
    return std::move(*sp::Prover::Create(crypto::HashAlg::kSha256, ids,
                                         secrets->w0.view(), secrets->w1.view(),
                                         SystemRng()));
  }

  // One attempt of a guesser that checks confirm_v itself and never
  // confirms. kResourceExhausted when it had to wait.
  Status Guess(uint32_t code) {
    auto attempt = ledger_.Begin(params_, kExporter, SystemRng(), "peer");
    if (!attempt.ok()) return attempt.status();
    sp::Prover prover = MakeProver(code);
    auto reply = attempt->Exchange(prover.share_p());
    if (!reply.ok()) return reply.status();
    auto checked =
        prover.Finish(*Base64Decode((*reply)["share_v"].get<std::string>()),
                      *Base64Decode((*reply)["confirm_v"].get<std::string>()));
    EXPECT_EQ(checked.ok(), code == kCode);
    return Status::Ok();  // the attempt is dropped here, unconfirmed
  }

  // A whole attempt with confirm, as the owner's client makes it.
  Result<PairedOwner> Pair(uint32_t code) {
    WARDEN_ASSIGN_OR_RETURN(
        Attempt attempt, ledger_.Begin(params_, kExporter, SystemRng(), "p"));
    sp::Prover prover = MakeProver(code);
    WARDEN_ASSIGN_OR_RETURN(auto reply, attempt.Exchange(prover.share_p()));
    auto finished =
        prover.Finish(*Base64Decode(reply["share_v"].get<std::string>()),
                      *Base64Decode(reply["confirm_v"].get<std::string>()));
    Bytes confirm_p = finished.ok() ? finished->confirm_p : Bytes(32, 0);
    Bytes shared = finished.ok() ? finished->shared_key.bytes() : Bytes(32, 0);
    return attempt.Confirm({confirm_p, key_.public_key(),
                            KeyProof(shared, key_.public_key()), "alice",
                            std::nullopt});
  }

  size_t Count(std::string_view kind) const {
    return std::count_if(seen_.begin(), seen_.end(),
                         [&](const Seen& s) { return s.kind == kind; });
  }

  FakeClock clock_;
  events::Bus bus_{clock_};
  std::vector<Seen> seen_;
  PairingAttempts ledger_{clock_, PairingAttempts::Policy{}, bus_};
  VerifierParams params_;
  crypto::PrivateKey key_ =
      *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
};

TEST_F(AttemptsTest, AGuesserThatNeverConfirmsIsDelayedFromTheFourthAttempt) {
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_TRUE(Guess(kCode + 1).ok()) << attempt;
    EXPECT_EQ(ledger_.failures(), attempt);
  }
  Status fourth = Guess(kCode + 1);
  EXPECT_EQ(fourth.code(), Code::kResourceExhausted);
  EXPECT_EQ(ledger_.Check().retry_after, seconds(1));
  EXPECT_EQ(ledger_.failures(), 3);  // a refused attempt costs nothing
  clock_.Advance(seconds(1));
  EXPECT_TRUE(Guess(kCode + 1).ok());
  EXPECT_EQ(ledger_.failures(), 4);
}

TEST_F(AttemptsTest, AGuesserThatNeverConfirmsIsLockedAtTheTwentieth) {
  int made = 0;
  while (made < 20) {
    Status st = Guess(kCode + 1);
    if (st.code() == Code::kResourceExhausted) {
      ASSERT_FALSE(ledger_.locked()) << made;
      clock_.Advance(ledger_.Check().retry_after);
      continue;
    }
    ASSERT_TRUE(st.ok()) << st.ToString();
    ++made;
    EXPECT_EQ(ledger_.locked(), made == 20) << made;
  }
  // Every attempt was reported, with the count, and the lock once.
  ASSERT_EQ(Count("pairing_failed"), 20u);
  int64_t expected = 0;
  for (const Seen& s : seen_) {
    if (s.kind != "pairing_failed") continue;
    EXPECT_EQ(s.failures, ++expected);
    EXPECT_EQ(s.reason, "abandoned");
  }
  EXPECT_EQ(Count("pairing_locked"), 1u);
  // Not even the right code gets an exchange for an hour.
  clock_.Advance(minutes(59));
  EXPECT_EQ(Guess(kCode).code(), Code::kResourceExhausted);
  EXPECT_GE(ledger_.Check().retry_after, seconds(1));
  clock_.Advance(minutes(1));
  EXPECT_TRUE(Pair(kCode).ok());
}

TEST_F(AttemptsTest, ProvingTheCodeGivesTheCountBack) {
  ASSERT_TRUE(Guess(kCode + 1).ok());
  ASSERT_TRUE(Guess(kCode + 1).ok());
  ASSERT_EQ(ledger_.failures(), 2);
  auto owner = Pair(kCode);
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(owner->name, "alice");
  // Only its own count: the guesses stay counted.
  EXPECT_EQ(ledger_.failures(), 2);
  EXPECT_EQ(Count("pairing_failed"), 2u);
}

TEST_F(AttemptsTest, AWrongConfirmationStaysCounted) {
  auto owner = Pair(kCode + 1);
  EXPECT_EQ(owner.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(ledger_.failures(), 1);
  ASSERT_EQ(Count("pairing_failed"), 1u);
  EXPECT_EQ(seen_.back().failures, 1);
}

TEST_F(AttemptsTest, AnInvalidPointIsCounted) {
  auto attempt = ledger_.Begin(params_, kExporter, SystemRng(), "peer");
  ASSERT_TRUE(attempt.ok());
  EXPECT_EQ(attempt->Exchange(Bytes(65, 0)).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(attempt->over());
  EXPECT_EQ(ledger_.failures(), 1);
  ASSERT_EQ(Count("pairing_failed"), 1u);
  EXPECT_EQ(seen_.back().reason, "invalid share");
}

TEST_F(AttemptsTest, AnAttemptThatTimesOutStaysCounted) {
  auto attempt = ledger_.Begin(params_, kExporter, SystemRng(), "peer");
  ASSERT_TRUE(attempt.ok());
  sp::Prover prover = MakeProver(kCode);
  auto reply = attempt->Exchange(prover.share_p());
  ASSERT_TRUE(reply.ok());
  auto finished =
      prover.Finish(*Base64Decode((*reply)["share_v"].get<std::string>()),
                    *Base64Decode((*reply)["confirm_v"].get<std::string>()));
  ASSERT_TRUE(finished.ok());
  clock_.Advance(seconds(61));
  // Even the right proof is too late now.
  auto late = attempt->Confirm(
      {finished->confirm_p, key_.public_key(),
       KeyProof(finished->shared_key.view(), key_.public_key()), "alice",
       std::nullopt});
  EXPECT_EQ(late.status().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(ledger_.failures(), 1);
  ASSERT_EQ(Count("pairing_failed"), 1u);
  EXPECT_EQ(seen_.back().reason, "timed out");
}

TEST_F(AttemptsTest, BeginningAgainEndsTheOpenAttempt) {
  auto first = ledger_.Begin(params_, kExporter, SystemRng(), "peer");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->Exchange(MakeProver(kCode).share_p()).ok());
  EXPECT_EQ(Count("pairing_failed"), 0u);
  auto second = ledger_.Begin(params_, kExporter, SystemRng(), "peer");
  ASSERT_TRUE(second.ok());
  *first = std::move(*second);
  EXPECT_EQ(Count("pairing_failed"), 1u);
  EXPECT_EQ(ledger_.failures(), 1);
  // The replacement is fresh: it may exchange, and is counted when it does.
  ASSERT_TRUE(first->Exchange(MakeProver(kCode).share_p()).ok());
  EXPECT_EQ(ledger_.failures(), 2);
}

TEST_F(AttemptsTest, AnExchangeIsMadeOncePerAttempt) {
  auto attempt = ledger_.Begin(params_, kExporter, SystemRng(), "peer");
  ASSERT_TRUE(attempt.ok());
  ASSERT_TRUE(attempt->Exchange(MakeProver(kCode).share_p()).ok());
  EXPECT_EQ(attempt->Exchange(MakeProver(kCode).share_p()).status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(ledger_.failures(), 1);
}

TEST_F(AttemptsTest, AnAttemptMayOutliveItsLedger) {
  auto ledger = std::make_unique<PairingAttempts>(
      clock_, PairingAttempts::Policy{}, bus_);
  auto attempt = ledger->Begin(params_, kExporter, SystemRng(), "peer");
  ASSERT_TRUE(attempt.ok());
  ASSERT_TRUE(attempt->Exchange(MakeProver(kCode).share_p()).ok());
  ledger.reset();
  EXPECT_EQ(attempt
                ->Confirm({Bytes(32, 0), key_.public_key(), Bytes(32, 0),
                           "alice", std::nullopt})
                .status()
                .code(),
            Code::kDeadlineExceeded);
  EXPECT_EQ(Count("pairing_failed"), 0u);
}

}  // namespace
}  // namespace warden::pairing
