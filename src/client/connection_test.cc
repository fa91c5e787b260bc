// The client's TLS rules against a real OpenSSL server on 127.0.0.1.
#include "client/connection.h"

#include <gtest/gtest.h>

#include <csignal>

#include "base/clock.h"
#include "client/home.h"
#include "client/tls_test_server.h"

namespace warden::client {
namespace {

using testing::MakeServerIdentity;
using testing::TestRequest;
using testing::TestResponse;
using testing::TlsTestServer;

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/warden_conn_test_XXXXXX";
    home_ = mkdtemp(tmpl);
    FakeClock clock(std::chrono::system_clock::now());
    owner_.emplace(LoadOrCreateOwnerIdentity(home_, clock).value());
  }
  void TearDown() override { std::system(("rm -rf '" + home_ + "'").c_str()); }

  ConnectOptions Options(std::optional<std::string> pin) {
    ConnectOptions o;
    o.pinned_fingerprint = std::move(pin);
    o.client_key = &owner_->key;
    o.client_certificate = &owner_->certificate;
    return o;
  }

  static Url Local(uint16_t port) {
    return ParseUrl("https://127.0.0.1:" + std::to_string(port)).value();
  }

  std::string home_;
  std::optional<OwnerIdentity> owner_;
};

TestResponse Echo(const TestRequest& req, SSL*) {
  return {200, schema::Json{{"method", req.method},
                            {"target", req.target},
                            {"body", req.body}}
                   .dump()};
}

TEST_F(ConnectionTest, PinnedCertificateIsAcceptedAndOwnerCertPresented) {
  auto device = MakeServerIdentity("SN-1");
  TlsTestServer server({&device.key, &device.cert}, Echo);
  uint16_t port = server.Start();
  ASSERT_NE(port, 0);

  Result<Connection> conn =
      Connection::Open(Local(port), Options(device.cert.Fingerprint()));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ(conn->peer_fingerprint(), device.cert.Fingerprint());

  // Several requests on one keep-alive connection.
  Result<HttpResponse> r1 = conn->Request("GET", "/v1/info");
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->Json().value()["target"], "/v1/info");
  Result<HttpResponse> r2 =
      conn->Request("PUT", "/v1/state/x", schema::Json{{"value", 1}});
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->Json().value()["body"], R"({"value":1})");
  conn->Close();
  server.Stop();

  EXPECT_EQ(server.requests_served(), 2);
  // Mutual TLS: the device saw the owner's certificate.
  EXPECT_EQ(server.client_cert_fingerprint(),
            owner_->certificate.Fingerprint());
}

TEST_F(ConnectionTest, DifferentCertificateIsRefusedBeforeAnythingIsSent) {
  auto device = MakeServerIdentity("SN-1");
  auto impostor = MakeServerIdentity("SN-1");
  TlsTestServer server({&impostor.key, &impostor.cert}, Echo);
  uint16_t port = server.Start();
  ASSERT_NE(port, 0);

  Result<Connection> conn =
      Connection::Open(Local(port), Options(device.cert.Fingerprint()));
  server.Stop();
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Code::kUnauthenticated);
  EXPECT_NE(conn.status().message().find("device certificate changed"),
            std::string::npos)
      << conn.status().message();
  EXPECT_EQ(server.app_bytes_received(), 0u);
  EXPECT_EQ(server.requests_served(), 0);
  // The handshake was cut before the owner's certificate went out.
  EXPECT_EQ(server.client_cert_fingerprint(), "");
}

TEST_F(ConnectionTest, UnpinnedConnectionReportsTheCertificateSeen) {
  auto device = MakeServerIdentity("SN-2");
  TlsTestServer server({&device.key, &device.cert}, Echo);
  uint16_t port = server.Start();
  ASSERT_NE(port, 0);
  Result<Connection> conn =
      Connection::Open(Local(port), Options(std::nullopt));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ(conn->peer_fingerprint(), device.cert.Fingerprint());
  EXPECT_EQ(conn->peer_certificate().subject_serial_number(), "SN-2");
  conn->Close();
}

TEST_F(ConnectionTest, Tls12OnlyServerIsRefused) {
  auto device = MakeServerIdentity("SN-1");
  TlsTestServer::Options o{&device.key, &device.cert};
  o.tls12_only = true;
  TlsTestServer server(o, Echo);
  uint16_t port = server.Start();
  ASSERT_NE(port, 0);
  Result<Connection> conn =
      Connection::Open(Local(port), Options(device.cert.Fingerprint()));
  server.Stop();
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Code::kUnavailable)
      << conn.status().ToString();
  EXPECT_EQ(server.handshakes_completed(), 0);
  EXPECT_EQ(server.app_bytes_received(), 0u);
}

TEST_F(ConnectionTest, ExporterMatchesTheServersValue) {
  auto device = MakeServerIdentity("SN-1");
  Bytes server_value;
  TlsTestServer server(
      {&device.key, &device.cert}, [&](const TestRequest&, SSL* ssl) {
        server_value.resize(32);
        SSL_export_keying_material(ssl, server_value.data(), 32,
                                   "EXPORTER-test", 13, nullptr, 0, 0);
        return TestResponse{200, "{}"};
      });
  uint16_t port = server.Start();
  ASSERT_NE(port, 0);
  Result<Connection> conn =
      Connection::Open(Local(port), Options(std::nullopt));
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn->Request("GET", "/").ok());
  Result<Bytes> mine = conn->ExportKeyingMaterial("EXPORTER-test", 32);
  conn->Close();
  server.Stop();
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(*mine, server_value);
}

TEST_F(ConnectionTest, OversizedOrMalformedResponsesAreErrors) {
  auto device = MakeServerIdentity("SN-1");
  int n = 0;
  TlsTestServer::Options o{&device.key, &device.cert};
  o.max_connections = 2;
  TlsTestServer server(o, [&](const TestRequest&, SSL*) {
    TestResponse r;
    if (n++ == 0) {
      r.raw = "HTTP/1.1 200 OK\r\nContent-Length: " +
              std::to_string(kMaxResponseBody + 1) + "\r\n\r\n";
    } else {
      r.raw = "HTTP/1.1 abc\r\n\r\n";
    }
    return r;
  });
  uint16_t port = server.Start();
  ASSERT_NE(port, 0);
  {
    Result<Connection> conn =
        Connection::Open(Local(port), Options(device.cert.Fingerprint()));
    ASSERT_TRUE(conn.ok());
    Result<HttpResponse> r = conn->Request("GET", "/big");
    EXPECT_EQ(r.status().code(), Code::kResourceExhausted)
        << r.status().ToString();
    // The connection is closed after a transport error.
    EXPECT_FALSE(conn->Request("GET", "/").ok());
  }
  {
    Result<Connection> conn =
        Connection::Open(Local(port), Options(device.cert.Fingerprint()));
    ASSERT_TRUE(conn.ok());
    Result<HttpResponse> r = conn->Request("GET", "/bad");
    EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  }
  server.Stop();
}

TEST_F(ConnectionTest, NothingListeningIsUnavailable) {
  // Bind and close to find a port nobody listens on.
  auto device = MakeServerIdentity("SN-1");
  uint16_t port;
  {
    TlsTestServer server({&device.key, &device.cert}, Echo);
    port = server.Start();
    ASSERT_NE(port, 0);
    Result<Connection> c = Connection::Open(Local(port), Options(std::nullopt));
    ASSERT_TRUE(c.ok());
  }
  Result<Connection> conn =
      Connection::Open(Local(port), Options(std::nullopt));
  EXPECT_EQ(conn.status().code(), Code::kUnavailable);
}

TEST_F(ConnectionTest, HeaderInjectionIsRefused) {
  auto device = MakeServerIdentity("SN-1");
  TlsTestServer server({&device.key, &device.cert}, Echo);
  uint16_t port = server.Start();
  ASSERT_NE(port, 0);
  Result<Connection> conn =
      Connection::Open(Local(port), Options(std::nullopt));
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->Request("GET", "/x\r\nEvil: 1").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(conn->Request("GET", "/x", std::nullopt, {{"X-A", "1\r\nB: 2"}})
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(conn->Request("GET", "/x").ok());
  conn->Close();
}

}  // namespace
}  // namespace warden::client
