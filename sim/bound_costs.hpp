#pragma once
// Costs that bound a phased simulation from below, for screening plans without simulating
// them in full (ppsim size). Each op takes at least:
//  - a plain op: its compute at full speed plus its communication at the highest rate its
//    channel can ever give it (the channel's capacity: sharing only slows it);
//  - an F&B pair: the larger of both halves' compute at the pair's rate and each half's own
//    compute at that rate plus its communication.
// The engine with a fixed per-rank order is monotone: an op starts at the later of its rank's
// previous op end and its inputs' arrival, so no op can start earlier when every duration and
// transfer is at least as long. Simulated with these durations and transfers that take only a
// lower bound on their latency, the step is therefore a lower bound on the phased one, with or
// without a network. Peak activations do not depend on timing: they are exact.
#include <vector>

#include "sim/costs.hpp"
#include "sim/engine.hpp"
#include "sim/phases.hpp"
#include "sim/schedule.hpp"

namespace ppsim::sim {

class LowerBoundCosts final : public CostModel {
 public:
  // `scale_out` and `scale_up`: at least the capacity any route of that channel can give one
  // flow (bytes/ns). A model without phases keeps its own durations.
  LowerBoundCosts(const CostModel& costs, double scale_out_bytes_per_ns, double scale_up_bytes_per_ns);

  Time duration(const Op& op) const override;
  std::int64_t p2p_bytes(int stage) const override { return costs_.p2p_bytes(stage); }
  std::int64_t activation_bytes(int stage) const override { return costs_.activation_bytes(stage); }
  int stages() const override { return costs_.stages(); }
  bool fingerprint(std::string& out) const override;

 private:
  struct Half {
    Time compute = 0;  // ns at full speed
    Time comm = 0;     // ns at the channel's capacity, rounded down
  };
  const Half& half(const Op& h) const;

  const CostModel& costs_;
  const PhasedCosts* phased_;
  std::vector<Half> halves_;  // per stage x {F, B, Bi, W}
  std::int64_t pair_rate_ = 1;  // the compute lane's fixed-point rate in an F&B pair, as the engine's
};

// A cruder bound without simulating: each rank runs its ops one after another, so the step is
// at least the busiest rank's total duration. The metrics hold that (makespan = ops_end = the
// busiest rank's busy time, no critical path) and the exact peak activations, which follow from
// each rank's order alone.
Metrics busy_bound(const Schedule& schedule, const CostModel& costs);

}  // namespace ppsim::sim
