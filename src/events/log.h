// The daemon's log as an event subscriber: one line per event, at most a
// burst of lines per event kind in each window, and a count of what was
// suppressed once the window closes, so that a flood of one kind (bad
// requests from one client, say) neither wears out flash nor buries the
// events that matter.
//
// A line is logfmt-like and cannot be forged by what it quotes:
//   warning security pairing_failed peer=~5c0e9a1f7b22 failures=4
// Values outside [A-Za-z0-9._:/@+~-] are quoted, and every byte outside
// printable ASCII is escaped (\n, \", \\, \xNN), so an app or a peer cannot
// start a line of its own. Personal fields show the pseudonym the caller's
// function gives them.
//
// A recorder (SetRecorder) sees every event the log writes, summaries
// included, and nothing it suppresses: a second sink that keeps what the
// line hides (wardend's sealed event log, data/event_log.h) is then
// limited exactly as the lines are.
//
// Not thread-safe; call from the event loop.
#ifndef WARDEN_EVENTS_LOG_H_
#define WARDEN_EVENTS_LOG_H_

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "events/event.h"

namespace warden::events {

// Maps a personal value to the text shown in its place.
using Pseudonymizer = std::function<std::string(std::string_view value)>;

// The line for `event`, without a trailing newline.
std::string FormatLine(const Event& event, const Pseudonymizer& pseudonym);

// `value` as it appears after "name=": bare when it is non-empty and made
// only of [A-Za-z0-9._:/@+~-], else in double quotes with escapes.
std::string QuoteValue(std::string_view value);

class RateLimitedLog {
 public:
  struct Policy {
    int burst = 20;                   // lines per kind per window
    std::chrono::seconds window{60};  // at least 1 s
  };
  using Writer = std::function<void(std::string_view line)>;
  using Recorder = std::function<void(const Event& event)>;

  // `clock` must outlive the log. The monotonic clock sets the windows.
  RateLimitedLog(Clock& clock, Policy policy, Writer writer,
                 Pseudonymizer pseudonym);

  // Called with each event written, before its line is; none by default.
  void SetRecorder(Recorder recorder);
  // The function that gives personal fields their pseudonyms.
  const Pseudonymizer& pseudonymizer() const { return pseudonym_; }

  // Writes `event` or counts it as suppressed.
  void Write(const Event& event);

  // Writes a log_suppressed line for every kind whose window has closed
  // with suppressed events; with `all`, for every kind with any (at stop).
  // The daemon calls it once a window.
  void Flush(bool all = false);

  // Events suppressed and not yet reported.
  int64_t pending_suppressed() const;

 private:
  struct Window {
    MonoTime start;
    int written = 0;
    int64_t suppressed = 0;
  };
  void Report(std::string_view kind, Window& window);
  void Emit(const Event& event);

  Clock& clock_;
  Policy policy_;
  Writer writer_;
  Recorder recorder_;
  Pseudonymizer pseudonym_;
  std::map<std::string, Window, std::less<>> windows_;
};

}  // namespace warden::events

#endif  // WARDEN_EVENTS_LOG_H_
