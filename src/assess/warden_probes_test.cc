#include "assess/warden_probes.h"

#include <gtest/gtest.h>

#include <map>

namespace warden::assess {
namespace {

WardenCall Reply(std::string method, std::string path, int status,
                 std::string body = "", std::string rule = "",
                 std::string retry_after = "") {
  WardenCall c;
  c.method = std::move(method);
  c.path = std::move(path);
  c.status = status;
  c.reply_body = std::move(body);
  c.error_rule = std::move(rule);
  c.retry_after = std::move(retry_after);
  return c;
}

// What wardend answers: an info without secrets, owner routes refused.
WardenProbeFacts Device(bool paired) {
  WardenProbeFacts f;
  f.port = 8443;
  f.tls = true;
  f.paired_known = true;
  f.paired = paired;
  f.info = Reply("GET", "/v1/info", 200,
                 R"({"api":"warden/1","serial":"ACME-0001","maker":"Acme",)"
                 R"("model":"Thermo One","paired":)" +
                     std::string(paired ? "true" : "false") + "}");
  f.public_calls = {
      f.info,
      Reply("GET", "/.well-known/security.txt", 200,
            "Contact: mailto:security@acme.example\n"),
      Reply("GET", "/", 404, R"({"error":{"code":"not_found"}})"),
      Reply(
          "GET", "/v1/data/inventory", 200,
          R"({"kinds":[{"name":"schedule","category":"usage",)"
          R"("purpose":"heating times","retention_seconds":31536000,)"
          R"("may_leave_device":false}],"encrypted_at_rest":"AES-256-GCM"})")};
  for (const char* p : {"/v1/state", "/v1/owners", "/v1/capabilities"}) {
    f.owner_calls.push_back(
        Reply("GET", p, 401, R"({"error":{"code":"unauthenticated"}})"));
  }
  return f;
}

std::map<std::string, TestUnit> Units(const TestGroup& g) {
  std::map<std::string, TestUnit> out;
  for (const TestUnit& u : g.units) out[u.id] = u;
  return out;
}

void AddAttempts(WardenProbeFacts& f, int answered) {
  for (int i = 0; i < answered; ++i) {
    f.pairing.push_back(Reply("POST", "/v1/pair/begin", 200, "{}"));
    f.pairing.push_back(Reply("POST", "/v1/pair/exchange", 200, "{}"));
  }
}

TEST(WardenProbes, DelayAfterUnconfirmedExchangesPasses) {
  WardenProbeFacts f = Device(false);
  AddAttempts(f, 3);
  f.pairing.push_back(Reply("POST", "/v1/pair/begin", 200, "{}"));
  f.pairing.push_back(Reply("POST", "/v1/pair/exchange", 429, "", "", "1"));
  auto u = Units(JudgeWarden(f));
  EXPECT_EQ(u.count("warden.8443.pairing_closed"), 0u);
  const TestUnit& a = u.at("warden.8443.pairing_attempts");
  EXPECT_EQ(a.verdict, Verdict::kPass) << a.finding;
  EXPECT_NE(a.finding.find("after 3 unconfirmed attempts"), std::string::npos);
  EXPECT_NE(a.finding.find("Retry-After 1"), std::string::npos);
  EXPECT_EQ(u.at("warden.8443.public_secrets").verdict, Verdict::kPass);
  EXPECT_EQ(u.at("warden.8443.public_personal").verdict, Verdict::kPass);
  EXPECT_EQ(u.at("warden.8443.owner_routes").verdict, Verdict::kPass);
}

TEST(WardenProbes, ExchangesNeverDelayedFail) {
  WardenProbeFacts f = Device(false);
  AddAttempts(f, kMaxPairingProbes);
  const TestUnit a = Units(JudgeWarden(f)).at("warden.8443.pairing_attempts");
  EXPECT_EQ(a.verdict, Verdict::kFail);
  // One answered exchange short of the bound proves nothing yet.
  WardenProbeFacts g = Device(false);
  AddAttempts(g, kMaxPairingProbes - 1);
  EXPECT_EQ(Units(JudgeWarden(g)).at("warden.8443.pairing_attempts").verdict,
            Verdict::kInconclusive);
}

TEST(WardenProbes, DelayBeforeAnyAttemptOfOursProvesNothing) {
  WardenProbeFacts f = Device(false);
  f.pairing.push_back(Reply("POST", "/v1/pair/begin", 429, "", "", "30"));
  EXPECT_EQ(Units(JudgeWarden(f)).at("warden.8443.pairing_attempts").verdict,
            Verdict::kInconclusive);
}

TEST(WardenProbes, OwnedDeviceMustRefuseBeginWithTheDocumentedError) {
  WardenProbeFacts f = Device(true);
  f.pairing = {Reply("POST", "/v1/pair/begin", 409, "", "already_paired")};
  auto u = Units(JudgeWarden(f));
  EXPECT_EQ(u.at("warden.8443.pairing_closed").verdict, Verdict::kPass);
  EXPECT_EQ(u.at("warden.8443.pairing_attempts").verdict,
            Verdict::kNotApplicable);

  f.pairing = {Reply("POST", "/v1/pair/begin", 200, R"({"salt":"AA=="})")};
  EXPECT_EQ(Units(JudgeWarden(f)).at("warden.8443.pairing_closed").verdict,
            Verdict::kFail);
  f.pairing = {Reply("POST", "/v1/pair/begin", 409, "", "sequence")};
  EXPECT_EQ(Units(JudgeWarden(f)).at("warden.8443.pairing_closed").verdict,
            Verdict::kInconclusive);
  f.pairing = {Reply("POST", "/v1/pair/begin", 0)};
  EXPECT_EQ(Units(JudgeWarden(f)).at("warden.8443.pairing_closed").verdict,
            Verdict::kInconclusive);
}

TEST(WardenProbes, LeaksInPublicRepliesFail) {
  WardenProbeFacts f = Device(true);
  f.public_calls[0] =
      Reply("GET", "/v1/info", 200,
            R"({"api":"warden/1","paired":true,"owner":"alice",)"
            R"("debug":{"session":{"token":"abc"}}})");
  f.public_calls[2] =
      Reply("GET", "/", 200, "<pre>-----BEGIN EC PRIVATE KEY-----\nMHcC\n");
  auto u = Units(JudgeWarden(f));
  const TestUnit& s = u.at("warden.8443.public_secrets");
  EXPECT_EQ(s.verdict, Verdict::kFail);
  EXPECT_NE(s.finding.find("member \"token\""), std::string::npos);
  EXPECT_NE(s.finding.find("/: a PEM private key"), std::string::npos);
  const TestUnit& p = u.at("warden.8443.public_personal");
  EXPECT_EQ(p.verdict, Verdict::kFail);
  EXPECT_NE(p.finding.find("/v1/info: member \"owner\""), std::string::npos);
  // The finding names where, never the value itself, and the evidence
  // keeps only the hash of a reply that exposes something.
  EXPECT_EQ(p.finding.find("alice"), std::string::npos);
  for (const std::string& r : p.evidence.received) {
    EXPECT_EQ(r.find("alice"), std::string::npos) << r;
  }
  for (const std::string& r : s.evidence.received) {
    EXPECT_EQ(r.find("abc"), std::string::npos) << r;
  }
  ASSERT_FALSE(s.evidence.artefacts.empty());
  EXPECT_EQ(s.evidence.artefacts[0].name, "reply to GET /v1/info");
}

TEST(WardenProbes, OwnerRoutesServedWithoutCredentialsFail) {
  WardenProbeFacts f = Device(true);
  f.owner_calls[1] =
      Reply("GET", "/v1/owners", 200, R"({"owners":[{"name":"alice"}]})");
  auto u = Units(JudgeWarden(f));
  EXPECT_EQ(u.at("warden.8443.owner_routes").verdict, Verdict::kFail);
  EXPECT_EQ(u.at("warden.8443.public_personal").verdict, Verdict::kFail);
  f.owner_calls[1] = Reply("GET", "/v1/owners", 0);
  EXPECT_EQ(Units(JudgeWarden(f)).at("warden.8443.owner_routes").verdict,
            Verdict::kInconclusive);
}

TEST(WardenProbes, TheInventoryOfPersonalDataIsAPartialPass) {
  auto units = Units(JudgeWarden(Device(true)));
  const TestUnit& u = units.at("warden.8443.data_inventory");
  EXPECT_EQ(u.verdict, Verdict::kPass) << u.finding;
  EXPECT_TRUE(u.partial);
  EXPECT_EQ(u.guideline, 8);
  EXPECT_EQ(u.finding, "declares 1 kind: schedule (usage)");
}

TEST(WardenProbes, AMissingOrIncompleteInventoryFails) {
  const std::vector<std::pair<int, std::string>> bad = {
      {404, R"({"error":{"code":"not_found"}})"},
      {200, "[]"},
      {200, R"({"kinds":[{"name":"x","category":"usage","purpose":"y",)"
            R"("may_leave_device":false}]})"},
      {200, R"({"kinds":[{"name":"x","category":"gossip","purpose":"y",)"
            R"("retention_seconds":60,"may_leave_device":false}]})"},
      {200, R"({"kinds":[{"name":"x","category":"usage",)"
            R"("retention_seconds":60,"may_leave_device":false}]})"},
      {200, R"({"kinds":[{"name":"x","category":"usage","purpose":"y",)"
            R"("retention_seconds":60}]})"}};
  for (const auto& [status, body] : bad) {
    WardenProbeFacts f = Device(true);
    f.public_calls[3] = Reply("GET", "/v1/data/inventory", status, body);
    EXPECT_EQ(Units(JudgeWarden(f)).at("warden.8443.data_inventory").verdict,
              Verdict::kFail)
        << body;
  }
  WardenProbeFacts silent = Device(true);
  silent.public_calls[3] = Reply("GET", "/v1/data/inventory", 0, "");
  EXPECT_EQ(Units(JudgeWarden(silent)).at("warden.8443.data_inventory").verdict,
            Verdict::kInconclusive);
  WardenProbeFacts none = Device(false);
  none.public_calls[3] =
      Reply("GET", "/v1/data/inventory", 200, R"({"kinds":[]})");
  EXPECT_EQ(Units(JudgeWarden(none)).at("warden.8443.data_inventory").finding,
            "keeps no personal data, and says so");
}

TEST(WardenProbes, FindExposuresIgnoresEmptyValuesAndBoundsDepth) {
  EXPECT_TRUE(FindExposures(R"({"token":"","owner":null,"user":[]})").empty());
  EXPECT_TRUE(FindExposures(R"({"paired":true,"serial":"X"})").empty());
  EXPECT_EQ(FindExposures(R"({"Setup-Code":"12345678"})").size(), 1u);
  EXPECT_EQ(FindExposures(R"([{"a":{"admin_password":"x"}}])").size(), 1u);
  EXPECT_EQ(FindExposures("not json -----BEGIN CERTIFICATE-----").size(), 1u);
  const std::string deep =
      std::string(5000, '[') + R"({"token":"x"})" + std::string(5000, ']');
  EXPECT_TRUE(FindExposures(deep).empty());  // not walked, and no crash
}

}  // namespace
}  // namespace warden::assess
