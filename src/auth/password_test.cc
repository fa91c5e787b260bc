#include "auth/password.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace warden::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const PasswordContext kDevice{"WD-2024-000731", "Thermo X200", "Acme"};

constexpr char kStrong[] = "violet tractor hums under 7 moons";

Status Check(std::string_view pw) { return CheckPassword(pw, kDevice); }

TEST(PasswordPolicy, AcceptsStrongPassphrase) {
  EXPECT_TRUE(Check(kStrong).ok()) << Check(kStrong).ToString();
  EXPECT_TRUE(Check("Gl4cier-Otter-Quilt").ok());
}

TEST(PasswordPolicy, RefusesShortPassword) {
  Status s = Check("k7#Qz9!w");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at least 10 characters"));
}

TEST(PasswordPolicy, CountsCharactersNotBytes) {
  // Nine characters, 18 bytes of UTF-8: still too short for a person.
  Status s = Check("ßüöäéèêëï");
  EXPECT_THAT(s.message(), HasSubstr("at least 10 characters"));
}

TEST(PasswordPolicy, RefusesOverlongPassword) {
  std::string pw = std::string(kStrong) + std::string(128, 'x');
  Status s = Check(pw);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("longer than 128 bytes"));
  // 128 bytes exactly is allowed by the length rule.
  std::string edge = "Zq8!" + std::string(124, 'm');
  EXPECT_THAT(Check(edge).message(), Not(HasSubstr("longer than")));
}

TEST(PasswordPolicy, RefusesInvalidUtf8) {
  for (std::string_view bad :
       {std::string_view("plumtree-\xff-lantern"),
        std::string_view("plumtree-\xc0\xaf-lantern"),      // overlong '/'
        std::string_view("plumtree-\xed\xa0\x80-lantern"),  // surrogate
        std::string_view("plumtree-lantern-\xe2\x82")}) {   // truncated
    Status s = Check(bad);
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("UTF-8"));
  }
}

TEST(PasswordPolicy, RefusesControlCharacters) {
  std::string with_nul("plumtree-lantern", 16);
  with_nul[8] = '\0';
  EXPECT_THAT(Check(with_nul).message(), HasSubstr("control character"));
  EXPECT_THAT(Check("plumtree\tlantern").message(),
              HasSubstr("control character"));
}

TEST(PasswordPolicy, ShortMiraiPasswordsAreRefused) {
  EXPECT_TRUE(IsKnownDefaultCredential("xc3511"));
  EXPECT_TRUE(IsKnownDefaultCredential("vizxv"));
  EXPECT_TRUE(IsKnownDefaultCredential("XMHDIPC"));
  EXPECT_EQ(Check("xc3511").code(), Code::kInvalidArgument);
}

TEST(PasswordPolicy, LongListedPasswordsAreRefusedForBeingListed) {
  // Long enough to pass the length rule: refused because botnets know them.
  for (std::string_view pw :
       {"7ujMko0vizxv", "7UJMKO0ADMIN", "administrator", "1234567890",
        "qwertyuiop", "password123", "telecomadmin", "vertex25ektks123",
        "taZz@23495859"}) {
    ASSERT_GE(pw.size(), kMinPasswordLength) << pw;
    Status s = Check(pw);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << pw;
    EXPECT_THAT(s.message(), HasSubstr("botnets")) << pw;
  }
}

TEST(PasswordPolicy, MessageNeverEchoesThePassword) {
  Status s = Check("telecomadmin");
  EXPECT_THAT(s.message(), Not(HasSubstr("telecomadmin")));
}

TEST(PasswordPolicy, EmbeddedListMatchesShippedFile) {
  std::ifstream in(std::string(WARDEN_SOURCE_DIR) +
                   "/data/default-credentials.txt");
  ASSERT_TRUE(in.good());
  std::string line;
  size_t entries = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    ++entries;
    EXPECT_TRUE(IsKnownDefaultCredential(line)) << line;
  }
  EXPECT_GE(KnownDefaultCredentialCount(), 300u);
  EXPECT_EQ(KnownDefaultCredentialCount(), entries);
  // Every password of Mirai's table is present.
  for (std::string_view pw :
       {"xc3511",    "vizxv",    "admin",        "888888",       "xmhdipc",
        "default",   "juantech", "123456",       "54321",        "support",
        "password",  "root",     "12345",        "user",         "pass",
        "admin1234", "1111",     "smcadmin",     "666666",       "1234",
        "klv123",    "meinsm",   "service",      "supervisor",   "guest",
        "ubnt",      "klv1234",  "Zte521",       "hi3518",       "jvbzd",
        "anko",      "zlxx.",    "7ujMko0vizxv", "7ujMko0admin", "system",
        "ikwb",      "dreambox", "realtek",      "00000000",     "1111111",
        "4321",      "tech",     "fucker"}) {
    EXPECT_TRUE(IsKnownDefaultCredential(pw)) << pw;
  }
  EXPECT_FALSE(IsKnownDefaultCredential(kStrong));
  EXPECT_FALSE(IsKnownDefaultCredential("# Passwords that must never"));
}

TEST(PasswordPolicy, RefusesSerialModelAndMaker) {
  Status serial = Check("my wd-2024-000731 pass");
  EXPECT_EQ(serial.code(), Code::kInvalidArgument);
  EXPECT_THAT(serial.message(), HasSubstr("serial number"));
  // Separators do not hide it.
  EXPECT_THAT(Check("zz WD2024000731 zz").message(),
              HasSubstr("serial number"));
  EXPECT_THAT(Check("mythermo x200 at home").message(),
              HasSubstr("model name"));
  EXPECT_THAT(Check("ACMEacme-Yellow-Fox").message(),
              HasSubstr("maker's name"));
}

TEST(PasswordPolicy, IgnoresContextFieldsShorterThanThreeCharacters) {
  const PasswordContext tiny{"7", "X2", "Ab"};
  EXPECT_TRUE(CheckPassword("Ab X2 7 violet tractor", tiny).ok());
}

TEST(PasswordPolicy, DictionaryWordsAreRefused) {
  // scripts/install-deps.sh installs the cracklib dictionary.
  Status st = CheckPassword("housekeeping", PasswordContext{});
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("dictionary"), std::string::npos) << st.message();
}

TEST(PasswordPolicy, PwqualityRefusalIsReported) {
  // Not listed, long enough, no device name: libpwquality's palindrome
  // rule is what refuses it.
  Status s = Check("zorbaxqqxabroz");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("too weak"));
  EXPECT_THAT(s.message(), HasSubstr("palindrome"));
}

class PasswordHashTest : public ::testing::Test {
 protected:
  HashParams fast_ = MinimumHashParams();
};

TEST_F(PasswordHashTest, RoundTrip) {
  Result<std::string> hash = HashPassword(kStrong, fast_);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, kStrong));
  EXPECT_FALSE(VerifyPassword(*hash, "violet tractor hums under 7 moon"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST_F(PasswordHashTest, SaltsDiffer) {
  Result<std::string> a = HashPassword(kStrong, fast_);
  Result<std::string> b = HashPassword(kStrong, fast_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword(*b, kStrong));
}

TEST_F(PasswordHashTest, DefaultParamsAreInteractive) {
  const HashParams def;
  EXPECT_EQ(def.opslimit, InteractiveHashParams().opslimit);
  EXPECT_EQ(def.memlimit, InteractiveHashParams().memlimit);
  Result<std::string> hash = HashPassword(kStrong);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_THAT(*hash, HasSubstr("m=65536,t=2,p=1"));
  EXPECT_TRUE(VerifyPassword(*hash, kStrong));
  EXPECT_FALSE(HashNeedsRehash(*hash));
  Result<std::string> weak = HashPassword(kStrong, fast_);
  ASSERT_TRUE(weak.ok());
  EXPECT_TRUE(HashNeedsRehash(*weak));
}

TEST_F(PasswordHashTest, MalformedHashesNeverVerify) {
  Result<std::string> hash = HashPassword(kStrong, fast_);
  ASSERT_TRUE(hash.ok());
  std::string tampered = *hash;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyPassword(tampered, kStrong));
  EXPECT_FALSE(VerifyPassword("", kStrong));
  EXPECT_FALSE(VerifyPassword("$argon2id$", kStrong));
  EXPECT_FALSE(VerifyPassword(std::string(4096, '$'), kStrong));
  // An Argon2i hash is not accepted, only Argon2id.
  std::string argon2i = *hash;
  argon2i.replace(0, 10, "$argon2i$");
  EXPECT_FALSE(VerifyPassword(argon2i, kStrong));
}

TEST_F(PasswordHashTest, RefusesOverlongPasswordAndBadParams) {
  EXPECT_EQ(HashPassword(std::string(129, 'a'), fast_).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(HashPassword(kStrong, HashParams{0, 1024}).status().code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace warden::auth
