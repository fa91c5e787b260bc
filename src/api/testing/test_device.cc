#include "api/testing/test_device.h"

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/rng.h"
#include "events/bus.h"
#include "provision/device.h"
#include "provision/maker.h"
#include "provision/provision.h"
#include "store/state_store.h"

namespace warden::api::testing {

namespace asio = boost::asio;

ServiceOptions FastServiceOptions() {
  ServiceOptions options;
  options.password_hash = auth::MinimumHashParams();
  return options;
}

struct TestDevice::Impl {
  std::string dir;
  std::string state_dir;
  provision::ProvisionResult unit;
  uint16_t port = 0;

  asio::io_context io{1};
  events::Bus bus{SystemClock()};
  std::unique_ptr<store::StateStore> store;
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<DeviceService> service;
  std::unique_ptr<Server> server;
  std::thread thread;
  bool stopped = false;

  mutable std::mutex mu;
  std::vector<std::string> events;
  std::atomic<int> client_certificates{0};
  std::atomic<int> application_records{0};

  ~Impl() {
    Stop();
    server.reset();
    service.reset();
    store.reset();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }

  void Stop() {
    if (stopped) return;
    stopped = true;
    if (thread.joinable()) {
      asio::post(io, [this] {
        server->Stop();
        io.stop();
      });
      thread.join();
    }
  }

  // Sees every TLS record and handshake message the server reads or writes.
  static void OnMessage(int write_p, int, int content_type, const void* buf,
                        size_t len, SSL*, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    if (write_p != 0 || len == 0) return;
    const auto* bytes = static_cast<const unsigned char*>(buf);
    if (content_type == SSL3_RT_HANDSHAKE && bytes[0] == SSL3_MT_CERTIFICATE) {
      ++self->client_certificates;
    }
    if (content_type == SSL3_RT_INNER_CONTENT_TYPE &&
        bytes[0] == SSL3_RT_APPLICATION_DATA) {
      ++self->application_records;
    }
  }
};

namespace {

Result<std::string> MakeTempDir() {
  Bytes suffix(8);
  WARDEN_TRY(SystemRng().Fill(suffix));
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("warden-test-device-" + HexEncode(suffix));
  std::error_code ec;
  if (!std::filesystem::create_directory(path, ec) || ec) {
    return IoError("cannot create " + path.string() + ": " + ec.message());
  }
  return path.string();
}

}  // namespace

Result<std::unique_ptr<TestDevice>> TestDevice::Start(
    TestDeviceOptions options) {
  auto impl = std::make_unique<Impl>();
  WARDEN_ASSIGN_OR_RETURN(impl->dir, MakeTempDir());
  Clock& clock = SystemClock();

  std::string maker_dir = impl->dir + "/maker";
  provision::MakerSettings maker;
  maker.name = "Acme Test";
  maker.contact = "mailto:security@acme.example";
  maker.policy_url = "https://acme.example/security";
  WARDEN_TRY(provision::InitMaker(maker_dir, maker, clock));
  impl->state_dir = impl->dir + "/unit";
  provision::ProvisionRequest request{options.serial, "Thermo Test", "1.0.0"};
  WARDEN_ASSIGN_OR_RETURN(
      impl->unit, provision::ProvisionUnit(maker_dir, request, impl->state_dir,
                                           clock, SystemRng()));

  WARDEN_ASSIGN_OR_RETURN(provision::DeviceIdentity device,
                          provision::LoadDevice(impl->state_dir));
  WARDEN_ASSIGN_OR_RETURN(
      impl->store, store::StateStore::Open(impl->state_dir + "/state.db"));
  WARDEN_ASSIGN_OR_RETURN(
      impl->tls,
      MakeServerTlsContext(device.key, device.certificate, device.ca));
  SSL_CTX* ctx = impl->tls->native_handle();
  SSL_CTX_set_msg_callback(ctx, &Impl::OnMessage);
  SSL_CTX_set_msg_callback_arg(ctx, impl.get());

  Impl* raw = impl.get();
  impl->bus.Subscribe([raw](const events::Event& e) {
    std::lock_guard<std::mutex> lock(raw->mu);
    raw->events.emplace_back(e.kind().name);
  });

  DeviceFacts facts;
  facts.info = device.info;
  facts.verifier =
      pairing::VerifierParams{device.info.serial, device.w0.bytes(), device.L,
                              device.salt, device.iterations};
  facts.certificate_fingerprint = device.certificate.Fingerprint();
  impl->service = std::make_unique<DeviceService>(
      std::move(facts), *impl->store, nullptr, clock, SystemRng(),
      options.service, impl->bus);
  WARDEN_TRY(impl->service->Init());
  impl->server = std::make_unique<Server>(impl->io, *impl->tls, *impl->service,
                                          options.server, impl->bus);
  WARDEN_TRY(impl->server->Listen(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
  impl->port = impl->server->local_endpoint().port();
  impl->service->set_canonical_url(
      "https://127.0.0.1:" + std::to_string(impl->port) +
      "/.well-known/security.txt");
  impl->server->Start();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<TestDevice>(new TestDevice(std::move(impl)));
}

TestDevice::TestDevice(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TestDevice::~TestDevice() = default;

uint16_t TestDevice::port() const { return impl_->port; }
std::string TestDevice::url() const {
  return "https://127.0.0.1:" + std::to_string(impl_->port);
}
uint32_t TestDevice::passcode() const { return impl_->unit.passcode; }
const std::string& TestDevice::manual_code() const {
  return impl_->unit.manual_code;
}
const std::string& TestDevice::serial() const {
  return impl_->unit.info.serial;
}
const std::string& TestDevice::fingerprint() const {
  return impl_->unit.certificate_fingerprint;
}
const std::string& TestDevice::state_dir() const { return impl_->state_dir; }

std::vector<std::string> TestDevice::EventNames() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->events;
}

int TestDevice::CountEvents(const std::string& kind) const {
  int n = 0;
  for (const std::string& e : EventNames()) n += e == kind;
  return n;
}

WireCounts TestDevice::wire() const {
  return {impl_->client_certificates.load(), impl_->application_records.load()};
}

bool TestDevice::WaitForIdle(std::chrono::milliseconds timeout) {
  if (impl_->stopped) return true;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::promise<size_t> open;
    asio::post(impl_->io,
               [&] { open.set_value(impl_->server->active_connections()); });
    if (open.get_future().get() == 0) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<bool> TestDevice::IsPaired() {
  if (impl_->stopped) return impl_->store->IsPaired();
  std::promise<Result<bool>> done;
  asio::post(impl_->io, [&] { done.set_value(impl_->store->IsPaired()); });
  return done.get_future().get();
}

void TestDevice::Stop() { impl_->Stop(); }

}  // namespace warden::api::testing
