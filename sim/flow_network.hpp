#pragma once
// Flow-level network: transfers (flows) cross lists of resources (links, NICs, a rank's
// communication SMs), each with a capacity in bytes/ns. Concurrent flows get max-min fair
// rates (progressive filling). When a flow starts or ends only its connected component (the
// flows that share a resource with it, transitively) is rebalanced: max-min rates of separate
// components do not depend on each other. Each flow's completion is an event in the engine's
// queue (stale ones are skipped by version); a flow's progress is brought up to date lazily,
// when its component changes.
#include <cstdint>
#include <vector>

#include "sim/event_queue.hpp"

namespace ppsim::sim {

class FlowNetwork {
 public:
  FlowNetwork(std::vector<double> capacity_bytes_per_ns, EventQueue& queue);

  // Starts `bytes` over `resources`; `tag` comes back from on_event when it finishes.
  void start(const std::vector<int>& resources, double bytes, Time now, std::int64_t tag);
  // Handles an EventKind::FlowDone event: the finished flow's tag, or -1 when the event is stale.
  std::int64_t on_event(const Event& e, Time now);

  int resources() const { return static_cast<int>(capacity_.size()); }
  int active() const { return active_count_; }
  // Flows whose rates the last change recomputed (its component), for tests and benchmarks.
  int last_rebalanced() const { return static_cast<int>(component_.size()); }

 private:
  struct Flow {
    std::vector<int> resources;
    std::vector<int> at;  // per resource: this flow's index in that resource's list
    double left = 0, rate = 0;
    Time updated = 0;     // `left` is as of this time
    std::int64_t tag = 0;
    std::uint32_t version = 0;
    bool live = false;
  };
  void attach(int slot);
  void detach(int slot);
  // The live flows connected to `resources` through shared resources, into component_.
  void collect(const std::vector<int>& resources);
  void rebalance(Time now);  // the flows in component_

  std::vector<double> capacity_;
  std::vector<Flow> flows_;                  // slots, reused
  std::vector<int> free_;
  std::vector<std::vector<int>> on_;         // per resource: the live flows crossing it
  int active_count_ = 0;
  EventQueue& queue_;
  // Scratch (no allocation per event once warmed up).
  std::vector<int> component_, touched_, stack_;
  std::vector<double> left_capacity_;
  std::vector<int> unfrozen_count_;
  std::vector<char> frozen_;
  std::vector<std::uint32_t> stamp_, flow_stamp_;  // the search that last visited a resource / flow
  std::uint32_t epoch_ = 0;
};

}  // namespace ppsim::sim
