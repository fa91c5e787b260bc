#include "daemon/config.h"

#include <gtest/gtest.h>

namespace warden::daemon {
namespace {

TEST(ConfigTest, AcceptsAFullConfig) {
  auto c = ParseConfig(R"({"listen": "[::1]:9443",
      "app": {"command": ["/usr/bin/app", "-v"], "user": "appuser"}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "[::1]:9443");
  ASSERT_TRUE(c->app.has_value());
  EXPECT_EQ(c->app->command.size(), 2u);
  EXPECT_EQ(c->app->user, "appuser");
}

TEST(ConfigTest, TheAppRunsAsItsOwnUserByDefault) {
  auto c = ParseConfig(R"({"app": {"command": ["/usr/bin/app"]}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->app->user, "warden-app");
  EXPECT_FALSE(c->app->allow_shared_user);
  EXPECT_TRUE(c->app->env.empty());
}

TEST(ConfigTest, AppSharedUserAndEnvironment) {
  auto c = ParseConfig(R"({"app": {"command": ["/usr/bin/app"],
      "user": "nobody", "allow_shared_user": true,
      "env": {"TZ": "Europe/London", "LANG": "en_GB.UTF-8"}}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->app->user, "nobody");
  EXPECT_TRUE(c->app->allow_shared_user);
  EXPECT_EQ(c->app->env,
            (std::vector<std::string>{"LANG=en_GB.UTF-8", "TZ=Europe/London"}));
  for (const char* bad :
       {R"({"app": {"command": ["/x"], "env": {"HOME": "/root"}}})",
        R"({"app": {"command": ["/x"], "env": {"WARDEN_APP_FD": "4"}}})",
        R"({"app": {"command": ["/x"], "env": {"A-B": "c"}}})",
        R"({"app": {"command": ["/x"], "env": {"": "c"}}})",
        R"({"app": {"command": ["/x"], "env": {"TZ": 1}}})",
        R"({"app": {"command": ["/x"], "allow_shared_user": "yes"}})"}) {
    EXPECT_FALSE(ParseConfig(bad).ok()) << bad;
  }
  auto home =
      ParseConfig(R"({"app": {"command": ["/x"], "env": {"HOME": "/root"}}})");
  EXPECT_NE(home.status().message().find("/app/env/HOME"), std::string::npos)
      << home.status().message();
}

TEST(ConfigTest, RefusesWhatItDoesNotKnow) {
  EXPECT_FALSE(ParseConfig(R"({"listen": "0.0.0.0:80", "debug": true})").ok());
  EXPECT_FALSE(ParseConfig(R"({"app": {"command": []}})").ok());
  EXPECT_FALSE(ParseConfig(R"({"app": {"command": ["relative"]}})").ok());
  EXPECT_FALSE(
      ParseConfig(R"({"app": {"command": ["/x"], "user": "Root!"}})").ok());
  EXPECT_FALSE(ParseConfig(R"({"listen": "localhost:80"})").ok());
  EXPECT_FALSE(ParseConfig("[").ok());
}

TEST(ConfigTest, ServerLimits) {
  auto defaults = ParseConfig("{}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->server.max_connections, 64u);
  EXPECT_EQ(defaults->server.max_connections_per_address, 8u);
  EXPECT_EQ(defaults->server.request_timeout, std::chrono::seconds(15));
  auto c = ParseConfig(R"({"server": {"max_connections": 16,
      "max_connections_per_address": 2, "handshake_timeout_seconds": 5,
      "request_timeout_seconds": 7, "idle_timeout_seconds": 120}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.max_connections, 16u);
  EXPECT_EQ(c->server.max_connections_per_address, 2u);
  EXPECT_EQ(c->server.handshake_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c->server.request_timeout, std::chrono::seconds(7));
  EXPECT_EQ(c->server.idle_timeout, std::chrono::seconds(120));
  EXPECT_FALSE(ParseConfig(R"({"server": {"max_connections": 0}})").ok());
  EXPECT_FALSE(
      ParseConfig(R"({"server": {"request_timeout_seconds": 86400}})").ok());
  EXPECT_FALSE(ParseConfig(R"({"server": {"max_connections": 4,
      "max_connections_per_address": 5}})")
                   .ok());
  EXPECT_FALSE(ParseConfig(R"({"server": {"backlog": 5}})").ok());
}

TEST(ConfigTest, PublicUrlAndPairingDelay) {
  auto c = ParseConfig(R"({"public_url": "https://thermo.local:8443/",
                          "pairing": {"max_delay_seconds": 5}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->public_url, "https://thermo.local:8443/");
  EXPECT_EQ(c->pairing_max_delay_seconds, 5);
  EXPECT_FALSE(ParseConfig(R"({"pairing": {"max_delay_seconds": 0}})").ok());
  EXPECT_FALSE(ParseConfig(R"({"pairing": {"max_delay_seconds": 61}})").ok());
  EXPECT_FALSE(ParseConfig(R"({"pairing": {"lockout": 1}})").ok());
  for (const char* bad :
       {"http://thermo.local", "https://", "https://a b", "https://x?q=1",
        "https://user@x", "https://x:0", "https://x:99999", "https://[::1",
        "https://-x.example", "https://x/#frag"}) {
    EXPECT_FALSE(CheckPublicUrl(bad).ok()) << bad;
  }
  for (const char* good :
       {"https://thermo.local", "https://192.168.1.20:8443",
        "https://[fe80::1]:8443", "https://dev.example/warden/"}) {
    EXPECT_TRUE(CheckPublicUrl(good).ok()) << good;
  }
}

TEST(ConfigTest, SecurityTxtUrlIsNeverTheBoundWildcard) {
  EXPECT_EQ(SecurityTxtUrl(std::nullopt, "thermo-0001", 8443),
            "https://thermo-0001:8443/.well-known/security.txt");
  EXPECT_EQ(SecurityTxtUrl(std::string("https://thermo.local:9443/"),
                           "thermo-0001", 8443),
            "https://thermo.local:9443/.well-known/security.txt");
  // A host name that is no DNS name falls back to localhost.
  EXPECT_EQ(SecurityTxtUrl(std::nullopt, "bad name!", 1),
            "https://localhost:1/.well-known/security.txt");
  EXPECT_EQ(SecurityTxtUrl(std::nullopt, "", 1),
            "https://localhost:1/.well-known/security.txt");
}

TEST(ConfigTest, ListenAddresses) {
  auto a = ParseListenAddress("127.0.0.1:8443");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->address, "127.0.0.1");
  EXPECT_EQ(a->port, 8443);
  EXPECT_EQ(ParseListenAddress("[::1]:0")->address, "::1");
  EXPECT_FALSE(ParseListenAddress("127.0.0.1").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:65536").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:-1").ok());
  EXPECT_FALSE(ParseListenAddress("999.0.0.1:80").ok());
}

TEST(ConfigTest, AnUpdateSectionWithDefaults) {
  auto c = ParseConfig(R"({"update": {"root": "/etc/root.json",
      "hardware_model": "thermostat-v1", "slots": {"dir": "/var/boot"}}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(c->update.has_value());
  EXPECT_EQ(c->update->factory_version, "1.0.0");
  EXPECT_TRUE(c->update->automatic);
  EXPECT_TRUE(c->update->slots.simulate_boot);
  EXPECT_EQ(c->update->check_interval, std::chrono::seconds(86400));
  EXPECT_EQ(c->update->max_defer_hours, 336);
}

TEST(ConfigTest, BadUpdateValuesAreRefusedNamingTheMember) {
  const std::string base =
      R"("root": "/r.json", "hardware_model": "m1", "slots": {"dir": "/b"})";
  struct Case {
    std::string update;
    std::string member;
  };
  for (
      const Case& bad : std::vector<Case>{
          {R"("repository": "http://plain.example/repo", )" + base,
           "/update/repository"},
          {R"("hardware_model": "Thermo", "root": "/r", "slots": {"dir": "/b"})",
           "/update/hardware_model"},
          {R"("check_interval_seconds": 5, )" + base,
           "/update/check_interval_seconds"},
          {R"("check_interval_seconds": 600, "check_jitter_seconds": 601, )" +
               base,
           "/update/check_jitter_seconds"},
          {R"("max_defer_hours": 9000, )" + base, "/update/max_defer_hours"},
          {R"("root": "/r", "hardware_model": "m1", "slots": {})",
           "/update/slots"},
          {R"("health_command": ["relative"], )" + base,
           "/update/health_command/0"},
          {R"("factory_version": "one", )" + base, "/update/factory_version"},
      }) {
    auto c = ParseConfig("{\"update\": {" + bad.update + "}}");
    ASSERT_FALSE(c.ok()) << bad.update;
    EXPECT_NE(c.status().message().find(bad.member), std::string::npos)
        << c.status().message();
  }
}

TEST(ConfigTest, KeystoreDefaultsToTheFileBackendUnderTheStateDirectory) {
  auto c = ParseConfig("{}");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->keystore.backend, KeystoreConfig::Backend::kFile);
  EXPECT_TRUE(c->keystore.dir.empty());
  EXPECT_TRUE(c->keystore.kek_file.empty());
}

TEST(ConfigTest, KeystoreSettingsOfEachBackendAreRead) {
  auto p = ParseConfig(R"({"keystore": {"backend": "pkcs11",
      "dir": "/var/lib/k", "module": "/usr/lib/softhsm/libsofthsm2.so",
      "token": "unit", "pin_env": "UNIT_PIN"}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->keystore.backend, KeystoreConfig::Backend::kPkcs11);
  EXPECT_EQ(p->keystore.dir, "/var/lib/k");
  EXPECT_EQ(p->keystore.module, "/usr/lib/softhsm/libsofthsm2.so");
  EXPECT_EQ(p->keystore.token, "unit");
  EXPECT_EQ(p->keystore.pin_env, "UNIT_PIN");
  auto t = ParseConfig(
      R"({"keystore": {"backend": "tpm", "tcti": "swtpm:port=2321"}})");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->keystore.backend, KeystoreConfig::Backend::kTpm);
  EXPECT_EQ(t->keystore.tcti, "swtpm:port=2321");
  EXPECT_EQ(t->keystore.max_nv_indices, 32u);
  auto n =
      ParseConfig(R"({"keystore": {"backend": "tpm", "max_nv_indices": 8}})");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->keystore.max_nv_indices, 8u);
  auto f = ParseConfig(R"({"keystore": {"backend": "file",
      "kek_file": "/etc/warden/kek", "binding_file": "/etc/machine-id"}})");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->keystore.kek_file, "/etc/warden/kek");
  EXPECT_EQ(f->keystore.binding_file, "/etc/machine-id");
}

// A setting the chosen backend does not use would be ignored: an operator
// who named a token under "file" would believe the keys were in it.
TEST(ConfigTest, BadKeystoreSettingsAreRefusedNamingTheMember) {
  struct Case {
    std::string keystore;
    std::string member;
  };
  for (const Case& bad : std::vector<Case>{
           {R"("backend": "hsm")", "/keystore/backend"},
           {R"("dir": "/k")", "backend"},
           {R"("backend": "file", "module": "/m.so")", "/keystore/module"},
           {R"("backend": "file", "tcti": "device:/dev/tpm0")",
            "/keystore/tcti"},
           {R"("backend": "tpm", "kek_file": "/k")", "/keystore/kek_file"},
           {R"("backend": "file", "max_nv_indices": 8)",
            "/keystore/max_nv_indices"},
           {R"("backend": "tpm", "max_nv_indices": 0)",
            "/keystore/max_nv_indices"},
           {R"("backend": "tpm", "max_nv_indices": 65537)",
            "/keystore/max_nv_indices"},
           {R"("backend": "pkcs11", "token": "t")", "/keystore/module"},
           {R"("backend": "pkcs11", "module": "/m.so")", "/keystore/token"},
           {R"("backend": "pkcs11", "module": "m.so", "token": "t")",
            "/keystore/module"},
           {R"("backend": "pkcs11", "module": "/m.so", "token": "t",
               "pin_env": "pin")",
            "/keystore/pin_env"},
           {R"("backend": "file", "dir": "keystore")", "/keystore/dir"},
           {R"("backend": "file", "colour": "red")", "colour"},
       }) {
    auto c = ParseConfig("{\"keystore\": {" + bad.keystore + "}}");
    ASSERT_FALSE(c.ok()) << bad.keystore;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
    EXPECT_NE(c.status().message().find(bad.member), std::string::npos)
        << bad.keystore << ": " << c.status().message();
  }
}

}  // namespace
}  // namespace warden::daemon
