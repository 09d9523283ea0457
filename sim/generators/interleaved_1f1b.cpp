// Interleaved 1F1B (Narayanan et al. 2021) as PyTorch's ScheduleInterleaved1F1B orders it:
// V stages per rank in a looping placement (stage s on rank s % P), depth first.
#include "sim/generators/builders.hpp"
#include "sim/generators/looped_1f1b.hpp"

namespace ppsim::sim::gen {

Schedule interleaved_1f1b(int ranks, int microbatches, int stages_per_rank) {
  Schedule s{"interleaved-1f1b", ranks, ranks * stages_per_rank, microbatches,
             looping_placement(ranks, stages_per_rank), {}, microbatches, {}};
  const LoopedPlan plan{ranks, microbatches, stages_per_rank, 2, false};
  for (int r = 0; r < ranks; ++r) s.per_rank.push_back(looped_rank_ops(plan, r));
  return s;
}

}  // namespace ppsim::sim::gen
