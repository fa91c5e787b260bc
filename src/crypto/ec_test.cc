// P-256 scalars and points: encodings, range checks and group laws.
#include "crypto/ec.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/rng.h"

namespace warden::crypto::p256 {
namespace {

Bytes H(std::string_view hex) { return HexDecode(hex).value(); }

const char kOrder[] =
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const char kGenerator[] =
    "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
// 2G, from SEC 2 / standard P-256 test data.
const char kTwoG[] =
    "047cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978"
    "07775510db8ed040293d9ac69f7430dbba7dade63ce982299e04b79d227873d1";

Scalar S(uint8_t v) {
  Bytes b(32, 0);
  b[31] = v;
  return Scalar::FromBytes(b).value();
}

TEST(P256Test, ScalarRange) {
  Bytes n = H(kOrder);
  EXPECT_EQ(Scalar::FromBytes(n).status().code(), Code::kInvalidArgument);
  Bytes n_minus_1 = n;
  n_minus_1[31] -= 1;
  Result<Scalar> top = Scalar::FromBytes(n_minus_1);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->ToBytes(), n_minus_1);
  EXPECT_EQ(Scalar::FromBytes(Bytes(31)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Scalar::FromBytes(Bytes(33)).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(Scalar::FromBytes(Bytes(32)).value().IsZero());
  EXPECT_FALSE(S(1).IsZero());
}

TEST(P256Test, ScalarReduction) {
  Bytes n_plus_5 = H(kOrder);
  n_plus_5[31] += 5;  // no carry: the last byte of n is 0x51
  Result<Scalar> r = Scalar::FromBytesReduced(n_plus_5);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ToBytes(), S(5).ToBytes());
  // 40-byte input as in RFC 9383: the leading zero bytes do not matter.
  Bytes wide(40, 0);
  wide[39] = 7;
  EXPECT_EQ(Scalar::FromBytesReduced(wide)->ToBytes(), S(7).ToBytes());
  EXPECT_TRUE(Scalar::FromBytesReduced(H(kOrder))->IsZero());
}

TEST(P256Test, RandomScalarsAreNonZeroAndDistinct) {
  Result<Scalar> a = Scalar::Random(SystemRng());
  Result<Scalar> b = Scalar::Random(SystemRng());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->IsZero());
  EXPECT_NE(a->ToBytes(), b->ToBytes());
}

class ConstantRng : public Rng {
 public:
  explicit ConstantRng(uint8_t v) : v_(v) {}
  Status Fill(std::span<uint8_t> out) override {
    for (uint8_t& b : out) b = v_;
    return Status::Ok();
  }

 private:
  uint8_t v_;
};

TEST(P256Test, RandomRejectsOutOfRangeDraws) {
  // All-ones is above n and all-zeros is zero: neither is ever returned.
  ConstantRng ones(0xff);
  EXPECT_FALSE(Scalar::Random(ones).ok());
  ConstantRng zeros(0x00);
  EXPECT_FALSE(Scalar::Random(zeros).ok());
}

TEST(P256Test, PointEncodings) {
  Point g = Point::Generator();
  EXPECT_EQ(HexEncode(g.ToUncompressed()), kGenerator);
  Result<Point> parsed = Point::FromBytes(H(kGenerator));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->ToUncompressed(), g.ToUncompressed());
  // Compressed form: the generator's y is odd.
  Result<Point> compressed = Point::FromBytes(
      H("036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"));
  ASSERT_TRUE(compressed.ok());
  EXPECT_EQ(compressed->ToUncompressed(), g.ToUncompressed());
}

TEST(P256Test, InvalidPointsAreRejected) {
  Bytes g = H(kGenerator);
  Bytes off = g;
  off[64] ^= 1;
  EXPECT_EQ(Point::FromBytes(off).status().code(), Code::kInvalidArgument);
  Bytes prefix = g;
  prefix[0] = 0x05;
  EXPECT_EQ(Point::FromBytes(prefix).status().code(), Code::kInvalidArgument);
  Bytes hybrid = g;
  hybrid[0] = 0x07;  // valid hybrid encoding of G in SEC1, refused here
  EXPECT_EQ(Point::FromBytes(hybrid).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Point::FromBytes(Bytes{0x00}).status().code(),
            Code::kInvalidArgument);
  Bytes zeros(65, 0);
  zeros[0] = 0x04;
  EXPECT_EQ(Point::FromBytes(zeros).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Point::FromBytes(Bytes(g.begin(), g.end() - 1)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Point::FromBytes({}).status().code(), Code::kInvalidArgument);
  // x = p (not reduced) is not a valid coordinate.
  Bytes big(65, 0xff);
  big[0] = 0x04;
  EXPECT_EQ(Point::FromBytes(big).status().code(), Code::kInvalidArgument);
}

TEST(P256Test, GroupLaws) {
  Point g = Point::Generator();
  EXPECT_EQ(HexEncode(g.Mul(S(2))->ToUncompressed()), kTwoG);
  EXPECT_EQ(HexEncode(g.Add(g)->ToUncompressed()), kTwoG);
  Point two_g = Point::FromBytes(H(kTwoG)).value();
  EXPECT_EQ(two_g.Sub(g)->ToUncompressed(), g.ToUncompressed());
  Result<Point> zero = g.Sub(g);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->IsIdentity());
  EXPECT_EQ(zero->ToUncompressed(), Bytes{0x00});
  EXPECT_TRUE(g.Mul(S(0))->IsIdentity());
  // (n-1) * G = -G, so G + (n-1)G is the identity.
  Bytes n_minus_1 = H(kOrder);
  n_minus_1[31] -= 1;
  Point neg_g = g.Mul(Scalar::FromBytes(n_minus_1).value()).value();
  EXPECT_TRUE(g.Add(neg_g)->IsIdentity());
}

TEST(P256Test, MulAddGeneratorMatchesSeparateSteps) {
  Scalar a = Scalar::Random(SystemRng()).value();
  Scalar b = Scalar::Random(SystemRng()).value();
  Point p = Point::Generator().Mul(Scalar::Random(SystemRng()).value()).value();
  Point expected = Point::Generator().Mul(a)->Add(p.Mul(b).value()).value();
  EXPECT_EQ(p.MulAddGenerator(a, b)->ToUncompressed(),
            expected.ToUncompressed());
}

TEST(P256Test, CopiesAreIndependent) {
  Scalar a = S(3);
  Scalar b = a;
  b = S(4);
  EXPECT_EQ(a.ToBytes(), S(3).ToBytes());
  Point g = Point::Generator();
  Point c = g;
  c = g.Mul(S(2)).value();
  EXPECT_EQ(HexEncode(g.ToUncompressed()), kGenerator);
  EXPECT_EQ(HexEncode(c.ToUncompressed()), kTwoG);
}

}  // namespace
}  // namespace warden::crypto::p256
