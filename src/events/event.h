// Typed events: what wardend tells its log, and later its telemetry, about
// itself. An event is one Kind (a stable name, a severity and a category)
// and typed fields; every field that is personal data (a peer address, an
// owner's name) is marked so, so that a subscriber that writes somewhere
// the device cannot erase (stderr, the system journal) shows a pseudonym
// instead of the value.
//
// Kinds are constants declared in catalog.h; an Event keeps a pointer to
// its Kind and the names of its fields, so both must have static storage
// (string literals).
#ifndef WARDEN_EVENTS_EVENT_H_
#define WARDEN_EVENTS_EVENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/clock.h"

namespace warden::events {

enum class Severity { kInfo, kNotice, kWarning, kError };
enum class Category { kSecurity, kOperational, kApp };

std::string_view SeverityName(Severity s);  // "info", "notice", ...
std::string_view CategoryName(Category c);  // "security", ...

struct Kind {
  std::string_view name;  // snake_case, stable: telemetry keys on it
  Severity severity;
  Category category;
};

struct Field {
  std::string_view name;  // a literal
  std::variant<std::string, int64_t, bool> value;
  bool personal = false;
};

class Event {
 public:
  explicit Event(const Kind& kind) : kind_(&kind) {}

  // Adds a field. Text() is for values that identify no person (a reason,
  // a capability key); Personal() for values that may (addresses, names).
  Event& Text(std::string_view name, std::string value);
  Event& Personal(std::string_view name, std::string value);
  Event& Int(std::string_view name, int64_t value);
  Event& Flag(std::string_view name, bool value);

  const Kind& kind() const { return *kind_; }
  const std::vector<Field>& fields() const { return fields_; }
  // The field's value as text, or nullptr when the event has no such field
  // or it is not text.
  const std::string* TextOf(std::string_view name) const;
  // Set by Bus::Publish.
  WallTime time() const { return time_; }
  void set_time(WallTime t) { time_ = t; }

 private:
  const Kind* kind_;
  std::vector<Field> fields_;
  WallTime time_{};
};

}  // namespace warden::events

#endif  // WARDEN_EVENTS_EVENT_H_
