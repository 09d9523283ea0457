// DualPipe (DeepSeek-V3) as deepseek-ai/DualPipe's DualPipe.step() executes it.
// Micro-batches 0..M/2-1 enter at rank 0 and flow down; M/2..M-1 enter at rank P-1 and flow
// up. Rank r holds stage r of the first direction and stage P-1-r of the second. On ranks
// of the second half, phase 0 is the second direction (the reference's phase ^= is_in_second_half).
#include <algorithm>

#include "sim/generators/builders.hpp"
#include "sim/generators/dualpipe_program.hpp"

namespace ppsim::sim::gen {

Schedule dualpipe(int ranks, int microbatches) {
  const int P = ranks;
  const int half_mbs = microbatches / 2;
  Schedule s{"dualpipe", P, P, microbatches, identity_placement(P), {}, half_mbs, {}};
  s.reverse_placement.resize(P);
  for (int st = 0; st < P; ++st) s.reverse_placement[st] = P - 1 - st;

  for (int r = 0; r < P; ++r) {
    const int second_half = r >= P / 2 ? 1 : 0;
    PhaseMap map{};
    for (int phase = 0; phase < 2; ++phase) {
      const int direction = phase ^ second_half;
      map.stage[phase] = direction == 0 ? r : P - 1 - r;
      map.first_mb[phase] = direction == 0 ? 0 : half_mbs;
    }
    const auto program = dualpipe_program(P / 2, std::min(r, P - 1 - r), half_mbs);
    s.per_rank.push_back(lower_program(program, map));
  }
  return s;
}

}  // namespace ppsim::sim::gen
