#pragma once
// The dependency DAG of a schedule: one node per op, edges for each rank's program order
// and for data flow (F s -> F s+1; last F -> its backward; backward s+1 -> backward s;
// F -> its own backward; Bi -> its W). A cycle means the schedule deadlocks.
#include <utility>
#include <vector>

#include "sim/schedule.hpp"

namespace ppsim::sim {

struct OpNode {
  int rank;
  int pos;  // index in per_rank[rank]
};

struct Dependencies {
  std::vector<OpNode> nodes;                // ranks in order, then program order
  std::vector<std::pair<int, int>> edges;   // (before, after) node ids
};

// Ops whose micro-batch or stage is out of range are skipped; validate() reports them.
Dependencies build_dependencies(const Schedule& schedule);

}  // namespace ppsim::sim
