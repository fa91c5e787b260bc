// Issuing and verifying certificates: the device CA, device identities and
// owner client certificates.
#include "crypto/x509.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "base/bytes.h"
#include "base/clock.h"
#include "crypto/hash.h"

namespace warden::crypto {
namespace {

using std::chrono::hours;

const WallTime kStart = FromUnixSeconds(1700000000);  // 2023-11-14
const WallTime kEnd = FromUnixSeconds(2000000000);    // 2033-05-18

struct Ca {
  PrivateKey key;
  Certificate cert;
};

Ca MakeCa(KeyType type, const std::string& name) {
  PrivateKey key = PrivateKey::Generate(type).value();
  CertificateRequest req{.common_name = name,
                         .organization = "Example Maker",
                         .subject_key = key.public_key(),
                         .not_before = kStart,
                         .not_after = kEnd,
                         .is_ca = true};
  Result<Certificate> cert = IssueCertificate(req, key, nullptr);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return Ca{std::move(key), std::move(cert).value()};
}

CertificateRequest LeafRequest(const PublicKey& key) {
  CertificateRequest req{.common_name = "thermostat",
                         .serial_number = "WX-0001-ABCD",
                         .subject_key = key,
                         .not_before = kStart,
                         .not_after = kEnd,
                         .is_ca = false};
  req.dns_names = {"wx-0001.local", "localhost"};
  req.ip_addresses = {"127.0.0.1", "::1"};
  req.server_auth = true;
  return req;
}

class X509ChainTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(X509ChainTest, IssueAndVerifyChain) {
  Ca ca = MakeCa(GetParam(), "Example Device CA");
  EXPECT_TRUE(ca.cert.is_ca());
  EXPECT_EQ(ca.cert.subject_common_name(), "Example Device CA");
  EXPECT_FALSE(ca.cert.subject_serial_number().has_value());
  EXPECT_TRUE(ca.cert.public_key() == ca.key.public_key());
  // A self-signed anchor verifies against itself.
  EXPECT_TRUE(VerifyCertificate(ca.cert, ca.cert, kStart + hours(1)).ok());

  PrivateKey device = PrivateKey::Generate(KeyType::kEcdsaP256).value();
  Result<Certificate> leaf =
      IssueCertificate(LeafRequest(device.public_key()), ca.key, &ca.cert);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  EXPECT_FALSE(leaf->is_ca());
  EXPECT_EQ(leaf->subject_common_name(), "thermostat");
  EXPECT_EQ(leaf->subject_serial_number().value_or(""), "WX-0001-ABCD");
  EXPECT_EQ(leaf->not_before(), kStart);
  EXPECT_EQ(leaf->not_after(), kEnd);
  EXPECT_TRUE(leaf->public_key() == device.public_key());
  EXPECT_EQ(leaf->Fingerprint(), HexEncode(Sha256(leaf->ToDer())));

  Status ok = VerifyCertificate(*leaf, ca.cert, kStart + hours(24));
  EXPECT_TRUE(ok.ok()) << ok.ToString();
}

TEST_P(X509ChainTest, WrongCaIsRefused) {
  Ca ca = MakeCa(GetParam(), "Example Device CA");
  Ca other = MakeCa(GetParam(), "Another CA");
  PrivateKey device = PrivateKey::Generate(KeyType::kEd25519).value();
  Certificate leaf =
      IssueCertificate(LeafRequest(device.public_key()), ca.key, &ca.cert)
          .value();
  Status s = VerifyCertificate(leaf, other.cert, kStart + hours(1));
  EXPECT_TRUE(s.code() == Code::kBadSignature ||
              s.code() == Code::kUnauthenticated)
      << s.ToString();
}

TEST_P(X509ChainTest, ImpostorCaWithSameNameIsRefused) {
  // Same subject name as the real CA, different key: the leaf's signature
  // does not check out.
  Ca ca = MakeCa(GetParam(), "Example Device CA");
  Ca impostor = MakeCa(GetParam(), "Example Device CA");
  PrivateKey device = PrivateKey::Generate(KeyType::kEcdsaP256).value();
  Certificate leaf =
      IssueCertificate(LeafRequest(device.public_key()), ca.key, &ca.cert)
          .value();
  Status s = VerifyCertificate(leaf, impostor.cert, kStart + hours(1));
  EXPECT_TRUE(s.code() == Code::kBadSignature ||
              s.code() == Code::kUnauthenticated)
      << s.ToString();
}

TEST_P(X509ChainTest, OutsideValidityIsExpired) {
  Ca ca = MakeCa(GetParam(), "Example Device CA");
  PrivateKey device = PrivateKey::Generate(KeyType::kEcdsaP256).value();
  CertificateRequest req = LeafRequest(device.public_key());
  req.not_before = kStart + hours(24 * 30);
  req.not_after = kStart + hours(24 * 60);
  Certificate leaf = IssueCertificate(req, ca.key, &ca.cert).value();
  EXPECT_TRUE(VerifyCertificate(leaf, ca.cert, kStart + hours(24 * 45)).ok());
  EXPECT_EQ(VerifyCertificate(leaf, ca.cert, kStart + hours(24 * 61)).code(),
            Code::kExpired);
  EXPECT_EQ(VerifyCertificate(leaf, ca.cert, kStart + hours(24)).code(),
            Code::kExpired);
  // The CA's own validity counts too.
  EXPECT_EQ(VerifyCertificate(leaf, ca.cert, kEnd + hours(1)).code(),
            Code::kExpired);
}

INSTANTIATE_TEST_SUITE_P(BothKeyTypes, X509ChainTest,
                         ::testing::Values(KeyType::kEd25519,
                                           KeyType::kEcdsaP256),
                         [](const auto& info) {
                           return std::string(KeyTypeName(info.param));
                         });

TEST(X509Test, PemAndDerRoundTrips) {
  Ca ca = MakeCa(KeyType::kEcdsaP256, "Example Device CA");
  std::string pem = ca.cert.ToPem();
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  Result<Certificate> from_pem = Certificate::FromPem(pem);
  ASSERT_TRUE(from_pem.ok());
  EXPECT_EQ(from_pem->ToDer(), ca.cert.ToDer());
  Result<Certificate> from_der = Certificate::FromDer(ca.cert.ToDer());
  ASSERT_TRUE(from_der.ok());
  EXPECT_EQ(from_der->Fingerprint(), ca.cert.Fingerprint());
  EXPECT_TRUE(from_der->is_ca());
}

TEST(X509Test, ParsersRejectGarbage) {
  EXPECT_EQ(Certificate::FromPem("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Certificate::FromPem("nonsense").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Certificate::FromDer(Bytes{0x30, 0x00}).status().code(),
            Code::kInvalidArgument);
  Ca ca = MakeCa(KeyType::kEd25519, "CA");
  Bytes der = ca.cert.ToDer();
  der.push_back(0);
  EXPECT_EQ(Certificate::FromDer(der).status().code(), Code::kInvalidArgument);
  der.pop_back();
  der.pop_back();
  EXPECT_EQ(Certificate::FromDer(der).status().code(), Code::kInvalidArgument);
}

TEST(X509Test, TamperedSignatureIsBadSignature) {
  Ca ca = MakeCa(KeyType::kEcdsaP256, "CA");
  PrivateKey device = PrivateKey::Generate(KeyType::kEd25519).value();
  Certificate leaf =
      IssueCertificate(LeafRequest(device.public_key()), ca.key, &ca.cert)
          .value();
  Bytes der = leaf.ToDer();
  // Flip a bit inside the subject's common name: still parses, no longer
  // matches the signature.
  std::string text(der.begin(), der.end());
  size_t at = text.find("thermostat");
  ASSERT_NE(at, std::string::npos);
  der[at] ^= 0x20;
  Result<Certificate> tampered = Certificate::FromDer(der);
  ASSERT_TRUE(tampered.ok());
  EXPECT_EQ(VerifyCertificate(*tampered, ca.cert, kStart + hours(1)).code(),
            Code::kBadSignature);
}

TEST(X509Test, IssueChecksItsInputs) {
  Ca ca = MakeCa(KeyType::kEcdsaP256, "CA");
  PrivateKey device = PrivateKey::Generate(KeyType::kEcdsaP256).value();
  // Self-signed with someone else's key.
  CertificateRequest req = LeafRequest(device.public_key());
  EXPECT_EQ(IssueCertificate(req, ca.key, nullptr).status().code(),
            Code::kInvalidArgument);
  // Issuer key that does not belong to the issuer certificate.
  EXPECT_EQ(IssueCertificate(req, device, &ca.cert).status().code(),
            Code::kInvalidArgument);
  // Issuer that is not a CA.
  Certificate leaf = IssueCertificate(req, ca.key, &ca.cert).value();
  EXPECT_EQ(IssueCertificate(req, device, &leaf).status().code(),
            Code::kInvalidArgument);
  // Empty validity.
  CertificateRequest empty = req;
  empty.not_after = empty.not_before;
  EXPECT_EQ(IssueCertificate(empty, ca.key, &ca.cert).status().code(),
            Code::kInvalidArgument);
  // A DNS name cannot smuggle in another SAN entry.
  CertificateRequest bad_dns = req;
  bad_dns.dns_names = {"a.example,IP:10.0.0.1"};
  EXPECT_EQ(IssueCertificate(bad_dns, ca.key, &ca.cert).status().code(),
            Code::kInvalidArgument);
  CertificateRequest bad_ip = req;
  bad_ip.ip_addresses = {"300.1.2.3"};
  EXPECT_EQ(IssueCertificate(bad_ip, ca.key, &ca.cert).status().code(),
            Code::kInvalidArgument);
  CertificateRequest no_cn = req;
  no_cn.common_name.clear();
  EXPECT_EQ(IssueCertificate(no_cn, ca.key, &ca.cert).status().code(),
            Code::kInvalidArgument);
}

TEST(X509Test, SerialsAreRandom) {
  Ca ca = MakeCa(KeyType::kEd25519, "CA");
  PrivateKey device = PrivateKey::Generate(KeyType::kEd25519).value();
  Certificate a =
      IssueCertificate(LeafRequest(device.public_key()), ca.key, &ca.cert)
          .value();
  Certificate b =
      IssueCertificate(LeafRequest(device.public_key()), ca.key, &ca.cert)
          .value();
  // Same request, different certificates: only the serial differs.
  EXPECT_NE(a.ToDer(), b.ToDer());
}

TEST(X509Test, DatesBeyond2049) {
  PrivateKey key = PrivateKey::Generate(KeyType::kEd25519).value();
  WallTime far = FromUnixSeconds(4102444800);  // 2100-01-01
  CertificateRequest req{.common_name = "long lived",
                         .subject_key = key.public_key(),
                         .not_before = kStart,
                         .not_after = far,
                         .is_ca = true};
  Result<Certificate> cert = IssueCertificate(req, key, nullptr);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->not_after(), far);
  EXPECT_TRUE(
      VerifyCertificate(*cert, *cert, FromUnixSeconds(4000000000)).ok());
}

}  // namespace
}  // namespace warden::crypto
