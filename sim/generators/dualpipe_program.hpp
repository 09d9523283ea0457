#pragma once
// The per-rank program shared by DeepSeek's DualPipe.step() and DualPipeV.step(): eight
// steps of forward / backward / overlapped F&B / weight chunks on two "phases" (the rank's
// two model chunks). DualPipe on P ranks and M micro-batches runs, on rank r, the program
// with half_ranks = P/2, half_rank = min(r, P-1-r), chunks = M/2; DualPipeV runs it with
// half_ranks = P, half_rank = r, chunks = M. Phases are mapped to stages by the caller.
#include <vector>

namespace ppsim::sim::gen {

struct PhaseAction {
  enum Kind { Forward, Backward, ForwardBackward, Weight } kind;
  int phase = 0;             // Forward/Backward: the chunk; ForwardBackward: the forward's
  int backward_phase = 0;    // ForwardBackward: the backward's chunk
  bool zero_bubble = false;  // Backward: weight grad deferred to a later Weight (FIFO)
};

std::vector<PhaseAction> dualpipe_program(int half_ranks, int half_rank, int chunks);

}  // namespace ppsim::sim::gen

#include "sim/op.hpp"

namespace ppsim::sim::gen {

// Where a rank's phase p lives: its chunk c is micro-batch first_mb[p] + c of stage[p].
struct PhaseMap {
  int stage[2];
  int first_mb[2];
};

// Turns a phase program into ops: chunks of a phase are taken in order, an F&B pair
// becomes one FB op (forward half, full-backward half), and each Weight runs the oldest
// deferred weight grad (first in, first out, like DualPipe's WeightGradStore).
std::vector<Op> lower_program(const std::vector<PhaseAction>& program, const PhaseMap& map);

}  // namespace ppsim::sim::gen
