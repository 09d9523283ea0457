#include "sim/schedule.hpp"

#include <algorithm>

namespace ppsim::sim {

std::vector<int> Schedule::stages_of(int rank) const {
  std::vector<int> out;
  for (int s = 0; s < stages; ++s) {
    const bool here = placement[s] == rank || (bidirectional() && reverse_placement[s] == rank);
    if (here) out.push_back(s);
  }
  return out;
}

std::size_t Schedule::op_count() const {
  std::size_t n = 0;
  for (const auto& ops : per_rank) n += ops.size();
  return n;
}

}  // namespace ppsim::sim
