#include "tuf/metadata.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "tuf/canonical_json.h"
#include "tuf/testing/repository.h"

namespace warden::tuf {
namespace {

Json J(std::string_view text) {
  Result<Json> r = schema::ParseJson(text, {});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Json();
}

TEST(CanonicalJsonTest, SortsKeysDropsWhitespaceEscapesOnlyQuoteAndBackslash) {
  Json j = J(R"({"b": [1, -2, true, null], "a": "x\"y\\z\n\u00e9", "c": {}})");
  Result<std::string> c = EncodeCanonical(j);
  ASSERT_TRUE(c.ok());
  // securesystemslib.formats.encode_canonical gives exactly these bytes:
  // the newline and the e-acute go out raw.
  EXPECT_EQ(
      *c, "{\"a\":\"x\\\"y\\\\z\n\xc3\xa9\",\"b\":[1,-2,true,null],\"c\":{}}");
}

TEST(CanonicalJsonTest, RefusesFloats) {
  EXPECT_FALSE(EncodeCanonical(J(R"({"a": 1.5})")).ok());
  EXPECT_TRUE(EncodeCanonical(J(R"({"a": 18446744073709551615})")).ok());
}

TEST(CanonicalJsonTest, KeyIdIsSha256OfCanonicalKey) {
  // The key ID python-tuf computes for this ed25519 key.
  Key k;
  k.keytype = "ed25519";
  k.scheme = "ed25519";
  k.public_value =
      "4f66dabebcf30628963786001984c0b75c175cdcf3bc4855933a2628f0cd0a0f";
  Result<std::string> c = EncodeCanonical(k.ToJson());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c,
            "{\"keytype\":\"ed25519\",\"keyval\":{\"public\":"
            "\"4f66dabebcf30628963786001984c0b75c175cdcf3bc4855933a2628f0cd0a0f"
            "\"},\"scheme\":\"ed25519\"}");
  EXPECT_EQ(k.Id(), HexEncode(crypto::Sha256(AsBytes(*c))));
}

class MetadataTest : public ::testing::Test {
 protected:
  WallTime now_ = WallTime(std::chrono::hours(24 * 365 * 56));
  testing::Repository repo_{now_};
};

TEST_F(MetadataTest, RoundTripsAndVerifiesEachRole) {
  Result<Metadata<Root>> root =
      Parse<Root>(repo_.files["metadata/1.root.json"]);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(root->signed_.version, 1u);
  EXPECT_EQ(root->signed_.roles.size(), 4u);
  EXPECT_TRUE(VerifyThreshold(root->signed_json, root->signatures,
                              root->signed_.keys, root->signed_.roles["root"],
                              "root")
                  .ok());
  Result<std::string> again = Serialize(*root);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, repo_.files["metadata/1.root.json"]);
  EXPECT_TRUE(Parse<Timestamp>(repo_.files["metadata/timestamp.json"]).ok());
  EXPECT_TRUE(Parse<Snapshot>(repo_.files["metadata/snapshot.json"]).ok());
  EXPECT_TRUE(Parse<Targets>(repo_.files["metadata/targets.json"]).ok());
}

TEST_F(MetadataTest, SizeLimitIsCheckedBeforeParsing) {
  ParseLimits limits;
  limits.max_bytes = 100;
  // Not even JSON: the size is refused first.
  Result<Metadata<Root>> r = Parse<Root>(std::string(101, '['), limits);
  EXPECT_EQ(ErrorOf(r.status()), Error::kTooLarge);
}

TEST_F(MetadataTest, WrongTypeAndSchemaViolationsHaveTheirCodes) {
  EXPECT_EQ(
      ErrorOf(Parse<Root>(repo_.files["metadata/timestamp.json"]).status()),
      Error::kWrongType);
  EXPECT_EQ(ErrorOf(Parse<Root>("{").status()), Error::kMalformed);
  Json j = J(repo_.files["metadata/1.root.json"]);
  j["signed"]["version"] = "1";
  EXPECT_EQ(ErrorOf(Parse<Root>(j.dump()).status()), Error::kMalformed);
  j["signed"]["version"] = 1.0;
  EXPECT_EQ(ErrorOf(Parse<Root>(j.dump()).status()), Error::kMalformed);
  j["signed"]["version"] = 0;
  EXPECT_EQ(ErrorOf(Parse<Root>(j.dump()).status()), Error::kMalformed);
  j["signed"]["version"] = 1;
  j["signed"]["spec_version"] = "2.0.0";
  EXPECT_EQ(ErrorOf(Parse<Root>(j.dump()).status()), Error::kMalformed);
  j["signed"]["spec_version"] = "1.0.31";
  j["signed"]["roles"].erase("snapshot");
  EXPECT_EQ(ErrorOf(Parse<Root>(j.dump()).status()), Error::kMalformed);
}

TEST_F(MetadataTest, DuplicateSignaturesAreRefused) {
  Json j = J(repo_.files["metadata/1.root.json"]);
  j["signatures"].push_back(j["signatures"][0]);
  EXPECT_EQ(ErrorOf(Parse<Root>(j.dump()).status()), Error::kMalformed);
}

TEST_F(MetadataTest, UnrecognisedFieldsAreSignedAsTheyCame) {
  Json j = ToJson(repo_.root);
  j["x-extra"] = {{"b", 1}, {"a", "two"}};
  std::vector<Signature> sigs;
  const testing::Signer& s = repo_.signers["root"][0];
  ASSERT_TRUE(Sign(j, sigs, s.key, s.keyid).ok());
  Result<std::string> bytes = Serialize(j, sigs);
  ASSERT_TRUE(bytes.ok());
  Result<Metadata<Root>> root = Parse<Root>(*bytes);
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(VerifyThreshold(root->signed_json, root->signatures,
                              root->signed_.keys, root->signed_.roles["root"],
                              "root")
                  .ok());
}

TEST_F(MetadataTest, ThresholdCountsDistinctKeysOnly) {
  Root& root = repo_.root;
  root.roles["root"].threshold = 2;
  const testing::Signer s = repo_.signers["root"][0];
  Json j = ToJson(root);
  std::vector<Signature> sigs;
  ASSERT_TRUE(Sign(j, sigs, s.key, s.keyid).ok());
  // The same key's signature twice (Parse refuses this; the check must not
  // count it twice either).
  sigs.push_back(sigs[0]);
  Status st = VerifyThreshold(j, sigs, root.keys, root.roles["root"], "root");
  EXPECT_EQ(ErrorOf(st), Error::kThreshold);
  // A signature by a key the role does not list does not count.
  testing::Signer outsider = testing::NewSigner();
  root.keys[outsider.keyid] = outsider.public_key;
  j = ToJson(root);
  sigs.clear();
  ASSERT_TRUE(Sign(j, sigs, s.key, s.keyid).ok());
  ASSERT_TRUE(Sign(j, sigs, outsider.key, outsider.keyid).ok());
  EXPECT_EQ(
      ErrorOf(VerifyThreshold(j, sigs, root.keys, root.roles["root"], "root")),
      Error::kThreshold);
  // A second, different key listed by the role meets it.
  testing::Signer other = testing::NewSigner(crypto::KeyType::kEcdsaP256);
  root.keys[other.keyid] = other.public_key;
  root.roles["root"].keyids.push_back(other.keyid);
  j = ToJson(root);
  sigs.clear();
  ASSERT_TRUE(Sign(j, sigs, s.key, s.keyid).ok());
  ASSERT_TRUE(Sign(j, sigs, other.key, other.keyid).ok());
  EXPECT_TRUE(
      VerifyThreshold(j, sigs, root.keys, root.roles["root"], "root").ok());
}

TEST_F(MetadataTest, EcdsaKeysVerifyAndTamperingIsCaught) {
  testing::Signer s = testing::NewSigner(crypto::KeyType::kEcdsaP256);
  repo_.root.keys[s.keyid] = s.public_key;
  repo_.root.roles["root"] = RoleKeys{{s.keyid}, 1};
  Json j = ToJson(repo_.root);
  std::vector<Signature> sigs;
  ASSERT_TRUE(Sign(j, sigs, s.key, s.keyid).ok());
  Result<std::string> bytes = Serialize(j, sigs);
  ASSERT_TRUE(bytes.ok());
  Result<Metadata<Root>> root = Parse<Root>(*bytes);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  const RoleKeys& rk = root->signed_.roles["root"];
  EXPECT_TRUE(VerifyThreshold(root->signed_json, root->signatures,
                              root->signed_.keys, rk, "root")
                  .ok());
  root->signed_json["version"] = 2;
  EXPECT_EQ(ErrorOf(VerifyThreshold(root->signed_json, root->signatures,
                                    root->signed_.keys, rk, "root")),
            Error::kThreshold);
}

TEST(DelegatedRoleTest, PathPatternsMatchSegmentBySegment) {
  DelegatedRole r;
  r.paths = std::vector<std::string>{"files/*.txt", "bin/?x", "lib/[a-c]*"};
  EXPECT_TRUE(r.IsDelegatedPath("files/a.txt"));
  EXPECT_FALSE(r.IsDelegatedPath("files/sub/a.txt"));  // '*' stops at '/'
  EXPECT_FALSE(r.IsDelegatedPath("files/a.tar"));
  EXPECT_TRUE(r.IsDelegatedPath("bin/ax"));
  EXPECT_FALSE(r.IsDelegatedPath("bin/abx"));
  EXPECT_TRUE(r.IsDelegatedPath("lib/beta"));
  EXPECT_FALSE(r.IsDelegatedPath("lib/delta"));
  DelegatedRole h;
  std::string hash = HexEncode(crypto::Sha256(AsBytes("a.txt")));
  h.path_hash_prefixes = std::vector<std::string>{hash.substr(0, 4)};
  EXPECT_TRUE(h.IsDelegatedPath("a.txt"));
  EXPECT_FALSE(h.IsDelegatedPath("b.txt"));
}

TEST(ExpiresTest, ParsesOnlyTheTufForm) {
  Result<WallTime> t = ParseExpires("2030-01-02T03:04:05Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatExpires(*t), "2030-01-02T03:04:05Z");
  EXPECT_FALSE(ParseExpires("2030-01-02T03:04:05+00:00").ok());
  EXPECT_FALSE(ParseExpires("2030-02-30T03:04:05Z").ok());
  EXPECT_FALSE(ParseExpires("2030-01-02T24:00:00Z").ok());
}

}  // namespace
}  // namespace warden::tuf
