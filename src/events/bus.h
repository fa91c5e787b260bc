// The in-process event bus: publishers (the owner API, the server, the app
// host) hand it events, and every subscriber (the daemon's log, later
// telemetry) sees each one, in subscription order, synchronously.
//
// Not thread-safe: publish from the event loop only (work done on the
// worker pool posts its result back first).
#ifndef WARDEN_EVENTS_BUS_H_
#define WARDEN_EVENTS_BUS_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "base/clock.h"
#include "events/event.h"

namespace warden::events {

class Bus {
 public:
  using Subscriber = std::function<void(const Event&)>;

  // `clock` stamps every event; it must outlive the bus.
  explicit Bus(Clock& clock) : clock_(clock) {}
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  // Returns an id for Unsubscribe.
  uint64_t Subscribe(Subscriber subscriber);
  void Unsubscribe(uint64_t id);

  // Stamps `event` with the clock's wall time and gives it to every
  // subscriber. A subscriber may not subscribe or unsubscribe from inside
  // the call.
  void Publish(Event event) const;

 private:
  Clock& clock_;
  uint64_t next_id_ = 1;
  std::vector<std::pair<uint64_t, Subscriber>> subscribers_;
};

}  // namespace warden::events

#endif  // WARDEN_EVENTS_BUS_H_
