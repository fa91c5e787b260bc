// URLs: device addresses and wardend's public URL.
#include "web/url.h"

#include <gtest/gtest.h>

#include <string>

namespace warden::web {
namespace {

TEST(UrlTest, AcceptsIpv4Ipv6AndNames) {
  Result<Url> a = ParseUrl("https://127.0.0.1:8443");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->kind, Url::HostKind::kIpv4);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8443);
  EXPECT_EQ(a->ToString(), "https://127.0.0.1:8443");

  Result<Url> b = ParseUrl("https://[::1]:9000/");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->kind, Url::HostKind::kIpv6);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->Authority(), "[::1]:9000");
  EXPECT_EQ(ParseUrl(b->ToString()).value(), *b);

  Result<Url> c = ParseUrl("HTTPS://Thermostat-1.Local");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, Url::HostKind::kName);
  EXPECT_EQ(c->host, "thermostat-1.local");
  EXPECT_EQ(c->port, 443);
}

TEST(UrlTest, RefusesEverythingElseWithAReason) {
  for (const char* bad : {"",
                          "http://127.0.0.1:8443",
                          "127.0.0.1:8443",
                          "https://",
                          "https://:8443",
                          "https://127.0.0.1:0",
                          "https://127.0.0.1:65536",
                          "https://127.0.0.1:84a3",
                          "https://127.0.0.1:",
                          "https://::1:8443",
                          "https://[::1",
                          "https://[::1]x",
                          "https://[fe80::1%eth0]:1",
                          "https://[1.2.3.4]:1",
                          "https://256.1.1.1:1",
                          "https://1.2.3:1",
                          "https://host/path",
                          "https://host:1?q",
                          "https://host#f",
                          "https://user@host:1",
                          "https://ho_st:1",
                          "https://-host:1",
                          "https://a..b:1",
                          "https://host name:1"}) {
    Result<Url> r = ParseUrl(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  EXPECT_FALSE(ParseUrl("https://" + std::string(64, 'a') + ".com").ok());
  EXPECT_FALSE(ParseUrl("https://" + std::string(600, 'a')).ok());
}

TEST(UrlTest, APathIsAcceptedOnlyWhereAsked) {
  EXPECT_FALSE(ParseUrl("https://dev.example/warden").ok());
  Result<Url> u = ParseUrlWithPath("https://dev.example:9443/warden/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->path, "/warden");
  EXPECT_EQ(u->port, 9443);
  EXPECT_EQ(u->ToString(), "https://dev.example:9443/warden");
  EXPECT_EQ(ParseUrlWithPath(u->ToString()).value(), *u);
  EXPECT_EQ(ParseUrlWithPath("https://thermo.local").value().path, "");
  for (const char* bad :
       {"http://thermo.local", "https://", "https://a b", "https://x?q=1",
        "https://user@x", "https://x:0", "https://x:99999", "https://[::1",
        "https://-x.example", "https://x/#frag", "https://x/a%20b"}) {
    EXPECT_FALSE(ParseUrlWithPath(bad).ok()) << bad;
  }
}

TEST(UrlTest, HostNames) {
  EXPECT_TRUE(ValidateHostName("thermo-0001").ok());
  EXPECT_TRUE(ValidateHostName("a.example").ok());
  for (const char* bad : {"", "bad name!", "-x", "x-", "a..b", "x_y"}) {
    EXPECT_FALSE(ValidateHostName(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateHostName(std::string(64, 'a')).ok());
}

}  // namespace
}  // namespace warden::web
