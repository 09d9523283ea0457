#include "model/memory.hpp"

#include <algorithm>

#include "model/work.hpp"

namespace ppsim::model {

MemoryBreakdown memory_of_rank(const Scenario& s, const sim::Schedule& schedule, int rank,
                               std::int64_t peak_activation_bytes) {
  const Plan& p = s.plan;
  constexpr double gib = 1024.0 * 1024.0 * 1024.0;
  double dense = 0, experts = 0, largest_unit = 0;
  for (int stage : schedule.stages_of(rank))
    for (Unit u : s.stage_units.at(stage)) {
      const UnitWork w = unit_work(s, u);
      const double unit = w.dense_params / p.tp + w.routed_expert_params / (static_cast<double>(p.ep) * p.etp);
      dense += w.dense_params / p.tp;
      experts += w.routed_expert_params / (static_cast<double>(p.ep) * p.etp);
      largest_unit = std::max(largest_unit, unit);
    }
  // ZeRO shards across the ranks that hold the same parameters: DP x CP for dense ones, the
  // expert-data-parallel group (TP x CP x DP / (ETP x EP)) for routed experts.
  const double dense_shards = static_cast<double>(p.dp) * p.cp;
  const double expert_shards = static_cast<double>(p.dp) * p.tp * p.cp / (static_cast<double>(p.ep) * p.etp);
  auto sharded = [&](double bytes_per_param, bool shard) {
    return shard ? dense * bytes_per_param / dense_shards + experts * bytes_per_param / expert_shards
                 : (dense + experts) * bytes_per_param;
  };
  MemoryBreakdown m;
  m.rank = rank;
  m.params = dense + experts;
  m.weights_gib = sharded(p.weight_bytes, p.zero >= 3) / gib;
  // ZeRO-3 / FSDP holds the layer it runs and the one it prefetches unsharded.
  if (p.zero >= 3) m.weights_gib += 2 * largest_unit * p.weight_bytes / gib;
  m.grads_gib = sharded(p.grad_bytes, p.zero >= 2) / gib;
  m.optimizer_gib = sharded(p.optimizer_bytes, p.zero >= 1) / gib;
  m.activations_gib = static_cast<double>(peak_activation_bytes) / gib;
  return m;
}

}  // namespace ppsim::model
