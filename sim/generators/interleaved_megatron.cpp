// Interleaved 1F1B as Megatron-LM runs it (megatron/core/pipeline_parallel/schedules.py,
// forward_backward_pipelining_with_interleaving): V chunks per rank in a looping placement,
// micro-batches taken in groups of N (microbatch_group_size_per_vp_stage, P by default),
// each group through chunk 0, then chunk 1, ...; rank r first runs
// min(2(P - r - 1) + (V - 1) N, M V) forwards, then one forward and one backward at a time,
// then the remaining backwards. Backward k runs the chunks in reverse of forward k.
#include <algorithm>

#include "sim/generators/builders.hpp"

namespace ppsim::sim::gen {

Schedule interleaved_1f1b_megatron(int ranks, int microbatches, int stages_per_rank, int group) {
  const int P = ranks, M = microbatches, V = stages_per_rank, N = group;
  Schedule s{"interleaved-1f1b-megatron", P, P * V, M, looping_placement(P, V), {}, M, {}};
  // The schedule table: (micro-batch, chunk) of forward k, the same for every rank.
  std::vector<std::pair<int, int>> table;
  for (int first = 0; first < M; first += N) {
    const int last = std::min(M, first + N);
    for (int chunk = 0; chunk < V; ++chunk)
      for (int mb = first; mb < last; ++mb) table.emplace_back(mb, chunk);
  }
  const int total = M * V;
  for (int r = 0; r < P; ++r) {
    auto& ops = s.per_rank.emplace_back();
    auto forward = [&](int k) { ops.push_back(Op::forward(table[k].first, table[k].second * P + r)); };
    auto backward = [&](int k) { ops.push_back(Op::backward(table[k].first, (V - 1 - table[k].second) * P + r)); };
    const int warmup = std::min(2 * (P - r - 1) + (V - 1) * N, total);
    for (int k = 0; k < warmup; ++k) forward(k);
    for (int k = 0; k < total - warmup; ++k) {
      forward(k + warmup);
      backward(k);
    }
    for (int k = total - warmup; k < total; ++k) backward(k);
  }
  return s;
}

std::string megatron_interleaved_problem(int ranks, int microbatches, int group) {
  const std::string pm = " (ranks = " + std::to_string(ranks) + ", microbatches = " + std::to_string(microbatches) +
                         ", micro-batch group = " + std::to_string(group) + ")";
  if (group > microbatches || group < ranks)
    return "interleaved-1f1b-megatron needs ranks <= micro-batch group <= microbatches" + pm;
  if (const int left = microbatches % group; left > 0 && left < ranks)
    return "interleaved-1f1b-megatron needs the last micro-batch group to be whole or at least ranks long: "
           "with groups of ranks, microbatches must be a multiple of ranks (Megatron-LM's rule; interleaved-1f1b "
           "follows PyTorch's rounds rule instead)" + pm;
  return {};
}

}  // namespace ppsim::sim::gen
