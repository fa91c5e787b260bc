// Fuzzes the owner API's request path: raw bytes through the HTTP parser
// with wardend's limits, then into the DeviceService exactly as the TLS
// server hands requests over (an unpaired device without an app). The
// clock moves two hours before every input, so the login and pairing
// throttles of earlier inputs have run out and every input reaches the
// body checks and the handlers.
// Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>

#include "api/device_service.h"
#include "api/testing/test_facts.h"

using namespace warden;
namespace http = boost::beast::http;

namespace {

struct Fixture {
  FakeClock clock;
  events::Bus bus{clock};
  std::unique_ptr<store::StateStore> store;
  std::unique_ptr<api::DeviceService> service;

  Fixture() {
    char tmpl[] = "/tmp/warden-fuzz-http-XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    store = std::move(*store::StateStore::Open(dir + "/state.db"));
    api::DeviceFacts facts =
        api::testing::MakeTestFacts("SN-FUZZ", 24681357, Bytes(16, 1));
    api::ServiceOptions options;
    options.password_hash = auth::MinimumHashParams();
    service = std::make_unique<api::DeviceService>(
        facts, *store, nullptr, clock, SystemRng(), options, bus);
    if (!service->Init().ok()) std::abort();
    std::filesystem::remove_all(dir);  // the open database stays usable
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();
  fixture->clock.Advance(std::chrono::hours(2));
  const api::HttpLimits& limits = fixture->service->limits();
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(limits.header_bytes));
  parser.body_limit(limits.body_bytes);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  api::Request request = parser.release();
  if (request.target().size() > limits.target_bytes) return 0;

  api::Peer peer;
  peer.address = "127.0.0.1";
  peer.exporter = []() -> Result<Bytes> { return Bytes(32, 5); };
  boost::asio::io_context io;
  bool answered = false;
  boost::asio::co_spawn(
      io, fixture->service->Handle(std::move(request), peer),
      [&](std::exception_ptr e, api::Response r) {
        if (e) std::abort();
        // An unpaired device never grants owner access.
        if (r.result() == http::status::ok &&
            r.body().find("\"paired\":false") == std::string::npos &&
            fixture->store->IsPaired().value_or(false)) {
          std::abort();
        }
        answered = true;
      });
  io.run();
  if (!answered) std::abort();
  return 0;
}
