#include "api/server.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <filesystem>

#include "api/testing/test_facts.h"
#include "crypto/x509.h"

namespace warden::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using ClientStream = beast::ssl_stream<beast::tcp_stream>;
using namespace std::chrono_literals;

// Long enough that a test relying on it would hang, not pass, if the
// server picked the wrong timer; tests end well before it.
constexpr std::chrono::milliseconds kForever = std::chrono::hours(1);
// How long a test waits for the server before it gives up.
constexpr std::chrono::seconds kTestDeadline{30};

struct Identity {
  crypto::PrivateKey key;
  crypto::Certificate certificate;
  crypto::Certificate ca;
};

Identity MakeIdentity() {
  auto now = std::chrono::system_clock::now();
  auto ca_key = *crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  crypto::CertificateRequest ca_request{
      .common_name = "Test CA",
      .subject_key = ca_key.public_key(),
      .not_before = now - 1h,
      .not_after = now + 24h,
      .is_ca = true,
  };
  auto ca = *crypto::IssueCertificate(ca_request, ca_key, nullptr);
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  crypto::CertificateRequest request{
      .common_name = "SN-TEST-1",
      .subject_key = key.public_key(),
      .not_before = now - 1h,
      .not_after = now + 24h,
      .ip_addresses = {"127.0.0.1"},
      .server_auth = true,
  };
  auto certificate = *crypto::IssueCertificate(request, ca_key, &ca);
  return {key, certificate, ca};
}

// A real Server on 127.0.0.1 and a client on the same io_context.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warden-server-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    store_ = std::move(*store::StateStore::Open(dir_ + "/state.db"));
    ServiceOptions options;
    options.password_hash = auth::MinimumHashParams();
    service_ = std::make_unique<DeviceService>(
        testing::MakeTestFacts("SN-TEST-1", 31415926, Bytes(16, 3)), *store_,
        nullptr, SystemClock(), SystemRng(), options, bus_);
    ASSERT_TRUE(service_->Init().ok());
    Identity id = MakeIdentity();
    auto tls = MakeServerTlsContext(id.key, id.certificate, id.ca);
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    server_tls_ = std::move(*tls);
    SSL_CTX_set_verify(client_tls_.native_handle(), SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_min_proto_version(client_tls_.native_handle(), TLS1_3_VERSION);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartServer(ServerOptions options) {
    server_ =
        std::make_unique<Server>(io_, *server_tls_, *service_, options, bus_);
    ASSERT_TRUE(
        server_->Listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0))
            .ok());
    server_->Start();
  }

  // Runs `client` against the server until it returns, or until the test
  // deadline passes (then `finished` stays false).
  void Run(std::function<asio::awaitable<void>(ClientStream&)> client) {
    finished_ = false;
    asio::co_spawn(
        io_,
        [this, client]() -> asio::awaitable<void> {
          ClientStream stream(beast::tcp_stream(io_), client_tls_);
          beast::error_code ec;
          co_await beast::get_lowest_layer(stream).async_connect(
              server_->local_endpoint(),
              asio::redirect_error(asio::use_awaitable, ec));
          EXPECT_FALSE(ec) << ec.message();
          co_await stream.async_handshake(
              asio::ssl::stream_base::client,
              asio::redirect_error(asio::use_awaitable, ec));
          EXPECT_FALSE(ec) << ec.message();
          if (!ec) co_await client(stream);
          finished_ = true;
          server_->Stop();
        },
        asio::detached);
    io_.run_for(kTestDeadline);
  }

  static asio::awaitable<void> Send(ClientStream& stream,
                                    std::string_view data) {
    beast::error_code ec;
    co_await asio::async_write(stream, asio::buffer(data),
                               asio::redirect_error(asio::use_awaitable, ec));
    EXPECT_FALSE(ec) << ec.message();
  }

  // The status of the next response, or 0 when the server closed instead.
  asio::awaitable<int> Receive(ClientStream& stream) {
    beast::error_code ec;
    http::response<http::string_body> res;
    co_await http::async_read(stream, buffer_, res,
                              asio::redirect_error(asio::use_awaitable, ec));
    co_return ec ? 0 : res.result_int();
  }

  // True once the server has closed the connection without a response.
  asio::awaitable<bool> ClosedByServer(ClientStream& stream) {
    co_return co_await Receive(stream) == 0;
  }

  asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
    asio::steady_timer timer(io_, d);
    co_await timer.async_wait(asio::use_awaitable);
  }

  static constexpr std::string_view kGetInfo =
      "GET /v1/info HTTP/1.1\r\nHost: device\r\n\r\n";

  std::string dir_;
  std::unique_ptr<store::StateStore> store_;
  events::Bus bus_{SystemClock()};
  std::unique_ptr<DeviceService> service_;
  asio::io_context io_;
  std::unique_ptr<asio::ssl::context> server_tls_;
  asio::ssl::context client_tls_{asio::ssl::context::tls_client};
  std::unique_ptr<Server> server_;
  beast::flat_buffer buffer_;
  bool finished_ = false;
};

TEST_F(ServerTest, EveryRequestOnAConnectionHasTheRequestTimer) {
  StartServer({.handshake_timeout = kForever,
               .request_timeout = 200ms,
               .idle_timeout = kForever});
  bool closed = false;
  Run([&](ClientStream& stream) -> asio::awaitable<void> {
    co_await Send(stream, kGetInfo);
    EXPECT_EQ(co_await Receive(stream), 200);
    // The second request starts and never ends: its own request timer, not
    // the connection's idle allowance, must end it.
    co_await Send(stream, "GET /v1/info HTTP/1.1\r\nHost: dev");
    closed = co_await ClosedByServer(stream);
  });
  ASSERT_TRUE(finished_) << "a stalled second request held the connection "
                            "for the idle time";
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, TheIdleTimerRunsUntilTheNextRequestStarts) {
  StartServer({.handshake_timeout = kForever,
               .request_timeout = 200ms,
               .idle_timeout = kForever});
  int second = 0;
  Run([&](ClientStream& stream) -> asio::awaitable<void> {
    co_await Send(stream, kGetInfo);
    EXPECT_EQ(co_await Receive(stream), 200);
    // Resting between requests for longer than the request timer is what
    // keep-alive is for.
    co_await Sleep(1000ms);
    co_await Send(stream, kGetInfo);
    second = co_await Receive(stream);
  });
  ASSERT_TRUE(finished_);
  EXPECT_EQ(second, 200);
}

TEST_F(ServerTest, AKeptAliveConnectionIsClosedAfterTheIdleTime) {
  StartServer({.handshake_timeout = kForever,
               .request_timeout = kForever,
               .idle_timeout = 200ms});
  bool closed = false;
  Run([&](ClientStream& stream) -> asio::awaitable<void> {
    co_await Send(stream, kGetInfo);
    EXPECT_EQ(co_await Receive(stream), 200);
    closed = co_await ClosedByServer(stream);
  });
  ASSERT_TRUE(finished_) << "an idle connection was never closed";
  EXPECT_TRUE(closed);
}

TEST_F(ServerTest, ARequestTrickledInIsBoundedByTheRequestTimer) {
  StartServer({.handshake_timeout = kForever,
               .request_timeout = 500ms,
               .idle_timeout = kForever});
  bool closed = false;
  Run([&](ClientStream& stream) -> asio::awaitable<void> {
    co_await Send(stream, kGetInfo);
    EXPECT_EQ(co_await Receive(stream), 200);
    // One byte every 100 ms never trips a per-read timer; the request's
    // deadline must still end it.
    bool write_failed = false;
    for (int i = 0; i < 200 && !write_failed; ++i) {
      beast::error_code ec;
      co_await asio::async_write(stream, asio::buffer("G", 1),
                                 asio::redirect_error(asio::use_awaitable, ec));
      write_failed = static_cast<bool>(ec);
      if (!write_failed) co_await Sleep(100ms);
    }
    closed = write_failed || co_await ClosedByServer(stream);
  });
  ASSERT_TRUE(finished_);
  EXPECT_TRUE(closed);
}

// The sockets bound to the server's port (the listening one and the one it
// accepted) in this process, each with whether it closes at exec.
std::vector<bool> ServerSocketsCloseOnExec(uint16_t port) {
  std::vector<bool> out;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::stoi(entry.path().filename().string());
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        addr.sin_family != AF_INET || ntohs(addr.sin_port) != port) {
      continue;
    }
    out.push_back((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  }
  return out;
}

TEST_F(ServerTest, NoProgramTheDeviceStartsInheritsItsSockets) {
  StartServer({});
  uint16_t port = server_->local_endpoint().port();
  std::vector<bool> flags;
  Run([&](ClientStream& stream) -> asio::awaitable<void> {
    co_await Send(stream, kGetInfo);
    EXPECT_EQ(co_await Receive(stream), 200);
    flags = ServerSocketsCloseOnExec(port);
  });
  EXPECT_TRUE(finished_);
  // The listening socket and the accepted connection.
  ASSERT_EQ(flags.size(), 2u);
  EXPECT_TRUE(flags[0]);
  EXPECT_TRUE(flags[1]);
}

TEST(SourceKeyTest, IPv6SourcesAreCountedByTheirSlash64) {
  auto a = asio::ip::make_address("2001:db8:1:2:3:4:5:6");
  auto b = asio::ip::make_address("2001:db8:1:2:ffff::1");
  auto c = asio::ip::make_address("2001:db8:1:3::1");
  EXPECT_EQ(SourceKey(a), SourceKey(b));
  EXPECT_NE(SourceKey(a), SourceKey(c));
  EXPECT_EQ(SourceKey(a), "2001:db8:1:2::/64");
  EXPECT_EQ(SourceKey(asio::ip::make_address("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(SourceKey(asio::ip::make_address("192.0.2.7")), "192.0.2.7");
  EXPECT_NE(SourceKey(asio::ip::make_address("192.0.2.8")), "192.0.2.7");
}

}  // namespace
}  // namespace warden::api
