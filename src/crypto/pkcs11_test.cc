// Keys in a PKCS#11 token, against a real SoftHSM token each test makes in
// a directory of its own with the token's own tools (softhsm2-util and
// OpenSC's pkcs11-tool, as a maker would).
#include "crypto/pkcs11.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "crypto/testing/softhsm.h"

namespace warden::crypto {
namespace {

namespace fs = std::filesystem;

constexpr const char* kModule = testing::SoftHsmToken::kModule;
constexpr char kToken[] = "release-keys";
constexpr const char* kPin = testing::SoftHsmToken::kPin;

class Pkcs11TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-pkcs11-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto token = testing::SoftHsmToken::Make(dir_, kToken);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    token_.emplace(std::move(*token));
    Must(token_->GenerateKeyPair("EC:prime256v1", "targets", "01"));
    Must(token_->GenerateKeyPair("EC:secp384r1", "p384", "02"));
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static void Must(const Status& st) { ASSERT_TRUE(st.ok()) << st.ToString(); }

  // The public key as the token itself exports it (SubjectPublicKeyInfo).
  Bytes TokenPublicKey(const std::string& label) {
    const std::string out = dir_ + "/" + label + ".der";
    Must(token_->Run(std::string("pkcs11-tool --module ") + kModule +
                     " --token-label " + kToken +
                     " --read-object --type pubkey --label " + label + " -o " +
                     out));
    std::string der = Slurp(out);
    return Bytes(der.begin(), der.end());
  }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string dir_;
  std::optional<testing::SoftHsmToken> token_;
};

TEST_F(Pkcs11TokenTest, SignsWithAKeyThatNeverLeavesTheToken) {
  auto token = Pkcs11Token::Open(kModule, kToken, kPin);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->label(), kToken);
  auto key = token->PrivateKeyByLabel("targets");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_FALSE(key->exportable());
  EXPECT_EQ(key->type(), KeyType::kEcdsaP256);

  // The public half is the token's own key, as its tool exports it.
  auto exported = PublicKey::FromDer(TokenPublicKey("targets"));
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(key->public_key(), *exported);

  const std::string text = "root.json, version 7";
  const ByteView message = AsBytes(text);
  auto signature = key->Sign(message);
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_TRUE(exported->Verify(message, *signature).ok());
  EXPECT_EQ(
      exported->Verify(AsBytes("root.json, version 8"), *signature).code(),
      Code::kBadSignature);
}

TEST_F(Pkcs11TokenTest, AKeyKeepsItsSessionAfterTheTokenObjectIsGone) {
  std::optional<PrivateKey> key;
  {
    auto token = Pkcs11Token::Open(kModule, kToken, kPin);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    auto found = token->PrivateKeyByLabel("targets");
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    key = std::move(found).value();
  }
  const std::string text = "snapshot";
  const ByteView message = AsBytes(text);
  auto signature = key->Sign(message);
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_TRUE(key->public_key().Verify(message, *signature).ok());
}

TEST_F(Pkcs11TokenTest, ListsTheTokensPrivateKeys) {
  auto token = Pkcs11Token::Open(kModule, kToken, kPin);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto labels = token->PrivateKeyLabels();
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(labels->size(), 2u);
  EXPECT_NE(std::find(labels->begin(), labels->end(), "targets"),
            labels->end());
  EXPECT_NE(std::find(labels->begin(), labels->end(), "p384"), labels->end());
}

TEST_F(Pkcs11TokenTest, AWrongPinIsRefused) {
  auto token = Pkcs11Token::Open(kModule, kToken, "135792");
  EXPECT_EQ(token.status().code(), Code::kUnauthenticated);
  // The right PIN still works: one failure does not lock the token.
  EXPECT_TRUE(Pkcs11Token::Open(kModule, kToken, kPin).ok());
}

TEST_F(Pkcs11TokenTest, MissingModuleTokenOrKeyIsNotFound) {
  EXPECT_EQ(Pkcs11Token::Open(dir_ + "/no-such-module.so", kToken, kPin)
                .status()
                .code(),
            Code::kNotFound);
  EXPECT_EQ(Pkcs11Token::Open(kModule, "no-such-token", kPin).status().code(),
            Code::kNotFound);
  EXPECT_EQ(Pkcs11Token::Open(kModule, "", kPin).status().code(),
            Code::kInvalidArgument);
  auto token = Pkcs11Token::Open(kModule, kToken, kPin);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->PrivateKeyByLabel("no-such-key").status().code(),
            Code::kNotFound);
}

TEST_F(Pkcs11TokenTest, OnlyP256KeysAreOffered) {
  auto token = Pkcs11Token::Open(kModule, kToken, kPin);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->PrivateKeyByLabel("p384").status().code(),
            Code::kInvalidArgument);
}

TEST_F(Pkcs11TokenTest, AFileThatIsNotAModuleIsUnavailable) {
  const std::string fake = dir_ + "/fake.so";
  std::ofstream(fake) << "not a shared object";
  EXPECT_EQ(Pkcs11Token::Open(fake, kToken, kPin).status().code(),
            Code::kUnavailable);
}

}  // namespace
}  // namespace warden::crypto
