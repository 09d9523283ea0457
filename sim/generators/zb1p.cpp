// ZB-H1 / ZB1P (Qi et al. 2024) as PyTorch's ScheduleInterleavedZeroBubble orders it with
// one stage per rank: 1F1B with the backward split into Bi and a deferred W.
#include "sim/generators/builders.hpp"
#include "sim/generators/looped_1f1b.hpp"

namespace ppsim::sim::gen {

Schedule zb1p(int ranks, int microbatches) {
  Schedule s{"zb1p", ranks, ranks, microbatches, identity_placement(ranks), {}, microbatches, {}};
  const LoopedPlan plan{ranks, microbatches, 1, 1, true};
  for (int r = 0; r < ranks; ++r) s.per_rank.push_back(looped_rank_ops(plan, r));
  return s;
}

}  // namespace ppsim::sim::gen
