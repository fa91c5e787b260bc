// NIST P-256 arithmetic for SPAKE2+: scalars mod the group order n and
// points. Every point read from outside is checked to be on the curve and
// not the identity.
#ifndef WARDEN_CRYPTO_EC_H_
#define WARDEN_CRYPTO_EC_H_

#include <memory>

#include "base/bytes.h"
#include "base/rng.h"
#include "base/status.h"

namespace warden::crypto::p256 {

inline constexpr size_t kScalarSize = 32;
inline constexpr size_t kPointSize = 65;  // uncompressed SEC1

class Scalar {
 public:
  // 32-byte big-endian; must be < n, else kInvalidArgument.
  static Result<Scalar> FromBytes(ByteView be32);
  // Any length big-endian value reduced mod n (for w0s, w1s of RFC 9383).
  static Result<Scalar> FromBytesReduced(ByteView be);
  // Uniform in [1, n-1].
  static Result<Scalar> Random(Rng& rng);

  Bytes ToBytes() const;  // 32-byte big-endian
  bool IsZero() const;
  ~Scalar();
  Scalar(Scalar&&) noexcept;
  Scalar& operator=(Scalar&&) noexcept;
  Scalar(const Scalar&);
  Scalar& operator=(const Scalar&);

  struct Impl;

 private:
  explicit Scalar(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class Point;
};

class Point {
 public:
  // Uncompressed (65 bytes) or compressed (33 bytes) SEC1. Off-curve points,
  // the identity and malformed encodings are kInvalidArgument.
  static Result<Point> FromBytes(ByteView sec1);
  static Point Generator();

  // 65 bytes. The identity, which only a zero scalar can produce, has no
  // such form and comes out as the single byte 0x00.
  Bytes ToUncompressed() const;
  bool IsIdentity() const;

  // k * this. The result may be the identity only when k is zero.
  Result<Point> Mul(const Scalar& k) const;
  // a * G + b * this  (fast path for SPAKE2+ shares).
  Result<Point> MulAddGenerator(const Scalar& g_scalar,
                                const Scalar& this_scalar) const;
  Result<Point> Add(const Point& other) const;
  Result<Point> Sub(const Point& other) const;

  ~Point();
  Point(Point&&) noexcept;
  Point& operator=(Point&&) noexcept;
  Point(const Point&);
  Point& operator=(const Point&);

  struct Impl;

 private:
  explicit Point(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::crypto::p256

#endif  // WARDEN_CRYPTO_EC_H_
