#pragma once
// The engine's event queue: a 4-ary heap ordered by (time, insertion sequence), so events at
// the same time run in the order they were scheduled and every run is repeatable.
//
// Two kinds of event: one-shot ones (push), and keyed ones (schedule): a flow's or a compute
// lane's completion, which moves whenever a rate changes. A key holds at most one event, moved
// in place when rescheduled, so the heap never carries stale events to skip (before, a third
// of a DeepSeek-V3 step's events were stale). A rescheduled event takes a new sequence number,
// exactly as a fresh push would, so the order of events is the same as pushing anew.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/event_kinds.hpp"
#include "sim/time.hpp"

namespace ppsim::sim {

struct Event {
  Time time;
  std::uint64_t order;  // insertion sequence x 4 + kind: 24 bytes an event, so more of the heap stays in cache
  std::uint32_t id;     // which op / flow / rank
  std::uint32_t key;    // keyed events: their key; one-shot events: 0
  EventKind kind() const { return static_cast<EventKind>(order & 3); }
};
static_assert(static_cast<int>(EventKind::FlowDone) < 4, "event kinds fit in two bits of Event::order");

class EventQueue {
 public:
  using Key = std::uint32_t;
  EventQueue() : pos_(1, kNowhere) {}  // key 0 is "none"

  void reserve(std::size_t n) { heap_.reserve(n); }
  bool empty() const { return heap_.empty(); }
  Time top_time() const { return heap_.front().time; }  // the next event's time (not empty)
  std::size_t size() const { return heap_.size(); }

  // A new key, with no event yet.
  Key new_key() {
    pos_.push_back(kNowhere);
    return static_cast<Key>(pos_.size() - 1);
  }
  bool pending(Key k) const { return pos_[k] != kNowhere; }

  void push(Time time, EventKind kind, std::uint32_t id) {
    heap_.emplace_back();
    rise(heap_.size() - 1, make(time, kind, id, 0));
  }
  // Sets key k's event (replacing the one it has, if any).
  void schedule(Key k, Time time, EventKind kind, std::uint32_t id) {
    const Event e = make(time, kind, id, k);
    if (pos_[k] == kNowhere) {
      heap_.emplace_back();
      rise(heap_.size() - 1, e);
      return;
    }
    const std::size_t at = pos_[k];
    if (at > 0 && order_of(e) < order_of(heap_[(at - 1) / kArity])) rise(at, e);
    else sink(at, e);
  }
  Event pop() {
    const Event top = copy(heap_.front());
    pos_[top.key] = kNowhere;
    const Event last = copy(heap_.back());
    heap_.pop_back();
    if (!heap_.empty()) sink(0, last);
    return top;
  }

 private:
  static constexpr std::uint32_t kNowhere = UINT32_MAX;
  static constexpr std::size_t kArity = 4;  // a 4-ary heap: half the levels of a binary one, its children in one cache line or two
  __extension__ typedef unsigned __int128 Order;
  // (time, order) as one 128-bit number: a branch-free comparison (times are never negative).
  static Order order_of(const Event& e) { return static_cast<Order>(static_cast<std::uint64_t>(e.time)) << 64 | e.order; }
  Event make(Time time, EventKind kind, std::uint32_t id, Key k) {
    return {time, next_seq_++ << 2 | static_cast<std::uint64_t>(kind), id, k};
  }
  // Events are read and written field by field: a whole-struct copy becomes a 16-byte load of
  // an event that was just written by 8-byte stores, which the CPU cannot forward (a stall of
  // ~10 cycles on every move; a quarter of the heap's time before).
  static void copy_fields(Event& to, const Event& from) {
    to.time = from.time;
    to.order = from.order;
    to.id = from.id;
    to.key = from.key;
  }
  static Event copy(const Event& e) {
    Event c;
    copy_fields(c, e);
    return c;
  }
  void place(std::size_t i, const Event& e) {
    copy_fields(heap_[i], e);
    if (e.key != 0) pos_[e.key] = static_cast<std::uint32_t>(i);  // a branch the simple engine (no keys) always predicts
  }
  // Puts e into the hole at i, moving the hole up past every later parent. The event travels
  // in registers, never written to the heap and read back (which stalls store forwarding).
  void rise(std::size_t i, const Event& e) {
    const Order o = order_of(e);
    while (i > 0) {
      const std::size_t parent = (i - 1) / kArity;
      if (order_of(heap_[parent]) <= o) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, e);
  }
  // Puts e into the hole at i, moving the hole down past every earlier child.
  void sink(std::size_t i, const Event& e) {
    const Order o = order_of(e);
    const std::size_t n = heap_.size();
    for (;;) {
      const std::size_t first = kArity * i + 1;
      if (first >= n) break;
      std::size_t child = first;
      Order best = order_of(heap_[first]);
      const std::size_t last = std::min(first + kArity, n);
      for (std::size_t c = first + 1; c < last; ++c)
        if (const Order oc = order_of(heap_[c]); oc < best) best = oc, child = c;
      if (best >= o) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, e);
  }

  std::vector<Event> heap_;
  std::vector<std::uint32_t> pos_;  // per key: its event's index in heap_, or kNowhere
  std::uint64_t next_seq_ = 0;
};

}  // namespace ppsim::sim
