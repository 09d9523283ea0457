// DualPipeV ("cut-in-half" DualPipe) as deepseek-ai/DualPipe's DualPipeV.step() executes it:
// one direction, two stages per rank in a V (rank r holds r and 2P-1-r), M micro-batches.
#include "sim/generators/builders.hpp"
#include "sim/generators/dualpipe_program.hpp"

namespace ppsim::sim::gen {

Schedule dualpipev(int ranks, int microbatches) {
  const int P = ranks;
  Schedule s{"dualpipev", P, 2 * P, microbatches, v_placement(P), {}, microbatches, {}};
  for (int r = 0; r < P; ++r) {
    const PhaseMap map{{r, 2 * P - 1 - r}, {0, 0}};
    s.per_rank.push_back(lower_program(dualpipe_program(P, r, microbatches), map));
  }
  return s;
}

}  // namespace ppsim::sim::gen
