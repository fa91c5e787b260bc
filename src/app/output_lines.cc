#include "app/output_lines.h"

namespace warden::app {

OutputLines::OutputLines(size_t max_line)
    : max_line_(max_line == 0 ? 1 : max_line) {}

void OutputLines::Feed(std::string_view bytes, const Sink& sink) {
  while (!bytes.empty()) {
    size_t newline = bytes.find('\n');
    std::string_view piece = bytes.substr(0, newline);
    if (dropping_) {
      if (newline == std::string_view::npos) return;
      dropping_ = false;
    } else if (piece.size() > max_line_ - partial_.size()) {
      // The line goes on past the limit: pass on its start, drop the rest.
      partial_.append(piece.substr(0, max_line_ - partial_.size()));
      sink(partial_, true);
      partial_.clear();
      if (newline == std::string_view::npos) {
        dropping_ = true;
        return;
      }
    } else {
      partial_.append(piece);
      if (newline == std::string_view::npos) return;
      sink(partial_, false);
      partial_.clear();
    }
    bytes.remove_prefix(newline + 1);
  }
}

void OutputLines::Finish(const Sink& sink) {
  if (!partial_.empty()) sink(partial_, false);
  partial_.clear();
  dropping_ = false;
}

}  // namespace warden::app
