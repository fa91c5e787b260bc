#include "events/log.h"

#include "events/catalog.h"

namespace warden::events {
namespace {

bool Bare(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
         c == '/' || c == '@' || c == '+' || c == '-' || c == '~';
}

}  // namespace

std::string QuoteValue(std::string_view value) {
  bool bare = !value.empty();
  for (char c : value) bare = bare && Bare(c);
  if (bare) return std::string(value);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

std::string FormatLine(const Event& event, const Pseudonymizer& pseudonym) {
  const Kind& kind = event.kind();
  std::string line;
  line += SeverityName(kind.severity);
  line += ' ';
  line += CategoryName(kind.category);
  line += ' ';
  line += kind.name;
  for (const Field& f : event.fields()) {
    line += ' ';
    line += f.name;
    line += '=';
    if (const auto* s = std::get_if<std::string>(&f.value)) {
      line += QuoteValue(f.personal && pseudonym ? pseudonym(*s) : *s);
    } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
      line += std::to_string(*i);
    } else {
      line += std::get<bool>(f.value) ? "true" : "false";
    }
  }
  return line;
}

RateLimitedLog::RateLimitedLog(Clock& clock, Policy policy, Writer writer,
                               Pseudonymizer pseudonym)
    : clock_(clock),
      policy_(policy),
      writer_(std::move(writer)),
      pseudonym_(std::move(pseudonym)) {
  if (policy_.burst < 1) policy_.burst = 1;
  if (policy_.window < std::chrono::seconds(1)) {
    policy_.window = std::chrono::seconds(1);
  }
}

void RateLimitedLog::SetRecorder(Recorder recorder) {
  recorder_ = std::move(recorder);
}

void RateLimitedLog::Emit(const Event& event) {
  if (recorder_) recorder_(event);
  writer_(FormatLine(event, pseudonym_));
}

void RateLimitedLog::Report(std::string_view kind, Window& window) {
  if (window.suppressed > 0) {
    Event summary(kLogSuppressed);
    summary.Text("kind", std::string(kind)).Int("count", window.suppressed);
    summary.set_time(clock_.Now());
    Emit(summary);
  }
  window.suppressed = 0;
}

void RateLimitedLog::Write(const Event& event) {
  const MonoTime now = clock_.Monotonic();
  auto it = windows_.find(event.kind().name);
  if (it == windows_.end()) {
    it = windows_.emplace(std::string(event.kind().name), Window{now}).first;
  }
  Window& w = it->second;
  if (now - w.start >= policy_.window) {
    Report(it->first, w);
    w.start = now;
    w.written = 0;
  }
  if (w.written >= policy_.burst) {
    ++w.suppressed;
    return;
  }
  ++w.written;
  Emit(event);
}

void RateLimitedLog::Flush(bool all) {
  const MonoTime now = clock_.Monotonic();
  for (auto& [kind, w] : windows_) {
    if (w.suppressed == 0) continue;
    if (all || now - w.start >= policy_.window) {
      Report(kind, w);
      if (!all) {
        w.start = now;
        w.written = 0;
      }
    }
  }
}

int64_t RateLimitedLog::pending_suppressed() const {
  int64_t n = 0;
  for (const auto& [kind, w] : windows_) n += w.suppressed;
  return n;
}

}  // namespace warden::events
