#pragma once
// A schedule is a value: generated once, then validated, simulated, executed and exported.
#include <string>
#include <vector>

#include "sim/op.hpp"

namespace ppsim::sim {

struct Schedule {
  std::string kind;  // generator name ("dualpipe", ...) or where it came from ("csv", "json")
  int ranks = 0;
  int stages = 0;
  int microbatches = 0;
  // Rank of each stage. Bidirectional schedules (DualPipe) send micro-batches
  // >= first_reverse_mb through reverse_placement instead; otherwise it is empty
  // and first_reverse_mb == microbatches.
  std::vector<int> placement;
  std::vector<int> reverse_placement;
  int first_reverse_mb = 0;
  std::vector<std::vector<Op>> per_rank;  // each rank's ops in execution order

  bool bidirectional() const { return !reverse_placement.empty(); }
  // Rank that runs (mb, stage); both must be in range.
  int rank_of(int mb, int stage) const {
    return (bidirectional() && mb >= first_reverse_mb) ? reverse_placement[stage] : placement[stage];
  }
  // Stages a rank holds, in increasing order (counting both directions).
  std::vector<int> stages_of(int rank) const;
  std::size_t op_count() const;

  friend bool operator==(const Schedule&, const Schedule&) = default;
};

}  // namespace ppsim::sim
