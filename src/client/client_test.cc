// The device registry and the owner identity.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include "base/clock.h"
#include "client/home.h"
#include "client/owner.h"
#include "client/pair.h"
#include "client/registry.h"
#include "platform/file.h"
#include "web/url.h"

namespace warden::client {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/warden_client_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

DeviceRecord SampleRecord(const std::string& name) {
  return DeviceRecord{
      .name = name,
      .url = web::ParseUrl("https://127.0.0.1:8443").value(),
      .fingerprint = std::string(64, 'a'),
      .serial = "SN-0001",
      .model = "Thermostat T1",
      .paired_at = "2024-05-01T12:00:00Z",
  };
}

TEST(RegistryTest, RoundTripsThroughTheFile) {
  TempDir dir;
  Result<Registry> empty = Registry::Load(dir.path());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->devices().empty());

  Registry reg = std::move(empty).value();
  ASSERT_TRUE(reg.Add(SampleRecord("kitchen")).ok());
  DeviceRecord hall = SampleRecord("hall");
  hall.url = web::ParseUrl("https://[::1]:9443").value();
  hall.fingerprint = std::string(64, '0');
  ASSERT_TRUE(reg.Add(hall).ok());
  EXPECT_EQ(reg.Add(SampleRecord("kitchen")).code(), Code::kAlreadyExists);
  ASSERT_TRUE(reg.Save().ok());
  EXPECT_EQ(ModeOf(platform::JoinPath(dir.path(), kDevicesFile)), 0600u);

  Result<Registry> loaded = Registry::Load(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->devices().size(), 2u);
  EXPECT_EQ(loaded->Find("kitchen").value(), SampleRecord("kitchen"));
  EXPECT_EQ(loaded->Find("hall").value(), hall);
  EXPECT_EQ(loaded->Find("attic").status().code(), Code::kNotFound);

  Registry again = std::move(loaded).value();
  ASSERT_TRUE(again.Remove("kitchen").ok());
  EXPECT_EQ(again.Remove("kitchen").code(), Code::kNotFound);
  ASSERT_TRUE(again.Save().ok());
  EXPECT_EQ(Registry::Load(dir.path())->devices().size(), 1u);
}

TEST(RegistryTest, RefusesInvalidRecords) {
  TempDir dir;
  Registry reg = Registry::Load(dir.path()).value();
  DeviceRecord r = SampleRecord("bad name");
  EXPECT_EQ(reg.Add(r).code(), Code::kInvalidArgument);
  r = SampleRecord("ok");
  r.fingerprint = std::string(64, 'A');
  EXPECT_EQ(reg.Add(r).code(), Code::kInvalidArgument);
  r = SampleRecord("ok");
  r.serial = "SN\x1b[2J";
  EXPECT_EQ(reg.Add(r).code(), Code::kInvalidArgument);
  EXPECT_TRUE(reg.devices().empty());
}

TEST(RegistryTest, RejectsCorruptFiles) {
  const std::string good_entry =
      R"({"url":"https://127.0.0.1:8443","fingerprint":")" +
      std::string(64, 'b') +
      R"(","serial":"SN1","model":"M","paired_at":"2024-01-01T00:00:00Z"})";
  struct Case {
    const char* why;
    std::string text;
  };
  const Case cases[] = {
      {"not json", "{\"devices\": {"},
      {"no devices", "{}"},
      {"devices not an object", R"({"devices": []})"},
      {"duplicate name",
       R"({"devices":{"a":)" + good_entry + R"(,"a":)" + good_entry + "}}"},
      {"bad url",
       R"({"devices":{"a":{"url":"http://x","fingerprint":")" +
           std::string(64, 'b') +
           R"(","serial":"S","model":"M","paired_at":"2024-01-01T00:00:00Z"}}})"},
      {"short fingerprint",
       R"({"devices":{"a":{"url":"https://x:1","fingerprint":"abcd","serial":"S","model":"M","paired_at":"2024-01-01T00:00:00Z"}}})"},
      {"missing serial",
       R"({"devices":{"a":{"url":"https://x:1","fingerprint":")" +
           std::string(64, 'b') +
           R"(","model":"M","paired_at":"2024-01-01T00:00:00Z"}}})"},
      {"bad name", R"({"devices":{"../a":)" + good_entry + "}}"},
      {"bad time",
       R"({"devices":{"a":{"url":"https://x:1","fingerprint":")" +
           std::string(64, 'b') +
           R"(","serial":"S","model":"M","paired_at":"yesterday"}}})"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    ASSERT_TRUE(platform::WriteFileAtomic(
                    platform::JoinPath(dir.path(), kDevicesFile), c.text, 0600)
                    .ok());
    Result<Registry> r = Registry::Load(dir.path());
    ASSERT_FALSE(r.ok()) << c.why;
    EXPECT_EQ(r.status().code(), Code::kDataLoss) << c.why;
  }
  // And the good entry on its own loads.
  TempDir dir;
  ASSERT_TRUE(
      platform::WriteFileAtomic(platform::JoinPath(dir.path(), kDevicesFile),
                                R"({"devices":{"a":)" + good_entry + "}}", 0600)
          .ok());
  EXPECT_TRUE(Registry::Load(dir.path()).ok());
}

TEST(RegistryTest, RefusesAnOversizedFileBeforeReadingIt) {
  TempDir dir;
  std::string big(kMaxRegistryFile + 1, ' ');
  ASSERT_TRUE(platform::WriteFileAtomic(
                  platform::JoinPath(dir.path(), kDevicesFile), big, 0600)
                  .ok());
  EXPECT_EQ(Registry::Load(dir.path()).status().code(),
            Code::kResourceExhausted);
}

TEST(HomeTest, CreatesTheOwnerIdentityPrivatelyAndReusesIt) {
  TempDir dir;
  std::string home = platform::JoinPath(dir.path(), "a/warden");
  FakeClock clock;
  EXPECT_EQ(LoadOwnerIdentity(home).status().code(), Code::kNotFound);

  Result<OwnerIdentity> id = LoadOrCreateOwnerIdentity(home, clock);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(ModeOf(home), 0700u);
  EXPECT_EQ(ModeOf(platform::JoinPath(home, kOwnerKeyFile)), 0600u);
  EXPECT_EQ(id->key.type(), crypto::KeyType::kEcdsaP256);
  EXPECT_TRUE(id->certificate.public_key() == id->key.public_key());
  EXPECT_FALSE(id->certificate.is_ca());
  auto years = std::chrono::duration_cast<std::chrono::hours>(
                   id->certificate.not_after() - clock.Now())
                   .count() /
               (24 * 365);
  EXPECT_EQ(years, 20);
  // Self-signed, so it verifies against itself.
  EXPECT_TRUE(
      crypto::VerifyCertificate(id->certificate, id->certificate, clock.Now())
          .ok());

  Result<OwnerIdentity> again = LoadOrCreateOwnerIdentity(home, clock);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->key.public_key().Fingerprint(),
            id->key.public_key().Fingerprint());
  EXPECT_EQ(again->certificate.Fingerprint(), id->certificate.Fingerprint());
}

TEST(HomeTest, RefusesAHalfIdentityOrMismatchedFiles) {
  TempDir dir;
  FakeClock clock;
  std::string a = platform::JoinPath(dir.path(), "a");
  std::string b = platform::JoinPath(dir.path(), "b");
  ASSERT_TRUE(LoadOrCreateOwnerIdentity(a, clock).ok());
  ASSERT_TRUE(LoadOrCreateOwnerIdentity(b, clock).ok());

  // b's certificate with a's key.
  std::string cert_b =
      platform::ReadFile(platform::JoinPath(b, kOwnerCertFile), 65536).value();
  ASSERT_TRUE(platform::WriteFileAtomic(platform::JoinPath(a, kOwnerCertFile),
                                        cert_b, 0644)
                  .ok());
  EXPECT_EQ(LoadOwnerIdentity(a).status().code(), Code::kDataLoss);
  EXPECT_EQ(LoadOrCreateOwnerIdentity(a, clock).status().code(),
            Code::kDataLoss);

  ASSERT_TRUE(platform::RemoveFile(platform::JoinPath(b, kOwnerKeyFile)).ok());
  EXPECT_EQ(LoadOrCreateOwnerIdentity(b, clock).status().code(),
            Code::kDataLoss);
}

TEST(HomeTest, DefaultHomeFollowsXdgThenHome) {
  std::string saved_xdg =
      getenv("XDG_CONFIG_HOME") ? getenv("XDG_CONFIG_HOME") : "";
  std::string saved_home = getenv("HOME") ? getenv("HOME") : "";
  setenv("XDG_CONFIG_HOME", "/x/config", 1);
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(DefaultHomeDir().value(), "/x/config/warden");
  unsetenv("XDG_CONFIG_HOME");
  EXPECT_EQ(DefaultHomeDir().value(), "/home/u/.config/warden");
  unsetenv("HOME");
  EXPECT_EQ(DefaultHomeDir().status().code(), Code::kFailedPrecondition);
  if (!saved_xdg.empty()) setenv("XDG_CONFIG_HOME", saved_xdg.c_str(), 1);
  if (!saved_home.empty()) setenv("HOME", saved_home.c_str(), 1);
}

TEST(OwnerTest, ValueArgumentsAreJsonWhenTheyParse) {
  EXPECT_EQ(ParseValueArgument("21.5"), schema::Json(21.5));
  EXPECT_EQ(ParseValueArgument("true"), schema::Json(true));
  EXPECT_EQ(ParseValueArgument(R"({"a":1})"), schema::Json({{"a", 1}}));
  EXPECT_EQ(ParseValueArgument("heat"), schema::Json("heat"));
  EXPECT_EQ(ParseValueArgument("\"heat\""), schema::Json("heat"));
}

TEST(OwnerTest, KeysAndNamesAreChecked) {
  EXPECT_TRUE(ValidateKey("setpoint").ok());
  EXPECT_TRUE(ValidateKey("fan_speed2").ok());
  for (const char* bad : {"", "Setpoint", "2fan", "a/b", "../x", "a b",
                          "abcdefghijabcdefghijabcdefghijabc"}) {
    EXPECT_FALSE(ValidateKey(bad).ok()) << bad;
  }
  EXPECT_TRUE(ValidateDeviceName("SN-0001").ok());
  EXPECT_FALSE(ValidateDeviceName("-x").ok());
  EXPECT_FALSE(ValidateDeviceName("a/b").ok());
}

TEST(OwnerTest, SecretsAreReadAsOneLine) {
  TempDir dir;
  std::string f = platform::JoinPath(dir.path(), "pw");
  ASSERT_TRUE(platform::WriteFileAtomic(f, "correct horse\n", 0600).ok());
  EXPECT_EQ(ReadSecretFile(f).value(), "correct horse");
  ASSERT_TRUE(platform::WriteFileAtomic(f, "\n", 0600).ok());
  EXPECT_EQ(ReadSecretFile(f).status().code(), Code::kInvalidArgument);
  ASSERT_TRUE(platform::WriteFileAtomic(f, "a\nb\n", 0600).ok());
  EXPECT_EQ(ReadSecretFile(f).status().code(), Code::kInvalidArgument);
  ASSERT_TRUE(platform::WriteFileAtomic(f, std::string(5000, 'x'), 0600).ok());
  EXPECT_EQ(ReadSecretFile(f).status().code(), Code::kInvalidArgument);
}

TEST(OwnerNameTest, DefaultIsTheLoginAndHostCutToWhatADeviceTakes) {
  const char* saved = std::getenv("USER");
  std::string restore = saved ? saved : "";
  ::setenv("USER", "alice", 1);
  std::string name = DefaultOwnerName();
  EXPECT_EQ(name.rfind("alice@", 0), 0u) << name;
  ::setenv("USER", ("bob\x1b[2J" + std::string(100, 'x')).c_str(), 1);
  name = DefaultOwnerName();
  EXPECT_LE(name.size(), 64u);
  for (char c : name) EXPECT_TRUE(c > 0x20 && c < 0x7f) << name;
  if (saved) {
    ::setenv("USER", restore.c_str(), 1);
  } else {
    ::unsetenv("USER");
  }
}

}  // namespace
}  // namespace warden::client
