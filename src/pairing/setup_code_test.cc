#include "pairing/setup_code.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

namespace warden::pairing {
namespace {

// Deterministic source for reproducible tests (splitmix64).
class SeqRng : public Rng {
 public:
  explicit SeqRng(uint64_t seed) : state_(seed) {}
  Status Fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      if (left_ == 0) {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        word_ = z ^ (z >> 31);
        left_ = 8;
      }
      b = static_cast<uint8_t>(word_);
      word_ >>= 8;
      --left_;
    }
    return Status::Ok();
  }

 private:
  uint64_t state_;
  uint64_t word_ = 0;
  int left_ = 0;
};

// Always yields the same 64-bit word: UniformBelow then returns
// word % bound, which lets a test choose the drawn index.
class FixedRng : public Rng {
 public:
  explicit FixedRng(uint64_t word) : word_(word) {}
  Status Fill(std::span<uint8_t> out) override {
    for (size_t i = 0; i < out.size(); ++i) {
      std::memcpy(&out[i], reinterpret_cast<const uint8_t*>(&word_) + i % 8, 1);
    }
    return Status::Ok();
  }

 private:
  uint64_t word_;
};

class FailingRng : public Rng {
 public:
  Status Fill(std::span<uint8_t>) override { return IoError("no entropy"); }
};

TEST(Verhoeff, KnownAnswers) {
  EXPECT_EQ(VerhoeffCheckDigit("236"), '3');
  EXPECT_EQ(VerhoeffCheckDigit("12345"), '1');
  EXPECT_EQ(VerhoeffCheckDigit("142857"), '0');
  // The Matter test device's manual code 3497-011-2332.
  EXPECT_EQ(VerhoeffCheckDigit("3497011233"), '2');
  EXPECT_TRUE(VerhoeffValid("2363"));
  EXPECT_TRUE(VerhoeffValid("34970112332"));
  EXPECT_FALSE(VerhoeffValid("2364"));
  EXPECT_FALSE(VerhoeffValid("23a3"));
  EXPECT_FALSE(VerhoeffValid("3"));
  EXPECT_EQ(VerhoeffCheckDigit("12x"), '\0');
}

TEST(Verhoeff, DetectsSubstitutionsAndAdjacentTranspositions) {
  SeqRng rng(42);
  for (int sample = 0; sample < 300; ++sample) {
    std::string digits;
    for (int i = 0; i < 10; ++i) {
      uint64_t d = UniformBelow(rng, 10).value();
      digits += static_cast<char>('0' + d);
    }
    const std::string code = digits + VerhoeffCheckDigit(digits);
    ASSERT_TRUE(VerhoeffValid(code)) << code;
    for (size_t pos = 0; pos < code.size(); ++pos) {
      for (char c = '0'; c <= '9'; ++c) {
        if (c == code[pos]) continue;
        std::string bad = code;
        bad[pos] = c;
        EXPECT_FALSE(VerhoeffValid(bad)) << code << " -> " << bad;
      }
      if (pos + 1 < code.size() && code[pos] != code[pos + 1]) {
        std::string swapped = code;
        std::swap(swapped[pos], swapped[pos + 1]);
        EXPECT_FALSE(VerhoeffValid(swapped)) << code << " -> " << swapped;
      }
    }
  }
}

TEST(SetupCode, ForbiddenValuesAreRefused) {
  for (uint32_t code : {0u, 11111111u, 22222222u, 33333333u, 44444444u,
                        55555555u, 66666666u, 77777777u, 88888888u, 99999999u,
                        12345678u, 87654321u, 100000000u, 0xFFFFFFFFu}) {
    EXPECT_FALSE(IsValidSetupCode(code)) << code;
  }
  for (uint32_t code : {1u, 20202021u, 11111112u, 12345679u, 99999998u}) {
    EXPECT_TRUE(IsValidSetupCode(code)) << code;
  }
}

TEST(SetupCode, GeneratedCodesAreValidAndVary) {
  SeqRng rng(7);
  std::set<uint32_t> seen;
  for (int i = 0; i < 10000; ++i) {
    auto code = GenerateSetupCode(rng);
    ASSERT_TRUE(code.ok());
    ASSERT_TRUE(IsValidSetupCode(*code)) << *code;
    seen.insert(*code);
  }
  // 10000 draws from ~10^8 values: collisions are rare, equality absurd.
  EXPECT_GT(seen.size(), 9990u);
}

TEST(SetupCode, EveryDrawMapsOntoAValidCode) {
  // The drawn index is stepped over each forbidden value, so the indices
  // next to them land on valid neighbours and the range ends exactly at
  // the largest valid code.
  constexpr uint64_t kValid = 99999998 - 10;
  struct Case {
    uint64_t index;
    uint32_t code;
  } cases[] = {
      {0, 1},
      {11111109, 11111110},
      {11111110, 11111112},
      {12345675, 12345677},
      {12345676, 12345679},
      {kValid - 1, 99999998},
  };
  for (const auto& c : cases) {
    FixedRng rng(c.index);
    auto code = GenerateSetupCode(rng);
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, c.code) << "index " << c.index;
  }
}

TEST(SetupCode, RngFailureIsReported) {
  FailingRng rng;
  EXPECT_FALSE(GenerateSetupCode(rng).ok());
  EXPECT_FALSE(GenerateDiscriminator(rng).ok());
}

TEST(Discriminator, TwelveBitsAndVaries) {
  SeqRng rng(9);
  std::set<uint16_t> seen;
  for (int i = 0; i < 2000; ++i) {
    auto d = GenerateDiscriminator(rng);
    ASSERT_TRUE(d.ok());
    EXPECT_LE(*d, kMaxDiscriminator);
    seen.insert(*d);
  }
  EXPECT_GT(seen.size(), 1000u);
}

}  // namespace
}  // namespace warden::pairing
