// ZB-V (Qi et al. 2024, section 6) as PyTorch's ScheduleZBVZeroBubble orders it: two stages
// per rank in a V (rank r holds r and 2P-1-r), planned for max(2P-1, M) micro-batches and
// then restricted to the M that exist.
#include <algorithm>

#include "sim/generators/builders.hpp"

namespace ppsim::sim::gen {

namespace {

struct ZbvRank {
  int down;  // stage on the way down the V (chunk 0)
  int up;    // stage on the way back up (chunk 1)
  int planned;
  std::vector<Op> ops;
  int f0 = 0, f1 = 0, b0 = 0, b1 = 0;

  void f_down() { ops.push_back(Op::forward(f0++, down)); }
  void f_up() { ops.push_back(Op::forward(f1++, up)); }
  void bw_down() {  // input grad then weight grad of the same micro-batch
    ops.push_back(Op::backward_input(b0, down));
    ops.push_back(Op::weight(b0++, down));
  }
  void bw_up() {
    ops.push_back(Op::backward_input(b1, up));
    ops.push_back(Op::weight(b1++, up));
  }
};

}  // namespace

Schedule zbv(int ranks, int microbatches) {
  const int P = ranks;
  Schedule s{"zbv", P, 2 * P, microbatches, v_placement(P), {}, microbatches, {}};
  const int planned = std::max(2 * P - 1, microbatches);
  for (int r = 0; r < P; ++r) {
    ZbvRank z{r, 2 * P - 1 - r, planned, {}};
    for (int i = 0; i < 2 * (P - r) - 1; ++i) z.f_down();
    for (int i = 0; i < r; ++i) {
      z.f_up();
      z.f_down();
    }
    for (int i = 0; i < P - r; ++i) {
      z.f_up();
      z.bw_up();
    }
    while (z.f1 < z.f0 || z.f0 < planned) {  // steady: F0 I0 W0 F1 I1 W1
      if (z.f0 < planned) z.f_down();
      z.bw_down();
      z.f_up();
      z.bw_up();
    }
    // Cool-down: input grads first, weight grads deferred to the end.
    int w0 = z.b0, w1 = z.b1;
    for (int i = 0; i < r; ++i) {
      z.ops.push_back(Op::backward_input(z.b0++, z.down));
      z.ops.push_back(Op::backward_input(z.b1++, z.up));
    }
    for (int i = 0; i < P - r; ++i) {
      z.ops.push_back(Op::backward_input(z.b0++, z.down));
      z.ops.push_back(Op::weight(w0++, z.down));
    }
    while (w1 < z.b1) z.ops.push_back(Op::weight(w1++, z.up));
    while (w0 < z.b0) z.ops.push_back(Op::weight(w0++, z.down));

    std::erase_if(z.ops, [&](const Op& op) { return op.mb >= microbatches; });
    s.per_rank.push_back(std::move(z.ops));
  }
  return s;
}

}  // namespace ppsim::sim::gen
