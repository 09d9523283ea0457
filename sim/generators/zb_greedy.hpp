#pragma once
// The zero-bubble greedy scheduler of sail-sg/zero-bubble-pipeline-parallelism (the one its
// Megatron runtime runs for --enable-zero-bubble: scheduler/zb.py, create_schedule): ZB-1P with
// a memory limit of P pending backwards, ZB-2P with 2P. It places F, B (input grads) and W
// (weight grads) one stage per rank, for given op costs and a memory limit, tries eight
// variants of its rules and keeps the one whose longest stage span is shortest.
#include <vector>

#include "sim/schedule.hpp"

namespace ppsim::sim {

struct ZbGreedyOptions {
  double f = 1, b = 1, w = 1;  // op costs (b: the input-grad backward); any consistent unit
  double comm = 0;             // P2P time between stages
  // Activation memory each op adds (F) or frees (B, W), in any unit; mem_f + mem_b + mem_w = 0.
  double mem_f = 1, mem_b = 0, mem_w = -1;
  double pending = -1;         // memory limit: this many forwards' memory (-1: 2 x ranks, ZB-2P; P: ZB-1P)
};

struct StageCost;
// The options for one stage's costs (F, B the full backward, W; nanoseconds as they are), a
// transfer time between stages, and a memory limit (-1: 2 x ranks).
ZbGreedyOptions zb_options_for(const StageCost& cost, double comm_ns = 0, double pending = -1);

}  // namespace ppsim::sim

namespace ppsim::sim::gen {

// Throws std::invalid_argument ("cannot fit memory ...") where the reference refuses.
Schedule zb_greedy(int ranks, int microbatches, const ZbGreedyOptions& options);
// sail-sg's cost-aware ZB-V (scheduler/zbv.py), V placement, for the same options (its memory
// limit: `pending` forwards, 2P by default); refuses where the reference's assertions fail.
Schedule zbv_greedy(int ranks, int microbatches, const ZbGreedyOptions& options);

}  // namespace ppsim::sim::gen
