#pragma once
// Flow-level network: transfers (flows) cross lists of resources (links, NICs, a rank's
// communication SMs), each with a capacity in bytes/ns. Concurrent flows get max-min fair
// rates (progressive filling), recomputed whenever a flow starts or ends; each flow's
// completion is an event in the engine's queue (stale ones are skipped by version).
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
  int active() const { return static_cast<int>(active_.size()); }

 private:
  struct Flow {
    std::vector<int> resources;
    double left = 0, rate = 0;
    std::int64_t tag = 0;
    std::uint32_t version = 0;
    bool live = false;
  };
  void progress(Time now);
  void rebalance(Time now);

  std::vector<double> capacity_;
  std::vector<Flow> flows_;      // slots, reused
  std::vector<int> active_, free_;
  EventQueue& queue_;
  Time last_ = 0;
  // Scratch for rebalance (no allocation per event once warmed up).
  std::vector<double> left_capacity_;
  std::vector<int> unfrozen_count_;
  std::vector<char> frozen_;
  std::vector<int> touched_;              // resources the active flows cross
  std::vector<std::uint32_t> stamp_;      // per resource: the rebalance that last touched it
  std::uint32_t epoch_ = 0;
};

}  // namespace ppsim::sim
