#include "assess/security_txt.h"

#include <gtest/gtest.h>

#include <chrono>

namespace warden::assess {
namespace {

WallTime Now() { return *ParseRfc3339("2026-12-01T12:00:00Z"); }

SecurityTxtCheck Check(std::string_view text) {
  Result<SecurityTxt> parsed = ParseSecurityTxt(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  if (!parsed.ok()) return {};
  return CheckSecurityTxt(*parsed, Now());
}

bool Mentions(const std::vector<std::string>& problems, std::string_view s) {
  for (const auto& p : problems) {
    if (p.find(s) != std::string::npos) return true;
  }
  return false;
}

constexpr std::string_view kValid =
    "# Acme\n"
    "Contact: mailto:security@acme.example\r\n"
    "Contact: https://acme.example/report\n"
    "Expires: 2027-05-30T00:00:00Z\n"
    "Policy: https://acme.example/security-policy\n"
    "Preferred-Languages: en, de\n"
    "Canonical: https://device.example/.well-known/security.txt\n";

TEST(SecurityTxt, ValidFileHasNoProblems) {
  SecurityTxtCheck c = Check(kValid);
  EXPECT_TRUE(c.problems.empty()) << c.problems[0];
  ASSERT_EQ(c.contacts.size(), 2u);
  EXPECT_EQ(c.contacts[0], "mailto:security@acme.example");
  ASSERT_TRUE(c.expires.has_value());
  EXPECT_EQ(*c.expires, *ParseRfc3339("2027-05-30T00:00:00Z"));
}

TEST(SecurityTxt, MissingContactIsInvalid) {
  SecurityTxtCheck c = Check("Expires: 2027-05-30T00:00:00Z\n");
  EXPECT_TRUE(Mentions(c.problems, "no valid Contact"));
}

TEST(SecurityTxt, ExpiresMustAppearExactlyOnce) {
  SecurityTxtCheck none = Check("Contact: mailto:a@b.example\n");
  EXPECT_TRUE(Mentions(none.problems, "no Expires"));
  SecurityTxtCheck two = Check(
      "Contact: mailto:a@b.example\nExpires: 2027-01-01T00:00:00Z\n"
      "Expires: 2027-02-01T00:00:00Z\n");
  EXPECT_TRUE(Mentions(two.problems, "appears 2 times"));
}

TEST(SecurityTxt, ExpiredFileIsInvalid) {
  SecurityTxtCheck c =
      Check("Contact: mailto:a@b.example\nExpires: 2026-11-30T23:59:59Z\n");
  EXPECT_TRUE(Mentions(c.problems, "in the past"));
}

TEST(SecurityTxt, ExpiresMustBeRfc3339) {
  SecurityTxtCheck c =
      Check("Contact: mailto:a@b.example\nExpires: 30 May 2027\n");
  EXPECT_TRUE(Mentions(c.problems, "not an RFC 3339"));
  EXPECT_FALSE(ParseRfc3339("2027-05-30T00:00:00").ok());  // no zone
  EXPECT_FALSE(ParseRfc3339("2027-02-30T00:00:00Z").ok());
  EXPECT_EQ(*ParseRfc3339("2027-05-30T02:00:00+02:00"),
            *ParseRfc3339("2027-05-30T00:00:00Z"));
  EXPECT_TRUE(ParseRfc3339("2027-05-30T00:00:00.25Z").ok());
}

TEST(SecurityTxt, WebUrisMustBeHttps) {
  SecurityTxtCheck c = Check(
      "Contact: http://acme.example/report\nExpires: 2027-05-30T00:00:00Z\n"
      "Policy: http://acme.example/policy\n");
  EXPECT_TRUE(Mentions(c.problems, "Contact web URI must use https"));
  EXPECT_TRUE(Mentions(c.problems, "Policy must be an https URI"));
}

TEST(SecurityTxt, MalformedLinesAreReported) {
  SecurityTxtCheck c = Check(
      "Contact: mailto:a@b.example\nExpires: 2027-05-30T00:00:00Z\n"
      "this is not a field\nPreferred-Languages: en\nPreferred-Languages: "
      "de\n");
  EXPECT_TRUE(Mentions(c.problems, "line 3: not a field"));
  EXPECT_TRUE(Mentions(c.problems, "Preferred-Languages appears more"));
}

TEST(SecurityTxt, SignedFileIsUnwrapped) {
  Result<SecurityTxt> parsed = ParseSecurityTxt(
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
      "Contact: mailto:a@b.example\nExpires: 2027-05-30T00:00:00Z\n"
      "-----BEGIN PGP SIGNATURE-----\nwsBcBAEBCAAQBQJ\n"
      "-----END PGP SIGNATURE-----\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->signed_message);
  SecurityTxtCheck c = CheckSecurityTxt(*parsed, Now());
  EXPECT_TRUE(c.problems.empty()) << c.problems[0];
}

TEST(SecurityTxt, OversizedOrNonUtf8IsRefused) {
  std::string big(kMaxSecurityTxtBytes + 1, '#');
  EXPECT_EQ(ParseSecurityTxt(big).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseSecurityTxt("Contact: mailto:\xff@b\n").status().code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace warden::assess
