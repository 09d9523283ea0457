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

// The parameters one GPU of a pipeline rank holds, before ZeRO: dense ones split by TP, routed
// experts by EP x ETP; and the largest unit (what ZeRO-3 gathers whole at a time).
struct HeldParams {
  double dense = 0, experts = 0, largest_unit = 0;
};
HeldParams params_held(const Scenario& s, const sim::Schedule& schedule, int rank);
// The ranks ZeRO shards them over: DP x CP for dense parameters, the expert-data-parallel
// group (TP x CP x DP / (ETP x EP)) for routed experts.
double dense_shards(const Plan& p);
double expert_shards(const Plan& p);

// `peak_activation_bytes` is the engine's per-rank peak (in-flight count x bytes per stage).
MemoryBreakdown memory_of_rank(const Scenario& s, const sim::Schedule& schedule, int rank,
                               std::int64_t peak_activation_bytes);

}  // namespace ppsim::model
