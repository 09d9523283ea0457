#pragma once
// The per-rank op order shared by PyTorch's ScheduleInterleaved1F1B and
// ScheduleInterleavedZeroBubble: warm-up forwards, steady forward/backward pairs,
// cool-down backwards; with zero bubble the backwards are input-grad only (Bi) and the
// deferred weight grads (W) follow in backward order once the rank is past its first
// `rank` steady steps, the rest at the end.
#include <vector>

#include "sim/op.hpp"

namespace ppsim::sim::gen {

struct LoopedPlan {
  int ranks = 0;
  int microbatches = 0;
  int stages_per_rank = 0;
  int warmup_hop_factor = 2;  // extra warm-up forwards per hop from the last rank (2: 1F1B, 1: ZB)
  bool zero_bubble = false;
};

std::vector<Op> looped_rank_ops(const LoopedPlan& plan, int rank);

// PyTorch's rounds rule for looped schedules: rounds = max(1, M / P), M % rounds == 0.
int microbatches_per_round(int ranks, int microbatches);

}  // namespace ppsim::sim::gen
