// The owner's TLS connection against the real device (api::Server and
// api::DeviceService of a freshly provisioned unit, in this process), and
// against a scripted peer for what no real device does: silence, floods,
// hanging up mid-reply.
#include "client/connection.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "api/testing/scripted_peer.h"
#include "api/testing/test_device.h"
#include "base/clock.h"
#include "client/home.h"

namespace warden::client {
namespace {

using api::testing::PeerScript;
using api::testing::ScriptedPeer;
using api::testing::TestDevice;
using Behaviour = PeerScript::Behaviour;
using std::chrono::milliseconds;

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    home_ = ::testing::TempDir() + "warden-conn-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(home_);
    FakeClock clock(std::chrono::system_clock::now());
    owner_.emplace(LoadOrCreateOwnerIdentity(home_, clock).value());
  }
  void TearDown() override { std::filesystem::remove_all(home_); }

  ConnectOptions Options(std::optional<std::string> pin) {
    ConnectOptions o;
    o.pinned_fingerprint = std::move(pin);
    o.client_key = &owner_->key;
    o.client_certificate = &owner_->certificate;
    return o;
  }

  static std::unique_ptr<TestDevice> Device(const std::string& serial) {
    api::testing::TestDeviceOptions options;
    options.serial = serial;
    auto device = TestDevice::Start(options);
    EXPECT_TRUE(device.ok()) << device.status().ToString();
    return device.ok() ? std::move(device).value() : nullptr;
  }

  static std::unique_ptr<ScriptedPeer> Peer(Behaviour behaviour,
                                            std::string reply = "") {
    auto peer = ScriptedPeer::Start({behaviour, std::move(reply)});
    EXPECT_TRUE(peer.ok()) << peer.status().ToString();
    return peer.ok() ? std::move(peer).value() : nullptr;
  }

  static web::Url UrlOf(const std::string& text) {
    return web::ParseUrl(text).value();
  }

  std::string home_;
  std::optional<OwnerIdentity> owner_;
};

TEST_F(ConnectionTest, PinnedDeviceAnswersOnOneKeptAliveConnection) {
  auto device = Device("SN-CONN-1");
  ASSERT_NE(device, nullptr);
  Result<Connection> conn =
      Connection::Open(UrlOf(device->url()), Options(device->fingerprint()));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ(conn->peer_fingerprint(), device->fingerprint());
  EXPECT_EQ(conn->peer_certificate().subject_serial_number(), "SN-CONN-1");

  Result<web::Response> info = conn->Request(http::verb::get, "/v1/info");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->result(), http::status::ok);
  EXPECT_NE(info->body().find("\"serial\":\"SN-CONN-1\""), std::string::npos);
  Result<web::Response> txt =
      conn->Request(http::verb::get, "/.well-known/security.txt");
  ASSERT_TRUE(txt.ok()) << txt.status().ToString();
  EXPECT_NE(txt->body().find("Contact: mailto:security@acme.example"),
            std::string::npos);
  // An error reply is a reply, not a transport failure.
  Result<web::Response> missing = conn->Request(http::verb::get, "/v1/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->result(), http::status::not_found);
  conn->Close();
  // All three on the one connection: the owner's certificate went out once.
  ASSERT_TRUE(device->WaitForIdle());
  EXPECT_EQ(device->wire().client_certificates, 1);
}

TEST_F(ConnectionTest, ADeviceWithAnotherCertificateIsRefusedBeforeAnything) {
  auto mine = Device("SN-MINE");
  auto other = Device("SN-OTHER");
  ASSERT_NE(mine, nullptr);
  ASSERT_NE(other, nullptr);
  // The other unit answers where mine used to: pinned to mine, refused.
  Result<Connection> conn =
      Connection::Open(UrlOf(other->url()), Options(mine->fingerprint()));
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Code::kUnauthenticated);
  EXPECT_NE(conn.status().message().find("device certificate changed"),
            std::string::npos)
      << conn.status().message();
  EXPECT_NE(conn.status().message().find(other->fingerprint()),
            std::string::npos);
  // The handshake stopped before our certificate or a byte of HTTP left.
  ASSERT_TRUE(other->WaitForIdle());
  EXPECT_EQ(other->wire().client_certificates, 0);
  EXPECT_EQ(other->wire().application_records, 0);

  // The same counters do see both on the right device.
  Result<Connection> ok =
      Connection::Open(UrlOf(mine->url()), Options(mine->fingerprint()));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_TRUE(ok->Request(http::verb::get, "/v1/info").ok());
  ok->Close();
  ASSERT_TRUE(mine->WaitForIdle());
  EXPECT_EQ(mine->wire().client_certificates, 1);
  EXPECT_GT(mine->wire().application_records, 0);
}

TEST_F(ConnectionTest, HeaderInjectionIsRefusedAndTheConnectionStaysUsable) {
  auto device = Device("SN-CONN-2");
  ASSERT_NE(device, nullptr);
  Result<Connection> conn =
      Connection::Open(UrlOf(device->url()), Options(device->fingerprint()));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  EXPECT_EQ(conn->Request(http::verb::get, "/x\r\nEvil: 1").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(conn->Request(http::verb::get, "relative").status().code(),
            Code::kInvalidArgument);
  for (const Headers& bad :
       {Headers{{"X-A", "1\r\nB: 2"}}, Headers{{"Host", "evil"}},
        Headers{{"Content-Length", "5"}}, Headers{{"X\nY", "1"}},
        Headers{{"Transfer-Encoding", "chunked"}}}) {
    EXPECT_EQ(conn->Request(http::verb::get, "/v1/info", std::nullopt, bad)
                  .status()
                  .code(),
              Code::kInvalidArgument);
  }
  Result<web::Response> r = conn->Request(http::verb::get, "/v1/info");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->result(), http::status::ok);
}

TEST_F(ConnectionTest, AStoppedDeviceIsUnavailable) {
  auto device = Device("SN-CONN-3");
  ASSERT_NE(device, nullptr);
  std::string url = device->url();
  device->Stop();
  Result<Connection> conn =
      Connection::Open(UrlOf(url), Options(device->fingerprint()));
  EXPECT_EQ(conn.status().code(), Code::kUnavailable)
      << conn.status().ToString();
}

TEST_F(ConnectionTest, APeerThatNeverAnswersTheHandshakeTimesOut) {
  auto peer = Peer(Behaviour::kNoTls);
  ASSERT_NE(peer, nullptr);
  ConnectOptions o = Options(peer->fingerprint());
  o.connect_timeout = milliseconds(300);
  Result<Connection> conn = Connection::Open(UrlOf(peer->url()), o);
  EXPECT_EQ(conn.status().code(), Code::kDeadlineExceeded)
      << conn.status().ToString();
  EXPECT_NE(conn.status().message().find("300 ms"), std::string::npos);
}

TEST_F(ConnectionTest, APeerThatNeverRepliesTimesOutAndTheConnectionCloses) {
  auto peer = Peer(Behaviour::kSilent);
  ASSERT_NE(peer, nullptr);
  ConnectOptions o = Options(peer->fingerprint());
  o.io_timeout = milliseconds(300);
  Result<Connection> conn = Connection::Open(UrlOf(peer->url()), o);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  Result<web::Response> r = conn->Request(http::verb::get, "/v1/info");
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("did not answer within 300 ms"),
            std::string::npos);
  EXPECT_EQ(peer->requests(), 1);
  EXPECT_EQ(conn->Request(http::verb::get, "/v1/info").status().code(),
            Code::kUnavailable);
}

TEST_F(ConnectionTest, OversizedRepliesStopTheRead) {
  const web::HttpLimits limits = web::DeviceReplyLimits();
  struct Case {
    const char* what;
    Behaviour behaviour;
    std::string reply;
  };
  const Case cases[] = {
      {"announced body", Behaviour::kReply,
       "HTTP/1.1 200 OK\r\nContent-Length: " +
           std::to_string(limits.body_bytes + 1) + "\r\n\r\n"},
      {"header", Behaviour::kReply,
       "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(limits.header_bytes, 'a') +
           "\r\nContent-Length: 0\r\n\r\n"},
      {"header fields", Behaviour::kReply,
       [&] {
         std::string r = "HTTP/1.1 200 OK\r\n";
         for (size_t i = 0; i <= limits.header_fields; ++i) {
           r += "X-" + std::to_string(i) + ": 1\r\n";
         }
         return r + "Content-Length: 0\r\n\r\n";
       }()},
      {"endless chunked body", Behaviour::kEndless,
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto peer = Peer(c.behaviour, c.reply);
    ASSERT_NE(peer, nullptr);
    ConnectOptions o = Options(peer->fingerprint());
    // Long enough that only the limit can end the endless body in time.
    o.io_timeout = milliseconds(60000);
    Result<Connection> conn = Connection::Open(UrlOf(peer->url()), o);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    Result<web::Response> r = conn->Request(http::verb::get, "/v1/state");
    EXPECT_EQ(r.status().code(), Code::kResourceExhausted)
        << r.status().ToString();
    // The connection is closed after a transport error.
    EXPECT_EQ(conn->Request(http::verb::get, "/v1/info").status().code(),
              Code::kUnavailable);
  }
}

TEST_F(ConnectionTest, APeerHangingUpMidReplyIsUnavailable) {
  struct Case {
    const char* what;
    std::string reply;
    const char* message;
  };
  const Case cases[] = {
      {"body cut short",
       "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"state\":",
       "closed the connection mid-response"},
      {"header cut short", "HTTP/1.1 200 OK\r\nContent-Le",
       "closed the connection mid-response"},
      {"nothing", "", "closed the connection before answering"},
      {"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n\r\n", "malformed HTTP"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto peer = Peer(Behaviour::kReply, c.reply);
    ASSERT_NE(peer, nullptr);
    Result<Connection> conn =
        Connection::Open(UrlOf(peer->url()), Options(peer->fingerprint()));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    Result<web::Response> r = conn->Request(http::verb::get, "/v1/state");
    EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << r.status().message();
  }
}

TEST_F(ConnectionTest, ATls12OnlyPeerIsRefused) {
  PeerScript script{Behaviour::kSilent, ""};
  script.tls12_only = true;
  auto peer = ScriptedPeer::Start(script);
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  Result<Connection> conn =
      Connection::Open(UrlOf((*peer)->url()), Options((*peer)->fingerprint()));
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Code::kUnavailable)
      << conn.status().ToString();
  EXPECT_NE(conn.status().message().find("TLS 1.3 handshake"),
            std::string::npos);
  EXPECT_EQ((*peer)->requests(), 0);
}

}  // namespace
}  // namespace warden::client
