#pragma once
// The engine's one communication model: pipeline transfers, communication phases and the
// data-parallel tail are flows over resources (links, NICs, a rank's communication SMs or its
// private channel), each with a capacity. Concurrent flows get max-min fair rates (progressive
// filling). The per-link model of the simple engine is the special case of one resource per
// route: max-min on one resource is an equal share.
//
// Integers throughout, so a run repeats bit for bit whatever the machine: a rate is bytes per
// second x kRateScale, an amount is bytes x 1e9 x kRateScale (then ns x rate is an amount).
// kRateScale = lcm(1..16): up to 16 flows share a whole number of bytes per second exactly.
//
// When a flow starts or ends only its connected component (the flows that share a resource
// with it, transitively) is rebalanced: max-min rates of separate components do not depend on
// each other. A flow whose rate did not change keeps its completion event, which is still
// exact in integers; the others' events move (each flow slot has its key in the queue).
#include <array>
#include <cstdint>
#include <vector>

#include "sim/event_queue.hpp"
#include "sim/wide_math.hpp"

namespace ppsim::sim {

class FlowNetwork {
 public:
  using Wide = sim::Wide;
  static constexpr std::int64_t kRateScale = 720720;
  static constexpr int kMaxHops = 8;  // resources on one route

  // Capacities in bytes/ns (GB/s), each > 0; rounded to whole bytes per second.
  FlowNetwork(const std::vector<double>& capacity_bytes_per_ns, EventQueue& queue);

  // Starts `bytes` over `resources` (at most kMaxHops; none: done at once); `tag` comes back
  // from on_event when it finishes.
  void start(const int* resources, int count, std::int64_t bytes, Time now, std::int64_t tag);
  void start(const std::vector<int>& resources, std::int64_t bytes, Time now, std::int64_t tag) {
    start(resources.data(), static_cast<int>(resources.size()), bytes, now, tag);
  }
  // Handles an EventKind::FlowDone event: returns the finished flow's tag.
  std::int64_t on_event(const Event& e, Time now);

  int resources() const { return static_cast<int>(capacity_.size()); }
  int active() const { return active_count_; }
  // Flows whose rates the last change recomputed (its component), for tests and benchmarks.
  int last_rebalanced() const { return static_cast<int>(component_.size()); }

 private:
  struct Flow {
    Wide left = 0;  // amount still to move, as of `updated`
    Wide rate = 0;  // amount per ns
    Time updated = 0;
    std::int64_t tag = 0;
    EventQueue::Key key = 0;  // its completion event's
    int hops = 0;
    bool live = false;
    std::array<int, kMaxHops> resource{}, at{};  // per hop: the resource, this flow's index in its list
  };
  bool detach(int slot);  // true: its resources carry nothing now
  // The live flows connected to `f`'s resources through shared resources, into component_
  // (f itself among them while it is live). Only called when they carry some other flow:
  // start() and on_event() take the alone and idle cases first.
  void collect(const Flow& f);
  bool share_one_route(const Flow& f, Time now, int fresh);  // the fast case of collect() + rebalance()
  void rebalance(Time now, int fresh);  // the flows in component_; `fresh` has just started
  void progress(Flow& f, Time now);
  void schedule_end(Flow& f, int slot, Time now);

  std::vector<Wide> capacity_;               // per resource, rate units
  std::vector<Flow> flows_;                  // slots, reused
  std::vector<int> free_;
  std::vector<std::vector<int>> on_;         // per resource: the live flows crossing it
  int active_count_ = 0;
  EventQueue& queue_;
  // Scratch (no allocation per event once warmed up).
  std::vector<int> component_, touched_, stack_;
  std::vector<Wide> left_capacity_, old_rate_;
  std::vector<int> unfrozen_count_;
  std::vector<char> frozen_, full_;
  std::vector<std::uint32_t> stamp_, flow_stamp_;  // the search that last visited a resource / flow
  std::uint32_t epoch_ = 0;
};

}  // namespace ppsim::sim
