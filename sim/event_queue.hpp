#pragma once
// The engine's event queue: a binary heap ordered by (time, insertion sequence), so events at
// the same time run in the order they were scheduled and every run is repeatable. Storage is
// reserved up front; pushing within the reservation never allocates.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/event_kinds.hpp"
#include "sim/time.hpp"

namespace ppsim::sim {

struct Event {
  Time time;
  std::uint64_t order;    // insertion sequence x 4 + kind: 24 bytes an event, so more of the heap stays in cache
  std::uint32_t id;       // which op / flow
  std::uint32_t version;  // flows: stale completion events are skipped
  EventKind kind() const { return static_cast<EventKind>(order & 3); }
};
static_assert(static_cast<int>(EventKind::FlowDone) < 4, "event kinds fit in two bits of Event::order");

class EventQueue {
 public:
  void reserve(std::size_t n) { heap_.reserve(n); }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }

  void push(Time time, EventKind kind, std::uint32_t id, std::uint32_t version = 0) {
    heap_.push_back({time, next_seq_++ << 2 | static_cast<std::uint64_t>(kind), id, version});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  Event pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    const Event e = heap_.back();
    heap_.pop_back();
    return e;
  }

 private:
  // A function object, not a function pointer, so the comparisons inline into the heap code.
  struct Later {
    // (time, order) as one 128-bit key: a branch-free comparison (times are never negative).
    __extension__ typedef unsigned __int128 Key;
    static Key key(const Event& e) { return static_cast<Key>(static_cast<std::uint64_t>(e.time)) << 64 | e.order; }
    bool operator()(const Event& a, const Event& b) const { return key(a) > key(b); }
  };
  std::vector<Event> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace ppsim::sim
