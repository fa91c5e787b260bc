#include "crypto/ec.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "crypto/ossl.h"
#include "crypto/secret.h"

namespace warden::crypto::p256 {
namespace {

using internal::BnCtxPtr;
using internal::BnPtr;
using internal::CheckOrAbort;
using internal::EcPointPtr;

// The curve is immutable once built and only read afterwards, so one
// instance serves every thread for the life of the process.
const EC_GROUP* Group() {
  static const EC_GROUP* const group = [] {
    EC_GROUP* g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    CheckOrAbort(g != nullptr);
    return g;
  }();
  return group;
}

const BIGNUM* Order() { return EC_GROUP_get0_order(Group()); }

BnCtxPtr NewCtx() {
  BnCtxPtr ctx(BN_CTX_secure_new());
  CheckOrAbort(ctx != nullptr);
  return ctx;
}

BnPtr NewSecretBn() {
  BnPtr bn(BN_secure_new());
  CheckOrAbort(bn != nullptr);
  // Scalars here are secrets (w0, w1, ephemeral x and y).
  BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  return bn;
}

EcPointPtr NewPoint() {
  EcPointPtr p(EC_POINT_new(Group()));
  CheckOrAbort(p != nullptr);
  return p;
}

}  // namespace

struct Scalar::Impl {
  BnPtr bn;
};

struct Point::Impl {
  EcPointPtr point;
};

Scalar::Scalar(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scalar::~Scalar() = default;
Scalar::Scalar(Scalar&&) noexcept = default;
Scalar& Scalar::operator=(Scalar&&) noexcept = default;

Scalar::Scalar(const Scalar& o) : impl_(std::make_unique<Impl>()) {
  impl_->bn = NewSecretBn();
  CheckOrAbort(BN_copy(impl_->bn.get(), o.impl_->bn.get()) != nullptr);
}

Scalar& Scalar::operator=(const Scalar& o) {
  if (this != &o) *this = Scalar(o);
  return *this;
}

Result<Scalar> Scalar::FromBytes(ByteView be32) {
  if (be32.size() != kScalarSize) {
    return InvalidArgumentError("p256: scalar must be 32 bytes");
  }
  BnPtr bn = NewSecretBn();
  CheckOrAbort(BN_bin2bn(be32.data(), static_cast<int>(be32.size()),
                         bn.get()) != nullptr);
  if (BN_cmp(bn.get(), Order()) >= 0) {
    return InvalidArgumentError("p256: scalar not below the group order");
  }
  auto impl = std::make_unique<Impl>();
  impl->bn = std::move(bn);
  return Scalar(std::move(impl));
}

Result<Scalar> Scalar::FromBytesReduced(ByteView be) {
  // Inputs are PBKDF outputs of a few dozen bytes; the cap only keeps a
  // misuse from allocating without bound.
  if (be.size() > 1024) {
    return InvalidArgumentError("p256: value to reduce is too long");
  }
  BnPtr wide = NewSecretBn();
  CheckOrAbort(BN_bin2bn(be.data(), static_cast<int>(be.size()), wide.get()) !=
               nullptr);
  BnPtr bn = NewSecretBn();
  BnCtxPtr ctx = NewCtx();
  CheckOrAbort(BN_nnmod(bn.get(), wide.get(), Order(), ctx.get()) == 1);
  auto impl = std::make_unique<Impl>();
  impl->bn = std::move(bn);
  return Scalar(std::move(impl));
}

Result<Scalar> Scalar::Random(Rng& rng) {
  // Rejection sampling: n is just below 2^256, so a draw is refused with
  // probability about 2^-32 and the loop bound is never reached by a working
  // source.
  uint8_t buf[kScalarSize];
  for (int attempt = 0; attempt < 64; ++attempt) {
    Status s = rng.Fill(buf);
    if (!s.ok()) {
      Wipe(buf, sizeof(buf));
      return s;
    }
    Result<Scalar> k = FromBytes(ByteView(buf, sizeof(buf)));
    Wipe(buf, sizeof(buf));
    if (k.ok() && !k->IsZero()) return k;
  }
  return InternalError("p256: random source keeps returning invalid scalars");
}

Bytes Scalar::ToBytes() const {
  Bytes out(kScalarSize);
  CheckOrAbort(
      BN_bn2binpad(impl_->bn.get(), out.data(), static_cast<int>(out.size())) ==
      static_cast<int>(kScalarSize));
  return out;
}

bool Scalar::IsZero() const { return BN_is_zero(impl_->bn.get()); }

Point::Point(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Point::~Point() = default;
Point::Point(Point&&) noexcept = default;
Point& Point::operator=(Point&&) noexcept = default;

Point::Point(const Point& o) : impl_(std::make_unique<Impl>()) {
  impl_->point = NewPoint();
  CheckOrAbort(EC_POINT_copy(impl_->point.get(), o.impl_->point.get()) == 1);
}

Point& Point::operator=(const Point& o) {
  if (this != &o) *this = Point(o);
  return *this;
}

Result<Point> Point::FromBytes(ByteView sec1) {
  // Only the two plain SEC1 forms. OpenSSL would also take the single byte
  // 0x00 (the identity) and the hybrid forms 0x06/0x07; none of them is a
  // valid share.
  const bool uncompressed = sec1.size() == kPointSize && sec1[0] == 0x04;
  const bool compressed =
      sec1.size() == 33 && (sec1[0] == 0x02 || sec1[0] == 0x03);
  if (!uncompressed && !compressed) {
    return InvalidArgumentError("p256: malformed point encoding");
  }
  EcPointPtr p = NewPoint();
  BnCtxPtr ctx = NewCtx();
  // oct2point checks that the point is on the curve; P-256 has cofactor 1,
  // so that also puts it in the prime-order group.
  if (EC_POINT_oct2point(Group(), p.get(), sec1.data(), sec1.size(),
                         ctx.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("p256: point is not on the curve");
  }
  if (EC_POINT_is_at_infinity(Group(), p.get()) ||
      EC_POINT_is_on_curve(Group(), p.get(), ctx.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("p256: invalid point");
  }
  auto impl = std::make_unique<Impl>();
  impl->point = std::move(p);
  return Point(std::move(impl));
}

Point Point::Generator() {
  auto impl = std::make_unique<Impl>();
  impl->point = NewPoint();
  CheckOrAbort(
      EC_POINT_copy(impl->point.get(), EC_GROUP_get0_generator(Group())) == 1);
  return Point(std::move(impl));
}

Bytes Point::ToUncompressed() const {
  if (IsIdentity()) return Bytes{0x00};
  Bytes out(kPointSize);
  BnCtxPtr ctx = NewCtx();
  CheckOrAbort(EC_POINT_point2oct(Group(), impl_->point.get(),
                                  POINT_CONVERSION_UNCOMPRESSED, out.data(),
                                  out.size(), ctx.get()) == kPointSize);
  return out;
}

bool Point::IsIdentity() const {
  return EC_POINT_is_at_infinity(Group(), impl_->point.get()) == 1;
}

Result<Point> Point::Mul(const Scalar& k) const {
  EcPointPtr r = NewPoint();
  BnCtxPtr ctx = NewCtx();
  // One point and no generator term: OpenSSL uses its constant-time
  // Montgomery ladder for this shape.
  if (EC_POINT_mul(Group(), r.get(), nullptr, impl_->point.get(),
                   k.impl_->bn.get(), ctx.get()) != 1) {
    return InternalError(internal::TakeOpenSslError("p256: multiply"));
  }
  auto impl = std::make_unique<Impl>();
  impl->point = std::move(r);
  return Point(std::move(impl));
}

Result<Point> Point::MulAddGenerator(const Scalar& g_scalar,
                                     const Scalar& this_scalar) const {
  // Two single multiplications rather than one combined call: OpenSSL's
  // combined form may use variable-time wNAF, and both scalars are secret.
  EcPointPtr g = NewPoint();
  BnCtxPtr ctx = NewCtx();
  if (EC_POINT_mul(Group(), g.get(), g_scalar.impl_->bn.get(), nullptr, nullptr,
                   ctx.get()) != 1) {
    return InternalError(internal::TakeOpenSslError("p256: multiply"));
  }
  WARDEN_ASSIGN_OR_RETURN(Point t, Mul(this_scalar));
  if (EC_POINT_add(Group(), g.get(), g.get(), t.impl_->point.get(),
                   ctx.get()) != 1) {
    return InternalError(internal::TakeOpenSslError("p256: add"));
  }
  auto impl = std::make_unique<Impl>();
  impl->point = std::move(g);
  return Point(std::move(impl));
}

Result<Point> Point::Add(const Point& other) const {
  EcPointPtr r = NewPoint();
  BnCtxPtr ctx = NewCtx();
  if (EC_POINT_add(Group(), r.get(), impl_->point.get(),
                   other.impl_->point.get(), ctx.get()) != 1) {
    return InternalError(internal::TakeOpenSslError("p256: add"));
  }
  auto impl = std::make_unique<Impl>();
  impl->point = std::move(r);
  return Point(std::move(impl));
}

Result<Point> Point::Sub(const Point& other) const {
  Point neg(other);
  BnCtxPtr ctx = NewCtx();
  if (EC_POINT_invert(Group(), neg.impl_->point.get(), ctx.get()) != 1) {
    return InternalError(internal::TakeOpenSslError("p256: invert"));
  }
  return Add(neg);
}

}  // namespace warden::crypto::p256
