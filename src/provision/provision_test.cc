#include "provision/provision.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "crypto/spake2plus.h"
#include "pairing/onboarding.h"
#include "platform/file.h"
#include "provision/maker.h"

namespace warden::provision {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  auto r = platform::ReadFile(path, 1 << 20);
  return r.ok() ? *r : std::string();
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

MakerSettings Settings() {
  MakerSettings s;
  s.name = "Example Devices";
  s.contact = "mailto:security@example.com";
  s.policy_url = "https://example.com/security";
  s.languages = {"en", "fr"};
  s.support_years = 5;
  return s;
}

class ProvisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-provision-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    maker_ = root_ + "/maker";
    ASSERT_TRUE(InitMaker(maker_, Settings(), clock_).ok());
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  Result<ProvisionResult> Provision(const std::string& serial,
                                    const std::string& out) {
    ProvisionRequest req;
    req.serial = serial;
    req.model = "Thermostat T1";
    return ProvisionUnit(maker_, req, out, clock_, SystemRng());
  }

  // Names in `dir` (not recursive).
  std::set<std::string> Entries(const std::string& dir) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      out.insert(e.path().filename().string());
    }
    return out;
  }

  FakeClock clock_;
  std::string root_;
  std::string maker_;
};

TEST_F(ProvisionTest, InitMakerWritesTheCaAndSettings) {
  EXPECT_EQ(ModeOf(maker_), 0700u);
  // The CA key is sealed in the maker's keystore, under a KEK beside it.
  EXPECT_FALSE(platform::Exists(maker_ + "/ca.key"));
  EXPECT_EQ(ModeOf(maker_ + "/keystore"), 0700u);
  EXPECT_EQ(ModeOf(root_ + "/maker.kek"), 0600u);
  EXPECT_EQ(ModeOf(maker_ + "/maker.json"), 0644u);
  EXPECT_EQ(Slurp(maker_ + "/serials.txt"), "");
  auto maker = LoadMaker(maker_);
  ASSERT_TRUE(maker.ok()) << maker.status().ToString();
  EXPECT_EQ(maker->ca_cert.subject_common_name(), "Example Devices Device CA");
  EXPECT_TRUE(maker->ca_cert.is_ca());
  // Five years of support from the fake clock's today.
  EXPECT_EQ(*maker->settings.support_end,
            FormatDate(AddYears(clock_.Now(), 5)));
  EXPECT_EQ(maker->settings.languages, (std::vector<std::string>{"en", "fr"}));
  // The CA lives about 20 years.
  EXPECT_GT(maker->ca_cert.not_after(), AddYears(clock_.Now(), 19));
}

TEST_F(ProvisionTest, InitMakerRefusesAnExistingMakerAndBadSettings) {
  EXPECT_EQ(InitMaker(maker_, Settings(), clock_).code(), Code::kAlreadyExists);

  auto bad = [&](auto mutate) {
    MakerSettings s = Settings();
    mutate(s);
    const std::string dir = root_ + "/bad-maker";
    Status st = InitMaker(dir, s, clock_);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
    EXPECT_FALSE(platform::Exists(dir));
  };
  bad([](MakerSettings& s) { s.name = ""; });
  bad([](MakerSettings& s) { s.name = std::string(65, 'n'); });
  bad([](MakerSettings& s) { s.contact = "security@example.com"; });
  bad([](MakerSettings& s) { s.contact = "http://example.com"; });
  bad([](MakerSettings& s) { s.policy_url = "http://example.com/p"; });
  bad([](MakerSettings& s) { s.languages = {}; });
  bad([](MakerSettings& s) { s.languages = {"english"}; });
  bad([](MakerSettings& s) { s.support_years = 0; });
  bad([](MakerSettings& s) { s.support_end = "2020-01-01"; });  // past
  bad([](MakerSettings& s) { s.support_end = "2031-02-30"; });  // no such day
  bad([](MakerSettings& s) { s.support_end = "2099-01-01"; });  // beyond CA
}

TEST_F(ProvisionTest, ExplicitSupportEndIsKept) {
  MakerSettings s = Settings();
  s.support_end = FormatDate(AddYears(clock_.Now(), 3));
  const std::string dir = root_ + "/maker2";
  ASSERT_TRUE(InitMaker(dir, s, clock_).ok());
  auto maker = LoadMaker(dir);
  ASSERT_TRUE(maker.ok());
  EXPECT_EQ(maker->settings.support_end, s.support_end);
}

TEST_F(ProvisionTest, ProvisionedUnitLoadsAndPairsWithTheLabelCode) {
  const std::string out = root_ + "/unit1";
  auto r = Provision("SN-0001", out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  EXPECT_EQ(Entries(out),
            (std::set<std::string>{"identity.key", "identity.crt", "ca.crt",
                                   "device.json", "pairing.json"}));
  EXPECT_EQ(ModeOf(out), 0700u);
  EXPECT_EQ(ModeOf(out + "/identity.key"), 0600u);
  EXPECT_EQ(ModeOf(out + "/pairing.json"), 0600u);
  // No temporary directory is left beside it.
  EXPECT_EQ(Entries(root_),
            (std::set<std::string>{"maker", "maker.kek", "unit1"}));
  EXPECT_EQ(Slurp(maker_ + "/serials.txt"), "SN-0001\n");

  auto dev = LoadDevice(out);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(dev->info.serial, "SN-0001");
  EXPECT_EQ(dev->info.maker, "Example Devices");
  EXPECT_EQ(dev->info.languages, (std::vector<std::string>{"en", "fr"}));
  EXPECT_EQ(dev->certificate.subject_common_name(), "SN-0001");
  EXPECT_EQ(dev->certificate.subject_serial_number(), "SN-0001");
  EXPECT_EQ(dev->certificate.Fingerprint(), r->certificate_fingerprint);
  EXPECT_TRUE(
      crypto::VerifyCertificate(dev->certificate, dev->ca, clock_.Now()).ok());
  EXPECT_EQ(dev->iterations, kPbkdfIterations);
  EXPECT_EQ(dev->salt.size(), kPbkdfSaltSize);
  // Valid until a year after the support end.
  auto end = ParseDate(dev->info.support_end);
  ASSERT_TRUE(end.ok());
  EXPECT_GE(dev->certificate.not_after(), AddYears(*end, 1));

  // The code on the label parses back to the passcode, and the owner's
  // derivation from it reproduces the verifier record the unit holds.
  auto manual = pairing::ParseSetupCode(r->manual_code);
  ASSERT_TRUE(manual.ok());
  EXPECT_EQ(manual->passcode, r->passcode);
  auto qr = pairing::ParseSetupCode(r->qr_payload);
  ASSERT_TRUE(qr.ok());
  EXPECT_EQ(qr->passcode, r->passcode);
  EXPECT_EQ(qr->discriminator, dev->info.discriminator);
  EXPECT_EQ(qr->vendor_id, 0xFFF1);
  auto secrets = crypto::spake2plus::DeriveProverSecrets(r->passcode, dev->salt,
                                                         dev->iterations);
  ASSERT_TRUE(secrets.ok());
  auto record = crypto::spake2plus::MakeVerifierRecord(*secrets);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->w0.bytes(), dev->w0.bytes());
  EXPECT_EQ(record->L, dev->L);
}

TEST_F(ProvisionTest, TheSetupCodeIsNeverStoredWithTheUnit) {
  const std::string out = root_ + "/unit1";
  auto r = Provision("SN-0001", out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  char padded[16];
  std::snprintf(padded, sizeof padded, "%08u", r->passcode);
  const std::string needles[] = {std::to_string(r->passcode),
                                 padded,
                                 r->manual_code,
                                 pairing::FormatManualCode(r->manual_code),
                                 r->qr_payload,
                                 r->qr_payload.substr(3)};
  for (const auto& name : Entries(out)) {
    const std::string content = Slurp(out + "/" + name);
    ASSERT_FALSE(content.empty()) << name;
    for (const auto& needle : needles) {
      EXPECT_EQ(content.find(needle), std::string::npos)
          << name << " contains " << needle;
    }
  }
  // w1 (the prover's secret, from which the code can be checked offline)
  // is stored nowhere, in any encoding: derived again here from the code
  // and the unit's salt.
  auto unit = LoadDevice(out);
  ASSERT_TRUE(unit.ok()) << unit.status().ToString();
  auto secrets = crypto::spake2plus::DeriveProverSecrets(
      r->passcode, unit->salt, unit->iterations);
  ASSERT_TRUE(secrets.ok());
  const Bytes w1(secrets->w1.view().begin(), secrets->w1.view().end());
  std::string upper_hex = HexEncode(w1);
  for (char& c : upper_hex) c = static_cast<char>(std::toupper(c));
  std::string url = Base64UrlEncode(w1);
  while (!url.empty() && url.back() == '=') url.pop_back();
  const std::string w1_forms[] = {ToString(w1), HexEncode(w1), upper_hex,
                                  Base64Encode(w1), url};
  for (const auto& name : Entries(out)) {
    const std::string content = Slurp(out + "/" + name);
    for (const auto& form : w1_forms) {
      EXPECT_EQ(content.find(form), std::string::npos)
          << name << " contains w1 as " << form;
    }
  }
  const std::string pairing = Slurp(out + "/pairing.json");
  EXPECT_NE(pairing.find("\"w0\""), std::string::npos);
  EXPECT_NE(pairing.find("\"L\""), std::string::npos);
}

TEST_F(ProvisionTest, TwoUnitsShareNothingSecret) {
  auto a = Provision("SN-0001", root_ + "/a");
  auto b = Provision("SN-0002", root_ + "/b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->passcode, b->passcode);
  EXPECT_NE(a->certificate_fingerprint, b->certificate_fingerprint);
  auto da = LoadDevice(root_ + "/a");
  auto db = LoadDevice(root_ + "/b");
  ASSERT_TRUE(da.ok() && db.ok());
  EXPECT_NE(da->key.public_key().Fingerprint(),
            db->key.public_key().Fingerprint());
  EXPECT_NE(da->salt, db->salt);
  EXPECT_NE(da->L, db->L);
  EXPECT_EQ(da->ca.Fingerprint(), db->ca.Fingerprint());
  EXPECT_EQ(Slurp(maker_ + "/serials.txt"), "SN-0001\nSN-0002\n");
}

TEST_F(ProvisionTest, DuplicateSerialIsRefusedAndLeavesNothing) {
  ASSERT_TRUE(Provision("SN-0001", root_ + "/a").ok());
  auto again = Provision("SN-0001", root_ + "/b");
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(Entries(root_), (std::set<std::string>{"maker", "maker.kek", "a"}));
  EXPECT_EQ(Slurp(maker_ + "/serials.txt"), "SN-0001\n");
}

TEST_F(ProvisionTest, BadSerialOrModelIsRefused) {
  for (const char* serial : {"", "ab", "-SN1", "SN 1", "SN/1", "../../etc"}) {
    auto r = Provision(serial, root_ + "/u");
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << serial;
  }
  ProvisionRequest req;
  req.serial = "SN-0001";
  for (std::string model :
       {std::string(), std::string(65, 'm'), std::string("bad\nmodel")}) {
    req.model = model;
    auto r = ProvisionUnit(maker_, req, root_ + "/u", clock_, SystemRng());
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
  EXPECT_EQ(Entries(root_), (std::set<std::string>{"maker", "maker.kek"}));
  EXPECT_EQ(Slurp(maker_ + "/serials.txt"), "");
}

TEST_F(ProvisionTest, ExistingOutputDirectory) {
  const std::string out = root_ + "/unit";
  ASSERT_TRUE(platform::MakeDirs(out, 0755).ok());
  ASSERT_TRUE(platform::WriteFileAtomic(out + "/keep", "mine", 0644).ok());
  auto r = Provision("SN-0001", out);
  EXPECT_EQ(r.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(Entries(out), (std::set<std::string>{"keep"}));
  EXPECT_EQ(Slurp(maker_ + "/serials.txt"), "");

  // An empty directory, e.g. a mount point prepared for the unit, is used.
  const std::string empty = root_ + "/empty/";
  ASSERT_TRUE(platform::MakeDirs(empty, 0755).ok());
  auto ok = Provision("SN-0001", empty);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(LoadDevice(empty).ok());
}

TEST_F(ProvisionTest, FailureToBuildTheUnitRecordsNoSerial) {
  auto r = Provision("SN-0001", root_ + "/missing/parent/unit");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(platform::Exists(root_ + "/missing"));
  EXPECT_EQ(Slurp(maker_ + "/serials.txt"), "");
}

TEST_F(ProvisionTest, EndedSupportPeriodStopsProvisioning) {
  clock_.Advance(std::chrono::hours(24 * 366 * 6));
  auto r = Provision("SN-0001", root_ + "/u");
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_FALSE(platform::Exists(root_ + "/u"));
}

TEST_F(ProvisionTest, LoadDeviceNamesTheBrokenFile) {
  const std::string out = root_ + "/unit";
  ASSERT_TRUE(Provision("SN-0001", out).ok());
  const std::string other = root_ + "/other";
  ASSERT_TRUE(Provision("SN-0002", other).ok());

  auto expect_error = [&](const std::string& file, Code code) {
    auto r = LoadDevice(out);
    ASSERT_FALSE(r.ok()) << file;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(file), std::string::npos)
        << r.status().ToString();
  };
  auto replace = [&](const std::string& name, const std::string& content) {
    const std::string saved = Slurp(out + "/" + name);
    EXPECT_TRUE(
        platform::WriteFileAtomic(out + "/" + name, content, 0600).ok());
    return saved;
  };

  std::string saved = replace("device.json", "{\"serial\": [");
  expect_error("device.json", Code::kDataLoss);
  replace("device.json", saved);

  // Another unit's key: the certificate no longer matches.
  saved = replace("identity.key", Slurp(other + "/identity.key"));
  expect_error("identity.key", Code::kIntegrity);
  replace("identity.key", saved);

  // Another unit's certificate and key: it names the wrong serial.
  std::string saved_key =
      replace("identity.key", Slurp(other + "/identity.key"));
  saved = replace("identity.crt", Slurp(other + "/identity.crt"));
  expect_error("identity.crt", Code::kIntegrity);
  replace("identity.crt", saved);
  replace("identity.key", saved_key);

  // A CA from another maker.
  ASSERT_TRUE(InitMaker(root_ + "/maker2", Settings(), clock_).ok());
  saved = replace("ca.crt", Slurp(root_ + "/maker2/ca.crt"));
  expect_error("identity.crt", Code::kIntegrity);
  replace("ca.crt", saved);

  saved = replace("pairing.json", "not json");
  expect_error("pairing.json", Code::kDataLoss);
  std::string tampered = saved;
  // Flip one byte inside L's base64: no longer a point on the curve (or a
  // different one); a wrong length is refused outright.
  auto pos = tampered.find("\"L\": \"");
  ASSERT_NE(pos, std::string::npos);
  tampered.replace(pos + 6, 4, "AAAA");
  replace("pairing.json", tampered);
  expect_error("pairing.json", Code::kDataLoss);
  tampered = saved;
  pos = tampered.find("\"iterations\": ");
  tampered.replace(pos, 19, "\"iterations\": 10000000");
  replace("pairing.json", tampered);
  expect_error("pairing.json", Code::kDataLoss);
  replace("pairing.json", saved);

  ASSERT_TRUE(platform::RemoveFile(out + "/ca.crt").ok());
  expect_error("ca.crt", Code::kNotFound);
  replace("ca.crt", Slurp(other + "/ca.crt"));
  EXPECT_TRUE(LoadDevice(out).ok());

  // Oversized files are refused before they are read.
  replace("device.json", std::string(64 * 1024, ' '));
  expect_error("device.json", Code::kResourceExhausted);
}

TEST_F(ProvisionTest, LabelIsWrittenOutsideTheUnitOnly) {
  const std::string out = root_ + "/unit";
  auto r = Provision("SN-0001", out);
  ASSERT_TRUE(r.ok());
  for (const std::string& inside : {out, out + "/", out + "/label",
                                    root_ + "/x/../unit/label", out + "/./"}) {
    EXPECT_EQ(WriteLabel(inside, *r, r->info).code(), Code::kInvalidArgument)
        << inside;
  }
  EXPECT_FALSE(platform::Exists(out + "/label"));

  const std::string labels = root_ + "/labels/SN-0001";
  ASSERT_TRUE(WriteLabel(labels, *r, r->info).ok());
  // A sibling whose name merely starts with the unit's is not inside it.
  EXPECT_TRUE(WriteLabel(root_ + "/unit-label", *r, r->info).ok());
  const std::string text = Slurp(labels + "/label.txt");
  EXPECT_NE(text.find(pairing::FormatManualCode(r->manual_code)),
            std::string::npos);
  EXPECT_NE(text.find(r->qr_payload), std::string::npos);
  EXPECT_NE(text.find("SN-0001"), std::string::npos);
  EXPECT_NE(text.find(r->info.support_end), std::string::npos);
  EXPECT_NE(text.find("mailto:security@example.com"), std::string::npos);
  const std::string svg = Slurp(labels + "/qr.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_EQ(ModeOf(labels + "/label.txt"), 0600u);
}

TEST_F(ProvisionTest, SecurityTxtOfAProvisionedUnit) {
  auto r = Provision("SN-0001", root_ + "/unit");
  ASSERT_TRUE(r.ok());
  auto dev = LoadDevice(root_ + "/unit");
  ASSERT_TRUE(dev.ok());
  const std::string txt =
      RenderSecurityTxt(dev->info, clock_.Now(),
                        "https://localhost:8443/.well-known/security.txt");
  for (const std::string field : {"Contact: ", "Expires: ", "Policy: ",
                                  "Preferred-Languages: ", "Canonical: "}) {
    const bool at_line_start =
        txt.rfind(field, 0) == 0 || txt.find("\n" + field) != std::string::npos;
    EXPECT_TRUE(at_line_start) << field;
  }
  const size_t pos = txt.find("Expires: ");
  ASSERT_NE(pos, std::string::npos);
  const std::string expires = txt.substr(pos + 9, 20);
  auto day = ParseDate(expires.substr(0, 10));
  ASSERT_TRUE(day.ok()) << expires;
  EXPECT_GT(*day, clock_.Now());
  EXPECT_EQ(expires.back(), 'Z');
}

}  // namespace
}  // namespace warden::provision
