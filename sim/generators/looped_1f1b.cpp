#include "sim/generators/looped_1f1b.hpp"

#include <algorithm>

namespace ppsim::sim::gen {

int microbatches_per_round(int ranks, int microbatches) {
  const int rounds = std::max(1, microbatches / ranks);
  return microbatches / rounds;
}

std::vector<Op> looped_rank_ops(const LoopedPlan& plan, int rank) {
  const int P = plan.ranks;
  const int M = plan.microbatches;
  const int V = plan.stages_per_rank;
  const int per_round = microbatches_per_round(P, M);
  // Warm-up: the last rank fills every local stage but the last for one round; each hop
  // further from it adds warmup_hop_factor more forwards. Never more than all forwards.
  const int warmup = std::min((V - 1) * per_round + plan.warmup_hop_factor * (P - 1 - rank), M * V);
  const int steady = M * V - warmup;  // steps with one forward and one backward
  const int total = M * V + warmup;   // warm-up + steady + cool-down (= warmup) steps

  auto forward_stage = [&](int step) { return ((step / per_round) % V) * P + rank; };
  auto backward_stage = [&](int step) { return (V - 1 - ((step - warmup) / per_round) % V) * P + rank; };

  const OpKind backward_kind = plan.zero_bubble ? OpKind::Bi : OpKind::B;
  std::vector<int> next_f(P * V, 0), next_b(P * V, 0), next_w(P * V, 0);
  std::vector<int> backward_stages;  // stage of each backward, in issue order (W follows it)
  std::size_t weights_done = 0;
  std::vector<Op> ops;
  ops.reserve(static_cast<std::size_t>(3) * M * V);

  auto push_forward = [&](int step) {
    const int st = forward_stage(step);
    ops.push_back(Op::forward(next_f[st]++, st));
  };
  auto push_backward = [&](int step) {
    const int st = backward_stage(step);
    ops.push_back(Op{backward_kind, next_b[st]++, st});
    backward_stages.push_back(st);
    // Zero bubble: past the rank's first `rank` steady steps, each backward is followed by
    // the oldest pending weight grad.
    if (plan.zero_bubble && step - warmup >= rank) {
      const int wst = backward_stages[weights_done++];
      ops.push_back(Op::weight(next_w[wst]++, wst));
    }
  };

  for (int step = 0; step < total; ++step) {
    if (step < warmup) {
      push_forward(step);
    } else if (step < warmup + steady) {
      push_forward(step);
      push_backward(step);
    } else {
      push_backward(step);
    }
  }
  while (plan.zero_bubble && weights_done < backward_stages.size()) {
    const int wst = backward_stages[weights_done++];
    ops.push_back(Op::weight(next_w[wst]++, wst));
  }
  return ops;
}

}  // namespace ppsim::sim::gen
