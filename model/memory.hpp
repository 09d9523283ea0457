#pragma once
// Memory per GPU: weights, gradients and optimizer states of the stages a rank holds (a
// DualPipe rank holds two), sharded by TP, EP and the ZeRO stage across data parallelism, plus
// the activations the simulated schedule keeps in flight, plus a fixed workspace.
#include <cstdint>

#include "model/scenario.hpp"
#include "sim/schedule.hpp"

namespace ppsim::model {

// CUDA context, communication buffers and allocator fragmentation: a planning allowance.
inline constexpr double kWorkspaceGiB = 3.0;

struct MemoryBreakdown {
  int rank = 0;
  double params = 0;  // parameters held (before ZeRO sharding)
  double weights_gib = 0, grads_gib = 0, optimizer_gib = 0, activations_gib = 0, workspace_gib = kWorkspaceGiB;
  double total_gib() const { return weights_gib + grads_gib + optimizer_gib + activations_gib + workspace_gib; }
};

// `peak_activation_bytes` is the engine's per-rank peak (in-flight count x bytes per stage).
MemoryBreakdown memory_of_rank(const Scenario& s, const sim::Schedule& schedule, int rank,
                               std::int64_t peak_activation_bytes);

}  // namespace ppsim::model
