// 1F1B as PyTorch's Schedule1F1B._step_microbatches executes it: stage r runs
// min(M, P - r) warm-up forwards, then alternates backward/forward, then drains backwards.
#include <algorithm>

#include "sim/generators/builders.hpp"

namespace ppsim::sim::gen {

Schedule one_f_one_b(int ranks, int microbatches) {
  Schedule s{"1f1b", ranks, ranks, microbatches, identity_placement(ranks), {}, microbatches, {}};
  s.per_rank.resize(ranks);
  for (int r = 0; r < ranks; ++r) {
    auto& ops = s.per_rank[r];
    const int warmup = std::min(microbatches, ranks - r);
    int next_f = 0;
    int next_b = 0;
    while (next_f < warmup) ops.push_back(Op::forward(next_f++, r));
    while (true) {  // steady state: one backward, then one forward while forwards remain
      ops.push_back(Op::backward(next_b++, r));
      if (next_f == microbatches) break;
      ops.push_back(Op::forward(next_f++, r));
    }
    while (next_b < microbatches) ops.push_back(Op::backward(next_b++, r));
  }
  return s;
}

}  // namespace ppsim::sim::gen
