#include "events/event.h"

#include "events/bus.h"

namespace warden::events {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kNotice:
      return "notice";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "info";
}

std::string_view CategoryName(Category c) {
  switch (c) {
    case Category::kSecurity:
      return "security";
    case Category::kOperational:
      return "operational";
    case Category::kApp:
      return "app";
  }
  return "operational";
}

Event& Event::Text(std::string_view name, std::string value) {
  fields_.push_back(Field{name, std::move(value), false});
  return *this;
}

Event& Event::Personal(std::string_view name, std::string value) {
  fields_.push_back(Field{name, std::move(value), true});
  return *this;
}

Event& Event::Int(std::string_view name, int64_t value) {
  fields_.push_back(Field{name, value, false});
  return *this;
}

Event& Event::Flag(std::string_view name, bool value) {
  fields_.push_back(Field{name, value, false});
  return *this;
}

const std::string* Event::TextOf(std::string_view name) const {
  for (const Field& f : fields_) {
    if (f.name == name) return std::get_if<std::string>(&f.value);
  }
  return nullptr;
}

uint64_t Bus::Subscribe(Subscriber subscriber) {
  uint64_t id = next_id_++;
  subscribers_.emplace_back(id, std::move(subscriber));
  return id;
}

void Bus::Unsubscribe(uint64_t id) {
  std::erase_if(subscribers_, [id](const auto& s) { return s.first == id; });
}

void Bus::Publish(Event event) const {
  event.set_time(clock_.Now());
  for (const auto& [id, subscriber] : subscribers_) subscriber(event);
}

}  // namespace warden::events
