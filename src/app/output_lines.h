// The app's stdout and stderr as wardend reads them: a byte stream cut into
// lines of bounded length, so that what the app writes can be published as
// one app_output event per line and never grows a buffer without limit.
// The app is untrusted: its bytes are passed on as they are (the log
// quotes and escapes them), and a line longer than the limit is cut there,
// marked as cut, and the rest of it dropped up to the next newline, so one
// endless line costs one event.
//
// Pure and not thread-safe; one OutputLines per stream.
#ifndef WARDEN_APP_OUTPUT_LINES_H_
#define WARDEN_APP_OUTPUT_LINES_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace warden::app {

// The longest line passed on whole; longer ones are cut to this.
inline constexpr size_t kMaxOutputLine = 1024;

class OutputLines {
 public:
  // Receives each line without its newline; `cut` when the line was longer
  // than the limit and `line` is its first `max_line` bytes.
  using Sink = std::function<void(std::string_view line, bool cut)>;

  // `max_line` is at least 1.
  explicit OutputLines(size_t max_line = kMaxOutputLine);

  // Adds bytes read from the stream; calls `sink` for every line they
  // complete or cut, in order. Holds at most `max_line` bytes in between.
  void Feed(std::string_view bytes, const Sink& sink);

  // The stream has ended: passes on an unfinished last line, if any.
  void Finish(const Sink& sink);

 private:
  size_t max_line_;
  std::string partial_;
  bool dropping_ = false;  // inside a line already cut
};

}  // namespace warden::app

#endif  // WARDEN_APP_OUTPUT_LINES_H_
