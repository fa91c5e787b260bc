#include "assess/update_metadata.h"

#include <gtest/gtest.h>

#include <chrono>

#include "assess/assessor.h"
#include "tuf/testing/repository.h"

namespace warden::assess {
namespace {

using tuf::testing::Repository;
using tuf::testing::Signer;

const WallTime kNow = WallTime(std::chrono::seconds(1800000000));

Bytes Http200(const std::string& body) {
  std::string raw =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  return Bytes(raw.begin(), raw.end());
}

Fetch Served(const std::string& body) {
  Fetch f;
  f.raw = Http200(body);
  return f;
}

UpdateFacts Facts(const std::string& root, const std::string& timestamp) {
  UpdateFacts facts;
  facts.mechanism = "tuf";
  facts.url = "http://127.0.0.1:8000/metadata/";
  facts.root_url = facts.url + "root.json";
  facts.timestamp_url = facts.url + "timestamp.json";
  facts.root = Served(root);
  facts.timestamp = Served(timestamp);
  return facts;
}

UpdateFacts FactsOf(Repository& repo) {
  return Facts(repo.files["metadata/" + std::to_string(repo.root.version) +
                          ".root.json"],
               repo.files["metadata/timestamp.json"]);
}

TEST(UpdateMetadata, SignedAndFreshPasses) {
  Repository repo(kNow);
  UpdateFacts facts = FactsOf(repo);
  TestUnit u = JudgeUpdateMetadata(facts, kNow);
  EXPECT_EQ(u.verdict, Verdict::kPass) << u.finding;
  EXPECT_EQ(u.id, "updates.metadata");
  EXPECT_EQ(u.guideline, 3);
  ASSERT_EQ(u.evidence.artefacts.size(), 2u);
  EXPECT_EQ(u.evidence.artefacts[0].name, "root.json");
  EXPECT_EQ(
      u.evidence.artefacts[0].sha256,
      MakeArtefact("", AsBytes(repo.files["metadata/1.root.json"])).sha256);
  EXPECT_NE(u.finding.find("timestamp version 2"), std::string::npos)
      << u.finding;
}

TEST(UpdateMetadata, ExpiredTimestampFails) {
  Repository repo(kNow - std::chrono::hours(24 * 30));
  repo.timestamp.expires = kNow - std::chrono::hours(1);
  repo.Publish();
  TestUnit u = JudgeUpdateMetadata(FactsOf(repo), kNow);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("timestamp.json expired"), std::string::npos)
      << u.finding;
}

TEST(UpdateMetadata, ExpiredRootFails) {
  Repository repo(kNow - std::chrono::hours(24 * 400));
  repo.timestamp.expires = kNow + std::chrono::hours(24);
  repo.Publish();
  TestUnit u = JudgeUpdateMetadata(FactsOf(repo), kNow);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("root.json expired"), std::string::npos)
      << u.finding;
}

TEST(UpdateMetadata, RootSignedByTooFewKeysFails) {
  Repository repo(kNow);
  Signer second = tuf::testing::NewSigner();
  repo.root.keys[second.keyid] = second.public_key;
  repo.root.roles["root"].keyids.push_back(second.keyid);
  repo.root.roles["root"].threshold = 2;
  repo.PublishRoot();  // by the first root key only
  TestUnit u = JudgeUpdateMetadata(FactsOf(repo), kNow);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("root.json is not signed"), std::string::npos)
      << u.finding;
}

TEST(UpdateMetadata, UnsignedRootFails) {
  Repository repo(kNow);
  TestUnit u = JudgeUpdateMetadata(
      Facts(repo.Signed("root", {}), repo.files["metadata/timestamp.json"]),
      kNow);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("root.json is not signed"), std::string::npos)
      << u.finding;
}

TEST(UpdateMetadata, TimestampByAKeyRootDoesNotNameFails) {
  Repository repo(kNow);
  const std::string forged =
      repo.Signed("timestamp", {tuf::testing::NewSigner()});
  TestUnit u = JudgeUpdateMetadata(
      Facts(repo.files["metadata/1.root.json"], forged), kNow);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("timestamp.json is not signed"), std::string::npos)
      << u.finding;
}

TEST(UpdateMetadata, TamperedFilesFail) {
  Repository repo(kNow);
  // Pushing the expiry out after signing: the signature no longer covers
  // what the file says.
  for (const char* name : {"metadata/1.root.json", "metadata/timestamp.json"}) {
    Repository copy = repo;
    std::string& bytes = copy.files[name];
    const size_t at = bytes.find("\"expires\":\"20");
    ASSERT_NE(at, std::string::npos);
    bytes[at + 13] = '3';
    TestUnit u = JudgeUpdateMetadata(FactsOf(copy), kNow);
    EXPECT_EQ(u.verdict, Verdict::kFail) << name;
    EXPECT_NE(u.finding.find("is not signed"), std::string::npos) << u.finding;
  }
}

TEST(UpdateMetadata, NotTufFails) {
  Repository repo(kNow);
  TestUnit u = JudgeUpdateMetadata(
      Facts("{\"hello\": 1}", repo.files["metadata/timestamp.json"]), kNow);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  // A timestamp served where root should be is the wrong role.
  u = JudgeUpdateMetadata(Facts(repo.files["metadata/timestamp.json"],
                                repo.files["metadata/timestamp.json"]),
                          kNow);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("not TUF root"), std::string::npos) << u.finding;
}

TEST(UpdateMetadata, UrlThatDoesNotServeItFails) {
  Repository repo(kNow);
  UpdateFacts facts = FactsOf(repo);
  const std::string raw = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  facts.timestamp.raw = Bytes(raw.begin(), raw.end());
  TestUnit u = JudgeUpdateMetadata(facts, kNow);
  EXPECT_EQ(u.verdict, Verdict::kFail);
  EXPECT_NE(u.finding.find("HTTP 404"), std::string::npos) << u.finding;
}

TEST(UpdateMetadata, NothingFetchedIsInconclusive) {
  Repository repo(kNow);
  UpdateFacts facts = FactsOf(repo);
  facts.root = Fetch{};
  facts.root.error = "connect: Connection refused";
  TestUnit u = JudgeUpdateMetadata(facts, kNow);
  EXPECT_EQ(u.verdict, Verdict::kInconclusive) << u.finding;
  // A reply the deadline cut short is no answer either.
  facts = FactsOf(repo);
  facts.root.raw.resize(facts.root.raw.size() - 10);
  facts.root.error = "read: timed out";
  u = JudgeUpdateMetadata(facts, kNow);
  EXPECT_EQ(u.verdict, Verdict::kInconclusive) << u.finding;
  facts = UpdateFacts{};
  facts.mechanism = "tuf";
  facts.resolve_error = "cannot resolve updates.invalid";
  EXPECT_EQ(JudgeUpdateMetadata(facts, kNow).verdict, Verdict::kInconclusive);
}

TEST(UpdateMetadata, OtherMechanismIsNotJudged) {
  UpdateFacts facts;
  facts.mechanism = "swupdate";
  EXPECT_EQ(JudgeUpdateMetadata(facts, kNow).verdict, Verdict::kInconclusive);
}

TEST(UpdateMetadata, MetadataUrls) {
  Result<MetadataUrl> u = ParseMetadataUrl("https://updates.example/metadata");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "updates.example");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/metadata/");
  u = ParseMetadataUrl("http://[::1]:8080/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  u = ParseMetadataUrl("http://127.0.0.1:9000");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->path, "/");
  for (const char* bad :
       {"ftp://x/", "http://", "http://:80/", "http://h:0/", "http://h:99999/",
        "http://h/a b", "http://h/?x", "http://u@h/", "http://h:/"}) {
    EXPECT_FALSE(ParseMetadataUrl(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseMetadataUrl("http://h/" + std::string(300, 'a')).ok());
}

TEST(UpdateMetadata, Declaration) {
  Result<Declaration> d = ParseDeclaration(
      R"({"services": [], "updates": {"mechanism": "TUF",
          "metadata_url": "http://127.0.0.1:8000/metadata/"}})");
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_TRUE(d->updates.has_value());
  EXPECT_EQ(d->updates->mechanism, "tuf");
  EXPECT_EQ(d->updates->metadata_url, "http://127.0.0.1:8000/metadata/");
  EXPECT_FALSE(ParseDeclaration(R"({"services": []})")->updates.has_value());
  for (const char* bad :
       {R"({"services": [], "updates": "tuf"})",
        R"({"services": [], "updates": {"mechanism": "tuf"}})",
        R"({"services": [], "updates": {"metadata_url": "http://h/"}})",
        R"({"services": [], "updates": {"mechanism": "tuf",
            "metadata_url": "file:///etc/passwd"}})"}) {
    EXPECT_FALSE(ParseDeclaration(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace warden::assess
