#include "data/receipt.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace warden::data {
namespace {

crypto::Certificate SelfSigned(const crypto::PrivateKey& key,
                               const std::string& serial) {
  const WallTime now = std::chrono::system_clock::now();
  crypto::CertificateRequest req{.common_name = serial,
                                 .serial_number = serial,
                                 .subject_key = key.public_key(),
                                 .not_before = now,
                                 .not_after = now + std::chrono::hours(24)};
  req.server_auth = true;
  return *crypto::IssueCertificate(req, key, nullptr);
}

class ReceiptTest : public ::testing::Test {
 protected:
  DeletionResult Deletion() const {
    DeletionResult d;
    d.kinds = {{"schedule", 12}, {"temperature_history", 3000}};
    d.keys_destroyed = 2;
    d.requested_by = "device button";
    d.started_at = 1764590000;
    d.completed_at = 1764590002;
    return d;
  }
  crypto::PrivateKey key_ =
      *crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  crypto::Certificate cert_ = SelfSigned(key_, "SN-1");
  crypto::PrivateKey other_key_ =
      *crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  crypto::Certificate other_cert_ = SelfSigned(other_key_, "SN-2");
};

TEST_F(ReceiptTest, AReceiptVerifiesWithTheDevicesCertificateAndSaysWhat) {
  auto text = MakeReceipt(Deletion(), "SN-1", cert_, key_);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto r = VerifyReceipt(*text, cert_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->serial, "SN-1");
  EXPECT_EQ(r->deletion.kinds, Deletion().kinds);
  EXPECT_EQ(r->deletion.requested_by, "device button");
  EXPECT_EQ(r->deletion.completed_at, 1764590002);
  // Spacing and key order in the file do not matter.
  auto doc = nlohmann::json::parse(*text);
  EXPECT_TRUE(VerifyReceipt(doc.dump(), cert_).ok());
}

TEST_F(ReceiptTest, AnAlteredReceiptOrAnotherDevicesDoesNotVerify) {
  auto text = MakeReceipt(Deletion(), "SN-1", cert_, key_);
  ASSERT_TRUE(text.ok());
  auto doc = nlohmann::json::parse(*text);
  // Fewer records than were deleted.
  auto fewer = doc;
  fewer["receipt"]["kinds"][1]["records"] = 30;
  EXPECT_EQ(VerifyReceipt(fewer.dump(), cert_).status().code(),
            Code::kBadSignature);
  auto later = doc;
  later["receipt"]["completed_at"] = 1764590999;
  EXPECT_EQ(VerifyReceipt(later.dump(), cert_).status().code(),
            Code::kBadSignature);
  // Checked against another device's certificate.
  EXPECT_EQ(VerifyReceipt(*text, other_cert_).status().code(),
            Code::kBadSignature);
  // Signed by another key, naming this device's certificate.
  auto forged = MakeReceipt(Deletion(), "SN-1", cert_, other_key_);
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(VerifyReceipt(*forged, cert_).status().code(), Code::kBadSignature);
}

TEST_F(ReceiptTest, ATransferReceiptSaysTheDeviceWasUnpairedUnderItsSignature) {
  DeletionResult transfer = Deletion();
  transfer.unpaired = true;
  auto text = MakeReceipt(transfer, "SN-1", cert_, key_);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto r = VerifyReceipt(*text, cert_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->deletion.unpaired);
  auto doc = nlohmann::json::parse(*text);
  ASSERT_EQ(doc["receipt"]["unpaired"], true);
  // Taking the statement out, or adding it to a plain deletion's receipt,
  // breaks the signature.
  auto dropped = doc;
  dropped["receipt"].erase("unpaired");
  EXPECT_EQ(VerifyReceipt(dropped.dump(), cert_).status().code(),
            Code::kBadSignature);
  auto plain = MakeReceipt(Deletion(), "SN-1", cert_, key_);
  ASSERT_TRUE(plain.ok());
  auto added = nlohmann::json::parse(*plain);
  added["receipt"]["unpaired"] = true;
  EXPECT_EQ(VerifyReceipt(added.dump(), cert_).status().code(),
            Code::kBadSignature);
  // Only true means anything.
  auto other = doc;
  other["receipt"]["unpaired"] = false;
  EXPECT_EQ(ParseReceipt(other.dump()).status().code(), Code::kInvalidArgument);
}

TEST_F(ReceiptTest, AReceiptWithoutTheUnpairedFieldStillVerifies) {
  // A receipt as devices signed them before the field existed: exactly the
  // seven fields, signed over those.
  auto plain = MakeReceipt(Deletion(), "SN-1", cert_, key_);
  ASSERT_TRUE(plain.ok());
  auto doc = nlohmann::json::parse(*plain);
  ASSERT_FALSE(doc["receipt"].contains("unpaired"));
  ASSERT_EQ(doc["receipt"].size(), 7u);
  auto r = VerifyReceipt(*plain, cert_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->deletion.unpaired);
}

TEST_F(ReceiptTest, APinnedFingerprintNamesTheOnlyDeviceThatCanSign) {
  auto text = MakeReceipt(Deletion(), "SN-1", cert_, key_);
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(VerifyReceiptPinned(*text, cert_.Fingerprint()).ok());
  EXPECT_EQ(
      VerifyReceiptPinned(*text, other_cert_.Fingerprint()).status().code(),
      Code::kBadSignature);
  // Another device's receipt, signed by it, does not pass for this one.
  auto other = MakeReceipt(Deletion(), "SN-2", other_cert_, other_key_);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(VerifyReceiptPinned(*other, cert_.Fingerprint()).status().code(),
            Code::kBadSignature);
}

TEST_F(ReceiptTest, MalformedReceiptsAreRefusedBeforeAnyCheck) {
  auto text = MakeReceipt(Deletion(), "SN-1", cert_, key_);
  ASSERT_TRUE(text.ok());
  auto doc = nlohmann::json::parse(*text);
  auto extra = doc;
  extra["receipt"]["note"] = "all fine";
  auto no_sig = doc;
  no_sig.erase("signature");
  auto negative = doc;
  negative["receipt"]["kinds"][0]["records"] = -1;
  auto format = doc;
  format["receipt"]["format"] = "warden-deletion-receipt/2";
  for (const std::string& bad :
       {std::string("not json"), std::string("[]"), extra.dump(), no_sig.dump(),
        negative.dump(), format.dump(),
        std::string(kMaxReceiptSize + 1, ' ')}) {
    EXPECT_EQ(ParseReceipt(bad).status().code(), Code::kInvalidArgument)
        << bad.substr(0, 80);
  }
}

}  // namespace
}  // namespace warden::data
