#include "provision/device.h"

#include <gtest/gtest.h>

#include "provision/validate.h"

namespace warden::provision {
namespace {

DeviceInfo SampleInfo() {
  DeviceInfo info;
  info.serial = "SN-0001";
  info.model = "Thermostat T1";
  info.maker = "Example Devices";
  info.contact = "mailto:security@example.com";
  info.policy_url = "https://example.com/security/policy";
  info.languages = {"en", "de-CH"};
  info.support_end = "2031-06-30";
  info.firmware_version = "1.2.3";
  info.vendor_id = 0xFFF1;
  info.product_id = 0x8000;
  info.discriminator = 3840;
  return info;
}

TEST(SecurityTxt, HasAllFieldsAndExpiresInTheFuture) {
  const WallTime now = *ParseDate("2026-01-15") + std::chrono::hours(7);
  std::string txt = RenderSecurityTxt(
      SampleInfo(), now, "https://127.0.0.1:8443/.well-known/security.txt");
  EXPECT_NE(txt.find("Contact: mailto:security@example.com\n"),
            std::string::npos);
  EXPECT_NE(txt.find("Policy: https://example.com/security/policy\n"),
            std::string::npos);
  EXPECT_NE(txt.find("Preferred-Languages: en, de-CH\n"), std::string::npos);
  EXPECT_NE(
      txt.find("Canonical: https://127.0.0.1:8443/.well-known/security.txt\n"),
      std::string::npos);
  // 180 days after 2026-01-15T07:00:00Z.
  EXPECT_NE(txt.find("Expires: 2026-07-14T07:00:00Z\n"), std::string::npos);
}

TEST(SecurityTxt, DropsACanonicalUrlThatWouldInjectLines) {
  std::string txt = RenderSecurityTxt(SampleInfo(), FromUnixSeconds(0),
                                      "https://x/\nContact: mailto:evil@x.org");
  EXPECT_EQ(txt.find("evil"), std::string::npos);
  EXPECT_EQ(txt.find("Canonical:"), std::string::npos);
}

TEST(DeviceJson, RoundTrips) {
  const DeviceInfo info = SampleInfo();
  auto back = DeviceInfoFromJson(DeviceInfoToJson(info));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->serial, info.serial);
  EXPECT_EQ(back->languages, info.languages);
  EXPECT_EQ(back->support_end, info.support_end);
  EXPECT_EQ(back->discriminator, info.discriminator);
  EXPECT_EQ(back->vendor_id, info.vendor_id);
}

TEST(DeviceJson, RejectsWrongTypesAndValues) {
  const char* bad[] = {
      "",
      "[]",
      "{\"serial\": 5}",
      R"({"serial":"SN-0001","model":"M","maker":"X","contact":"mailto:a@b.org",
          "policy_url":"https://b.org","languages":["en"],
          "support_end":"2030-01-01","firmware_version":"1",
          "vendor_id":1,"product_id":1,"discriminator":4096})",
      R"({"serial":"SN-0001","model":"M","maker":"X","contact":"mailto:a@b.org",
          "policy_url":"http://b.org","languages":["en"],
          "support_end":"2030-01-01","firmware_version":"1",
          "vendor_id":1,"product_id":1,"discriminator":1})",
      R"({"serial":"S","model":"M","maker":"X","contact":"mailto:a@b.org",
          "policy_url":"https://b.org","languages":["en"],
          "support_end":"2030-01-01","firmware_version":"1",
          "vendor_id":1,"product_id":1,"discriminator":1})",
      R"({"serial":"SN-0001","model":"M","maker":"X","contact":"mailto:a@b.org",
          "policy_url":"https://b.org","languages":"en",
          "support_end":"2030-01-01","firmware_version":"1",
          "vendor_id":1,"product_id":1,"discriminator":1})",
      R"({"serial":"SN-0001","model":"M","maker":"X","contact":"mailto:a@b.org",
          "policy_url":"https://b.org","languages":["en"],
          "support_end":"2030-02-30","firmware_version":"1",
          "vendor_id":1,"product_id":-1,"discriminator":1})",
  };
  for (const char* text : bad) {
    auto r = DeviceInfoFromJson(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kDataLoss) << text;
  }
}

TEST(Validate, Serial) {
  for (const char* ok : {"SN1", "abc-DEF_1.2", "0000000000"}) {
    EXPECT_TRUE(ValidateSerial(ok).ok()) << ok;
  }
  for (const char* bad :
       {"", "ab", "-abc", ".abc", "a b c", "abc/def", "abc\n", "ab\xc3\xa9"}) {
    EXPECT_FALSE(ValidateSerial(bad).ok()) << bad;
  }
  EXPECT_TRUE(ValidateSerial(std::string(64, 'a')).ok());
  EXPECT_FALSE(ValidateSerial(std::string(65, 'a')).ok());
}

TEST(Validate, ContactPolicyLanguages) {
  EXPECT_TRUE(ValidateContact("mailto:security@example.com").ok());
  EXPECT_TRUE(ValidateContact("https://example.com/report").ok());
  for (const char* bad :
       {"security@example.com", "mailto:", "mailto:@example.com", "mailto:a@b",
        "mailto:a@@b.com", "mailto:a b@c.com", "http://example.com", "https://",
        "https://exa mple.com", "https://user@example.com/",
        "https://example.com:0/", "https://example.com:99999/",
        "https://example.com/\"x\""}) {
    EXPECT_FALSE(ValidateContact(bad).ok()) << bad;
  }
  EXPECT_TRUE(
      ValidateHttpsUrl("policy_url", "https://example.com:8443/p?q=1").ok());
  for (const char* ok : {"en", "de-CH", "zh-Hant-TW", "sgn-BE-FR"}) {
    EXPECT_TRUE(ValidateLanguageTag(ok).ok()) << ok;
  }
  for (const char* bad : {"", "e", "english", "en-", "en--US", "en_US",
                          "en-toolongsubtag", "1n"}) {
    EXPECT_FALSE(ValidateLanguageTag(bad).ok()) << bad;
  }
}

TEST(Validate, ModelAndFirmware) {
  EXPECT_TRUE(ValidateModel("Thermostat T1").ok());
  EXPECT_FALSE(ValidateModel("").ok());
  EXPECT_FALSE(ValidateModel(" leading").ok());
  EXPECT_FALSE(ValidateModel("tab\there").ok());
  EXPECT_FALSE(ValidateModel(std::string(65, 'm')).ok());
  EXPECT_TRUE(ValidateFirmwareVersion("1.0.0-rc.1+build5").ok());
  EXPECT_FALSE(ValidateFirmwareVersion("").ok());
  EXPECT_FALSE(ValidateFirmwareVersion("v 1").ok());
  EXPECT_FALSE(ValidateFirmwareVersion("-1").ok());
}

}  // namespace
}  // namespace warden::provision
