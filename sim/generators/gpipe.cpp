// GPipe as PyTorch's ScheduleGPipe executes it: every forward, then every backward,
// both in micro-batch order.
#include "sim/generators/builders.hpp"

namespace ppsim::sim::gen {

Schedule gpipe(int ranks, int microbatches) {
  Schedule s{"gpipe", ranks, ranks, microbatches, identity_placement(ranks), {}, microbatches, {}};
  s.per_rank.resize(ranks);
  for (int r = 0; r < ranks; ++r) {
    auto& ops = s.per_rank[r];
    for (int mb = 0; mb < microbatches; ++mb) ops.push_back(Op::forward(mb, r));
    for (int mb = 0; mb < microbatches; ++mb) ops.push_back(Op::backward(mb, r));
  }
  return s;
}

}  // namespace ppsim::sim::gen
