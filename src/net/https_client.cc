#include "net/https_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <limits>
#include <mutex>

namespace warden::net {
namespace {

constexpr size_t kMaxUrl = 8 * 1024;
// Of an error reply, enough to say why; the rest is not read.
constexpr size_t kMaxErrorBody = 4 * 1024;
constexpr uint64_t kMaxNumber = std::numeric_limits<int64_t>::max();

Status GlobalInit() {
  static CURLcode rc = [] { return curl_global_init(CURL_GLOBAL_DEFAULT); }();
  if (rc != CURLE_OK) {
    return InternalError(std::string("libcurl: ") + curl_easy_strerror(rc));
  }
  return Status::Ok();
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) {
             return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
           };
           return lower(x) == lower(y);
         });
}

std::optional<uint64_t> ParseNumber(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > kMaxNumber) return std::nullopt;
  return n;
}

// A parsed, checked https URL and the form of it that messages show.
struct ParsedUrl {
  CURLU* handle = nullptr;
  std::string shown;  // scheme, host, port and path: never the query
  ~ParsedUrl() { curl_url_cleanup(handle); }
};

std::string UrlPart(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) {
    return "";
  }
  std::string out(value);
  curl_free(value);
  return out;
}

Status ParseUrl(std::string_view text, ParsedUrl& out, bool allow_http) {
  if (text.size() > kMaxUrl) return InvalidArgumentError("URL is too long");
  out.handle = curl_url();
  if (out.handle == nullptr) return InternalError("libcurl: out of memory");
  std::string copy(text);
  CURLUcode rc = curl_url_set(out.handle, CURLUPART_URL, copy.c_str(), 0);
  if (rc != CURLUE_OK) {
    return InvalidArgumentError(std::string("not a URL: ") +
                                curl_url_strerror(rc));
  }
  const std::string scheme = UrlPart(out.handle, CURLUPART_SCHEME);
  if (scheme != "https" && !(allow_http && scheme == "http")) {
    return InvalidArgumentError(allow_http
                                    ? "only http and https URLs are fetched"
                                    : "only https URLs are fetched");
  }
  if (!UrlPart(out.handle, CURLUPART_USER).empty() ||
      !UrlPart(out.handle, CURLUPART_PASSWORD).empty()) {
    return InvalidArgumentError("a URL must not carry user information");
  }
  std::string port = UrlPart(out.handle, CURLUPART_PORT);
  out.shown = scheme + "://" + UrlPart(out.handle, CURLUPART_HOST) +
              (port.empty() ? "" : ":" + port) +
              UrlPart(out.handle, CURLUPART_PATH);
  return Status::Ok();
}

Status HttpStatusError(long status, const std::string& url) {
  std::string what = url + " answered HTTP " + std::to_string(status);
  switch (status) {
    case 404:
    case 410:
      return NotFoundError(what);
    case 401:
    case 403:
      return PermissionDeniedError(what);
    default:
      return UnavailableError(what);
  }
}

}  // namespace

Result<ContentRange> ParseContentRange(std::string_view value) {
  auto bad = [&] {
    return InvalidArgumentError("malformed Content-Range \"" +
                                std::string(value.substr(0, 80)) + "\"");
  };
  constexpr std::string_view kUnit = "bytes ";
  if (value.size() < kUnit.size() ||
      !EqualsIgnoringCase(value.substr(0, kUnit.size()), kUnit)) {
    return bad();
  }
  std::string_view rest = value.substr(kUnit.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad();
  std::string_view range = rest.substr(0, slash);
  std::string_view complete = rest.substr(slash + 1);
  ContentRange out;
  if (complete != "*") {
    out.complete = ParseNumber(complete);
    if (!out.complete) return bad();
  }
  if (range == "*") {
    // An unsatisfied range names the size it could not satisfy.
    if (!out.complete) return bad();
    return out;
  }
  size_t dash = range.find('-');
  if (dash == std::string_view::npos) return bad();
  out.first = ParseNumber(range.substr(0, dash));
  out.last = ParseNumber(range.substr(dash + 1));
  if (!out.first || !out.last || *out.first > *out.last) return bad();
  if (out.complete && *out.last >= *out.complete) return bad();
  return out;
}

struct HttpsClient::Impl {
  HttpsOptions options;
  std::string pins;  // "sha256//B64;sha256//B64"
  CURL* curl = nullptr;
  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

namespace {

// One transfer's state, shared with libcurl's callbacks.
struct Transfer {
  CURL* curl = nullptr;
  std::string url;  // as shown in messages
  uint64_t offset = 0;
  uint64_t max_bytes = 0;
  size_t max_header_bytes = 0;
  DownloadSink* sink = nullptr;  // a download, or
  std::string* body = nullptr;   // a Get

  size_t header_bytes = 0;
  bool started = false;  // the first body byte arrived and was judged
  long status = 0;
  uint64_t start = 0;
  uint64_t received = 0;
  bool restarted = false;
  std::optional<uint64_t> total;
  std::string error_body;
  // Why a callback stopped the transfer.
  std::optional<Status> abort;
};

std::optional<std::string> Header(CURL* curl, const char* name) {
  curl_header* h = nullptr;
  if (curl_easy_header(curl, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
      h == nullptr) {
    return std::nullopt;
  }
  return std::string(h->value);
}

// Judges the response once its headers are complete: the status, and for a
// resumed download, whether the bytes that follow are the ones asked for.
Status Begin(Transfer& t) {
  curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &t.status);
  if (t.status < 200 || t.status > 299) return Status::Ok();
  curl_off_t length = -1;
  curl_easy_getinfo(t.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  if (t.status == 206) {
    if (t.offset == 0) {
      return UnavailableError(t.url +
                              " sent a partial reply to a request for "
                              "the whole resource");
    }
    std::optional<std::string> value = Header(t.curl, "Content-Range");
    if (!value) {
      return UnavailableError(t.url + " sent 206 without a Content-Range");
    }
    Result<ContentRange> range = ParseContentRange(*value);
    if (!range.ok()) {
      return UnavailableError(t.url + ": " + range.status().message());
    }
    if (!range->first || *range->first != t.offset) {
      return UnavailableError(
          t.url + " sent bytes from " +
          (range->first ? std::to_string(*range->first) : std::string("?")) +
          " when asked for bytes from " + std::to_string(t.offset));
    }
    if (range->complete && *range->last + 1 != *range->complete) {
      return UnavailableError(t.url +
                              " sent a range that stops short of the "
                              "end of the resource");
    }
    t.total = range->complete;
    t.start = t.offset;
  } else {
    if (t.offset > 0) {
      // The server ignored the range: start over, cleanly.
      WARDEN_TRY(t.sink->Restart());
      t.restarted = true;
    }
    t.start = 0;
    if (length >= 0) t.total = static_cast<uint64_t>(length);
  }
  if (t.total && *t.total > t.max_bytes) {
    return ResourceExhaustedError(t.url + " holds " + std::to_string(*t.total) +
                                  " bytes, more than the limit of " +
                                  std::to_string(t.max_bytes));
  }
  return Status::Ok();
}

size_t OnHeader(char* data, size_t size, size_t count, void* arg) {
  auto& t = *static_cast<Transfer*>(arg);
  size_t n = size * count;
  t.header_bytes += n;
  if (t.header_bytes > t.max_header_bytes) {
    t.abort = ResourceExhaustedError(t.url + " sent more than " +
                                     std::to_string(t.max_header_bytes) +
                                     " bytes of headers");
    return 0;
  }
  // A new status line: a redirect or an interim reply came before.
  if (n >= 5 && std::string_view(data, 5) == "HTTP/") t.header_bytes = n;
  return n;
}

size_t OnBody(char* data, size_t size, size_t count, void* arg) {
  auto& t = *static_cast<Transfer*>(arg);
  size_t n = size * count;
  if (!t.started) {
    t.started = true;
    Status begun = Begin(t);
    if (!begun.ok()) {
      t.abort = begun;
      return CURL_WRITEFUNC_ERROR;
    }
  }
  if (t.status < 200 || t.status > 299) {
    t.error_body.append(data, std::min(n, kMaxErrorBody - t.error_body.size()));
    if (t.error_body.size() >= kMaxErrorBody) {
      t.abort = HttpStatusError(t.status, t.url);
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }
  if (n > t.max_bytes || t.start + t.received > t.max_bytes - n) {
    t.abort = ResourceExhaustedError(t.url + " sent more than the limit of " +
                                     std::to_string(t.max_bytes) + " bytes");
    return CURL_WRITEFUNC_ERROR;
  }
  if (t.sink != nullptr) {
    Status written =
        t.sink->Write(ByteView(reinterpret_cast<const uint8_t*>(data), n));
    if (!written.ok()) {
      t.abort = written;
      return CURL_WRITEFUNC_ERROR;
    }
  } else {
    t.body->append(data, n);
  }
  t.received += n;
  return n;
}

Status TransportError(CURLcode rc, const char* detail, const Transfer& t) {
  std::string why = detail[0] != '\0' ? detail : curl_easy_strerror(rc);
  std::string what = t.url + ": " + why;
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(what);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return UnauthenticatedError(what);
    case CURLE_FILESIZE_EXCEEDED:
      return ResourceExhaustedError(what);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgumentError(what);
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return FailedPreconditionError(what);
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
      return InternalError(what);
    default:
      return UnavailableError(what);
  }
}

}  // namespace

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsClient::HttpsClient(HttpsClient&&) noexcept = default;
HttpsClient& HttpsClient::operator=(HttpsClient&&) noexcept = default;
HttpsClient::~HttpsClient() = default;

Result<HttpsClient> HttpsClient::Create(HttpsOptions options) {
  if (options.ca_file.empty() && options.ca_dir.empty() &&
      options.spki_sha256_pins.empty() && !options.allow_plain_http) {
    return InvalidArgumentError(
        "an HTTPS client needs a CA file, a CA directory or a pinned key");
  }
  auto impl = std::make_unique<Impl>();
  for (const Bytes& pin : options.spki_sha256_pins) {
    if (pin.size() != 32) {
      return InvalidArgumentError(
          "a key pin is the 32-byte SHA-256 of a SubjectPublicKeyInfo");
    }
    if (!impl->pins.empty()) impl->pins += ";";
    impl->pins += "sha256//" + Base64Encode(pin);
  }
  if (options.max_header_bytes == 0 || options.max_redirects < 0) {
    return InvalidArgumentError("HTTPS limits must be positive");
  }
  WARDEN_TRY(GlobalInit());
  impl->curl = curl_easy_init();
  if (impl->curl == nullptr) return InternalError("libcurl: cannot start");
  impl->options = std::move(options);
  return HttpsClient(std::move(impl));
}

namespace {

// Sets every option of one transfer from scratch (the handle keeps only its
// connections from the last one).
Status Configure(CURL* curl, const HttpsOptions& o, const std::string& pins,
                 CURLU* url, Transfer& t, char* errors) {
  curl_easy_reset(curl);
  const bool ca = !o.ca_file.empty() || !o.ca_dir.empty();
  const char* protocols = o.allow_plain_http ? "http,https" : "https";
  long tls = o.min_tls == TlsMinimum::kTls13 ? CURL_SSLVERSION_TLSv1_3
                                             : CURL_SSLVERSION_TLSv1_2;
  bool ok =
      curl_easy_setopt(curl, CURLOPT_CURLU, url) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errors) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, protocols) ==
          CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION,
                       o.max_redirects > 0 ? 1L : 0L) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_MAXREDIRS,
                       static_cast<long>(o.max_redirects)) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1) ==
          CURLE_OK &&
      // No proxy from the environment: where a device connects is its
      // configuration's business.
      curl_easy_setopt(curl, CURLOPT_PROXY, "") == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_USERAGENT, o.user_agent.c_str()) ==
          CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_SSLVERSION, tls) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, ca ? 1L : 0L) ==
          CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, ca ? 2L : 0L) ==
          CURLE_OK &&
      // Only the CA given: never the system's bundle as well.
      curl_easy_setopt(curl, CURLOPT_CAINFO,
                       o.ca_file.empty() ? nullptr : o.ca_file.c_str()) ==
          CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_CAPATH,
                       o.ca_dir.empty() ? nullptr : o.ca_dir.c_str()) ==
          CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_PINNEDPUBLICKEY,
                       pins.empty() ? nullptr : pins.c_str()) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                       static_cast<long>(o.connect_timeout.count())) ==
          CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                       static_cast<long>(o.total_timeout.count())) ==
          CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT,
                       static_cast<long>(o.low_speed_bytes)) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                       static_cast<long>(o.low_speed_window.count())) ==
          CURLE_OK &&
      // Refused from the Content-Length alone, before the body starts.
      curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                       static_cast<curl_off_t>(std::min(
                           t.max_bytes - t.offset, kMaxNumber))) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody) == CURLE_OK &&
      curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t) == CURLE_OK;
  if (ok && t.offset > 0) {
    std::string range = std::to_string(t.offset) + "-";
    ok = curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str()) == CURLE_OK;
  }
  if (!ok) return InternalError("libcurl: cannot set the transfer up");
  return Status::Ok();
}

}  // namespace

namespace {

// Runs one GET with `t` set up; returns once the reply is judged.
Status Perform(HttpsClient::Impl& impl, std::string_view url_text,
               Transfer& t) {
  ParsedUrl url;
  WARDEN_TRY(ParseUrl(url_text, url, impl.options.allow_plain_http));
  t.url = url.shown;
  t.curl = impl.curl;
  t.max_header_bytes = impl.options.max_header_bytes;
  char errors[CURL_ERROR_SIZE] = {0};
  WARDEN_TRY(
      Configure(impl.curl, impl.options, impl.pins, url.handle, t, errors));
  CURLcode rc = curl_easy_perform(impl.curl);
  // The handle must not keep pointers into this frame.
  curl_easy_setopt(impl.curl, CURLOPT_CURLU, nullptr);
  curl_easy_setopt(impl.curl, CURLOPT_ERRORBUFFER, nullptr);
  if (t.abort.has_value()) return *t.abort;
  if (rc != CURLE_OK) return TransportError(rc, errors, t);
  if (!t.started) {
    // No body arrived, so nothing judged the reply yet.
    t.started = true;
    WARDEN_TRY(Begin(t));
  }
  return Status::Ok();
}

}  // namespace

Result<HttpsResponse> HttpsClient::Get(std::string_view url, size_t max_bytes) {
  HttpsResponse response;
  Transfer t;
  t.max_bytes = max_bytes;
  t.body = &response.body;
  WARDEN_TRY(Perform(*impl_, url, t));
  if (t.status < 200 || t.status > 299) return HttpStatusError(t.status, t.url);
  response.status = static_cast<int>(t.status);
  if (std::optional<std::string> type = Header(impl_->curl, "Content-Type")) {
    response.content_type = std::move(*type);
  }
  return response;
}

Result<DownloadResult> HttpsClient::Download(std::string_view url,
                                             DownloadSink& sink,
                                             uint64_t max_bytes) {
  Transfer t;
  t.offset = sink.offset();
  t.max_bytes = max_bytes;
  t.sink = &sink;
  if (t.offset > max_bytes) {
    return FailedPreconditionError("the sink holds more than the limit of " +
                                   std::to_string(max_bytes) + " bytes");
  }
  WARDEN_TRY(Perform(*impl_, url, t));
  if (t.status == 416 && t.offset > 0) {
    std::optional<std::string> value = Header(impl_->curl, "Content-Range");
    Result<ContentRange> range =
        value ? ParseContentRange(*value)
              : Result<ContentRange>(InvalidArgumentError("no Content-Range"));
    if (range.ok() && !range->first && range->complete == t.offset) {
      DownloadResult done;
      done.start = t.offset;
      done.total = t.offset;
      return done;
    }
    if (range.ok() && range->complete && *range->complete < t.offset) {
      return FailedPreconditionError(
          t.url + " holds " + std::to_string(*range->complete) +
          " bytes, fewer than the " + std::to_string(t.offset) +
          " already downloaded: start over");
    }
    return UnavailableError(t.url + " refused the range from " +
                            std::to_string(t.offset));
  }
  if (t.status < 200 || t.status > 299) return HttpStatusError(t.status, t.url);
  DownloadResult result;
  result.start = t.start;
  result.received = t.received;
  result.restarted = t.restarted;
  result.total = t.total;
  return result;
}

}  // namespace warden::net
