#include "sim/generators/builders.hpp"

namespace ppsim::sim::gen {

std::vector<int> identity_placement(int ranks) {
  std::vector<int> p(ranks);
  for (int s = 0; s < ranks; ++s) p[s] = s;
  return p;
}

std::vector<int> looping_placement(int ranks, int stages_per_rank) {
  std::vector<int> p(static_cast<std::size_t>(ranks) * stages_per_rank);
  for (std::size_t s = 0; s < p.size(); ++s) p[s] = static_cast<int>(s % ranks);
  return p;
}

std::vector<int> v_placement(int ranks) {
  std::vector<int> p(2 * static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    p[r] = r;
    p[2 * ranks - 1 - r] = r;
  }
  return p;
}

}  // namespace ppsim::sim::gen
