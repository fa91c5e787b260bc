// The HTTPS client against a real nginx (testing/test_nginx.h) on
// 127.0.0.1: downloads, resumes, limits, verification and errors.
#include "net/https_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/rng.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "net/testing/test_nginx.h"

namespace warden::net {
namespace {

using std::chrono::milliseconds;
using testing::TestNginx;
using testing::TestNginxOptions;

constexpr uint64_t kTiB = uint64_t{1} << 40;

// Holds the download in memory; fails like a power cut once it holds
// `fail_at` bytes.
class MemorySink : public DownloadSink {
 public:
  explicit MemorySink(std::string held = "",
                      size_t fail_at = std::numeric_limits<size_t>::max())
      : data_(std::move(held)), offset_(data_.size()), fail_at_(fail_at) {}
  uint64_t offset() const override { return offset_; }
  Status Write(ByteView bytes) override {
    ++writes_;
    size_t room = fail_at_ > data_.size() ? fail_at_ - data_.size() : 0;
    data_.append(reinterpret_cast<const char*>(bytes.data()),
                 std::min(room, bytes.size()));
    if (bytes.size() > room) return IoError("power cut");
    return Status::Ok();
  }
  Status Restart() override {
    ++restarts_;
    data_.clear();
    return Status::Ok();
  }
  const std::string& data() const { return data_; }
  int restarts() const { return restarts_; }
  int writes() const { return writes_; }

 private:
  std::string data_;
  uint64_t offset_;
  size_t fail_at_;
  int restarts_ = 0;
  int writes_ = 0;
};

// Appends to a file; what the file holds when the sink is made is the
// offset, as an updater's staging file after a restart.
class FileSink : public DownloadSink {
 public:
  explicit FileSink(std::string path, uint64_t stop_after = UINT64_MAX)
      : path_(std::move(path)), stop_after_(stop_after) {
    std::error_code ec;
    offset_ = std::filesystem::exists(path_, ec)
                  ? std::filesystem::file_size(path_, ec)
                  : 0;
    out_.open(path_, std::ios::binary | std::ios::app);
  }
  uint64_t offset() const override { return offset_; }
  Status Write(ByteView bytes) override {
    out_.write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    out_.flush();
    written_ += bytes.size();
    if (!out_) return IoError("cannot write " + path_);
    // The process "dies" after this chunk is on disk.
    if (written_ >= stop_after_) return IoError("stopped");
    return Status::Ok();
  }
  Status Restart() override {
    out_.close();
    out_.open(path_, std::ios::binary | std::ios::trunc);
    return out_ ? Status::Ok() : IoError("cannot truncate " + path_);
  }

 private:
  std::string path_;
  uint64_t stop_after_;
  uint64_t offset_ = 0;
  uint64_t written_ = 0;
  std::ofstream out_;
};

std::string RandomText(size_t n) {
  Bytes b = RandomBytes(SystemRng(), n).value();
  return std::string(b.begin(), b.end());
}

class HttpsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto nginx = TestNginx::Start();
    ASSERT_TRUE(nginx.ok()) << nginx.status().ToString();
    nginx_ = std::move(nginx).value();
    image_ = RandomText(300 * 1024 + 17);
    ASSERT_TRUE(nginx_->Put("image.bin", image_).ok());
  }

  HttpsOptions CaOptions() const {
    HttpsOptions o;
    o.ca_file = nginx_->ca_file();
    return o;
  }

  HttpsClient Client(HttpsOptions o) {
    return HttpsClient::Create(std::move(o)).value();
  }

  std::unique_ptr<TestNginx> nginx_;
  std::string image_;
};

TEST_F(HttpsClientTest, DownloadsAWholeFileVerifiedByTheCa) {
  HttpsClient client = Client(CaOptions());
  MemorySink sink;
  Result<DownloadResult> r =
      client.Download(nginx_->Url("/files/image.bin"), sink, 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(sink.data() == image_) << sink.data().size() << " bytes";
  EXPECT_EQ(r->start, 0u);
  EXPECT_EQ(r->received, image_.size());
  EXPECT_EQ(r->total, image_.size());
  EXPECT_FALSE(r->restarted);
  // Streamed in chunks, not handed over at the end.
  EXPECT_GT(sink.writes(), 1);

  ASSERT_TRUE(nginx_->Put("root.json", R"({"signed":{}})").ok());
  Result<HttpsResponse> get = client.Get(nginx_->Url("/files/root.json"), 64);
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, R"({"signed":{}})");
}

TEST_F(HttpsClientTest, AnInterruptedDownloadResumesWhereItStopped) {
  HttpsClient client = Client(CaOptions());
  MemorySink first("", 100 * 1000);
  Result<DownloadResult> cut =
      client.Download(nginx_->Url("/files/image.bin"), first, 1 << 20);
  EXPECT_EQ(cut.status().code(), Code::kIo) << cut.status().ToString();
  ASSERT_EQ(first.data().size(), 100u * 1000);

  MemorySink second(first.data());
  Result<DownloadResult> rest =
      client.Download(nginx_->Url("/files/image.bin"), second, 1 << 20);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_FALSE(rest->restarted);
  EXPECT_EQ(second.restarts(), 0);
  EXPECT_EQ(rest->start, 100u * 1000);
  EXPECT_EQ(rest->received, image_.size() - 100 * 1000);
  EXPECT_EQ(rest->total, image_.size());
  EXPECT_TRUE(second.data() == image_) << second.data().size() << " bytes";

  // Nothing left to fetch: the server says the range starts at the end.
  MemorySink whole(image_);
  Result<DownloadResult> done =
      client.Download(nginx_->Url("/files/image.bin"), whole, 1 << 20);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->received, 0u);
  EXPECT_TRUE(whole.data() == image_) << whole.data().size() << " bytes";
  // More held than the server has: the caller must start over.
  MemorySink longer(image_ + "x");
  EXPECT_EQ(client.Download(nginx_->Url("/files/image.bin"), longer, 1 << 20)
                .status()
                .code(),
            Code::kFailedPrecondition);
}

TEST_F(HttpsClientTest, ADownloadIntoAFileSurvivesARestart) {
  std::string path = ::testing::TempDir() + "warden-net-staging.bin";
  std::filesystem::remove(path);
  {
    HttpsClient client = Client(CaOptions());
    FileSink sink(path, 64 * 1024);
    EXPECT_EQ(client.Download(nginx_->Url("/files/image.bin"), sink, 1 << 20)
                  .status()
                  .code(),
              Code::kIo);
  }
  // A new process: a new client, the file's size is the offset, at most the
  // chunk in flight was lost.
  uint64_t kept = std::filesystem::file_size(path);
  EXPECT_GE(kept, 64u * 1024);
  EXPECT_LT(kept, image_.size());
  HttpsClient client = Client(CaOptions());
  FileSink sink(path);
  Result<DownloadResult> r =
      client.Download(nginx_->Url("/files/image.bin"), sink, 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->start, kept);
  std::ifstream in(path, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  EXPECT_TRUE(got == image_) << got.size() << " bytes";
  std::filesystem::remove(path);
}

TEST_F(HttpsClientTest, AWholeReplyToARangeRequestRestartsCleanly) {
  HttpsClient client = Client(CaOptions());
  MemorySink sink(image_.substr(0, 1000));
  Result<DownloadResult> r =
      client.Download(nginx_->Url("/norange/image.bin"), sink, 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->restarted);
  EXPECT_EQ(sink.restarts(), 1);
  EXPECT_EQ(r->start, 0u);
  EXPECT_TRUE(sink.data() == image_) << sink.data().size() << " bytes";
}

TEST_F(HttpsClientTest, APartialReplyMustStartAtTheOffset) {
  HttpsClient client = Client(CaOptions());
  // Asked for bytes from 100, given bytes from 0.
  MemorySink resumed(std::string(100, 'a'));
  Result<DownloadResult> r =
      client.Download(nginx_->Url("/badrange/x"), resumed, 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("bytes from 0 when asked for bytes "
                                      "from 100"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(resumed.writes(), 0);
  EXPECT_EQ(resumed.data(), std::string(100, 'a'));
  // A partial reply to a request for the whole resource.
  MemorySink fresh;
  EXPECT_EQ(client.Download(nginx_->Url("/badrange/x"), fresh, 1 << 20)
                .status()
                .code(),
            Code::kUnavailable);
  EXPECT_EQ(fresh.writes(), 0);
}

TEST_F(HttpsClientTest, AnOversizedOrEndlessBodyStopsAtTheLimit) {
  ASSERT_TRUE(nginx_->PutSparse("huge.bin", kTiB).ok());
  HttpsClient client = Client(CaOptions());
  // Announced: refused before a byte of body.
  MemorySink announced;
  Result<DownloadResult> r =
      client.Download(nginx_->Url("/files/huge.bin"), announced, 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted)
      << r.status().ToString();
  EXPECT_EQ(announced.writes(), 0);
  // Not announced (chunked): the sink never gets more than the limit.
  MemorySink endless;
  r = client.Download(nginx_->Url("/chunked/huge.bin"), endless, 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kResourceExhausted)
      << r.status().ToString();
  EXPECT_LE(endless.data().size(), 1u << 20);
  EXPECT_GT(endless.data().size(), (1u << 20) - 64 * 1024);
  // The same for Get, and for a resumed download the limit counts the
  // bytes already held.
  EXPECT_EQ(client.Get(nginx_->Url("/chunked/huge.bin"), 4096).status().code(),
            Code::kResourceExhausted);
  MemorySink resumed(image_.substr(0, 200 * 1024));
  EXPECT_EQ(
      client.Download(nginx_->Url("/files/image.bin"), resumed, 250 * 1024)
          .status()
          .code(),
      Code::kResourceExhausted);
  EXPECT_EQ(resumed.writes(), 0);
}

TEST_F(HttpsClientTest, AWrongPinOrAnUnknownCaIsRefused) {
  // The right pin alone is enough.
  HttpsOptions pinned;
  pinned.spki_sha256_pins = {nginx_->spki_sha256()};
  MemorySink ok;
  EXPECT_TRUE(Client(pinned)
                  .Download(nginx_->Url("/files/image.bin"), ok, 1 << 20)
                  .ok());
  EXPECT_TRUE(ok.data() == image_) << ok.data().size() << " bytes";

  Bytes other = nginx_->spki_sha256();
  other[0] ^= 1;
  // A wrong pin alone, with no CA to fall back on.
  HttpsOptions only_wrong_pin;
  only_wrong_pin.spki_sha256_pins = {other};
  MemorySink refused;
  EXPECT_EQ(Client(only_wrong_pin)
                .Download(nginx_->Url("/files/image.bin"), refused, 1 << 20)
                .status()
                .code(),
            Code::kUnauthenticated);
  EXPECT_EQ(refused.writes(), 0);

  HttpsOptions wrong_pin = CaOptions();
  wrong_pin.spki_sha256_pins = {other};
  MemorySink a;
  Result<DownloadResult> r =
      Client(wrong_pin).Download(nginx_->Url("/files/image.bin"), a, 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << r.status().ToString();
  EXPECT_EQ(a.writes(), 0);

  // A CA that did not issue the server's certificate.
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256).value();
  auto now = std::chrono::system_clock::now();
  crypto::CertificateRequest req{.common_name = "Other CA",
                                 .subject_key = key.public_key(),
                                 .not_before = now - std::chrono::hours(1),
                                 .not_after = now + std::chrono::hours(1),
                                 .is_ca = true};
  auto ca = crypto::IssueCertificate(req, key, nullptr).value();
  std::string ca_path = ::testing::TempDir() + "warden-net-other-ca.pem";
  std::ofstream(ca_path) << ca.ToPem();
  HttpsOptions unknown;
  unknown.ca_file = ca_path;
  MemorySink b;
  r = Client(unknown).Download(nginx_->Url("/files/image.bin"), b, 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << r.status().ToString();
  EXPECT_EQ(b.writes(), 0);
  std::filesystem::remove(ca_path);
}

TEST_F(HttpsClientTest, PlainHttpOnlyWhenAskedForAndHttpsStillVerified) {
  const std::string http_url =
      "http://127.0.0.1:" + std::to_string(nginx_->port()) + "/files/image.bin";
  Result<HttpsResponse> r = Client(CaOptions()).Get(http_url, 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
  HttpsOptions none;
  EXPECT_EQ(HttpsClient::Create(none).status().code(), Code::kInvalidArgument);
  none.allow_plain_http = true;
  EXPECT_TRUE(HttpsClient::Create(none).ok());
  // With plain http allowed, an https URL is still checked against the CA.
  HttpsOptions o = CaOptions();
  o.allow_plain_http = true;
  r = Client(o).Get(nginx_->Url("/files/image.bin"), 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->body == image_);
  Bytes other = nginx_->spki_sha256();
  other[0] ^= 1;
  o.spki_sha256_pins = {other};
  EXPECT_EQ(
      Client(o).Get(nginx_->Url("/files/image.bin"), 1 << 20).status().code(),
      Code::kUnauthenticated);
}

TEST_F(HttpsClientTest, HttpErrorsHaveTheirOwnCodes) {
  HttpsClient client = Client(CaOptions());
  MemorySink sink;
  Result<DownloadResult> r = client.Download(
      nginx_->Url("/files/missing.bin?token=secret"), sink, 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kNotFound) << r.status().ToString();
  EXPECT_EQ(sink.writes(), 0);
  EXPECT_NE(r.status().message().find("/files/missing.bin"), std::string::npos);
  // The query may hold a credential: it never reaches a message.
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos);
  EXPECT_EQ(client.Get(nginx_->Url("/nowhere"), 1024).status().code(),
            Code::kNotFound);

  for (const char* bad : {"http://127.0.0.1/x", "https://user:pw@127.0.0.1/x",
                          "ftp://127.0.0.1/", "not a url"}) {
    EXPECT_EQ(client.Get(bad, 1024).status().code(), Code::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(HttpsClient::Create({}).status().code(), Code::kInvalidArgument);
  HttpsOptions short_pin;
  short_pin.spki_sha256_pins = {Bytes(31, 0)};
  EXPECT_EQ(HttpsClient::Create(short_pin).status().code(),
            Code::kInvalidArgument);
}

TEST_F(HttpsClientTest, BelowTheTlsMinimumIsRefused) {
  TestNginxOptions old;
  old.protocols = "TLSv1.2";
  auto tls12 = TestNginx::Start(old);
  ASSERT_TRUE(tls12.ok()) << tls12.status().ToString();
  ASSERT_TRUE((*tls12)->Put("image.bin", image_).ok());
  HttpsOptions o;
  o.ca_file = (*tls12)->ca_file();
  MemorySink ok;
  EXPECT_TRUE(
      Client(o).Download((*tls12)->Url("/files/image.bin"), ok, 1 << 20).ok());
  o.min_tls = TlsMinimum::kTls13;
  MemorySink refused;
  Result<DownloadResult> r =
      Client(o).Download((*tls12)->Url("/files/image.bin"), refused, 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_EQ(refused.writes(), 0);
}

TEST_F(HttpsClientTest, SilentOrSlowServersTimeOut) {
  // A listening socket nobody accepts on: TCP opens, TLS never answers.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  HttpsOptions o = CaOptions();
  o.connect_timeout = milliseconds(300);
  Result<HttpsResponse> silent = Client(o).Get(
      "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x", 10);
  ::close(fd);
  EXPECT_EQ(silent.status().code(), Code::kDeadlineExceeded)
      << silent.status().ToString();

  // 64 bytes a second against a floor of 4 KiB a second.
  HttpsOptions slow = CaOptions();
  slow.low_speed_bytes = 4096;
  slow.low_speed_window = std::chrono::seconds(1);
  MemorySink sink;
  Result<DownloadResult> r =
      Client(slow).Download(nginx_->Url("/slow/image.bin"), sink, 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded)
      << r.status().ToString();
  // The low-speed floor ended it, not the total timeout.
  EXPECT_NE(r.status().message().find("too slow"), std::string::npos)
      << r.status().message();
  EXPECT_LT(sink.data().size(), image_.size());
}

TEST(ContentRangeTest, ParsesTheThreeForms) {
  Result<ContentRange> a = ParseContentRange("bytes 100-199/1000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, 100u);
  EXPECT_EQ(a->last, 199u);
  EXPECT_EQ(a->complete, 1000u);
  Result<ContentRange> b = ParseContentRange("Bytes 0-0/*");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->complete.has_value());
  Result<ContentRange> c = ParseContentRange("bytes */1000");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->first.has_value());
  EXPECT_EQ(c->complete, 1000u);
  for (const char* bad :
       {"", "bytes", "bytes 1-2", "bytes 2-1/10", "bytes 0-10/10", "bytes */*",
        "bits 0-1/2", "bytes -1-2/3", "bytes 0-+1/3", "bytes 0-1/3 ",
        " bytes 0-1/3", "bytes 0-99999999999999999999/*",
        "bytes 0-9223372036854775808/*", "bytes 1-2/3/4", "bytes 1--2/3"}) {
    EXPECT_EQ(ParseContentRange(bad).status().code(), Code::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace warden::net
