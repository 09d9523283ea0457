#include "model/memory.hpp"

#include <algorithm>

#include "model/work.hpp"

namespace ppsim::model {

HeldParams params_held(const Scenario& s, const sim::Schedule& schedule, int rank) {
  const Plan& p = s.plan;
  HeldParams h;
  for (int stage : schedule.stages_of(rank))
    for (Unit u : s.stage_units.at(stage)) {
      const UnitWork w = unit_work(s, u);
      const double dense = w.dense_params / p.tp, experts = w.routed_expert_params / (static_cast<double>(p.ep) * p.etp);
      h.dense += dense;
      h.experts += experts;
      h.largest_unit = std::max(h.largest_unit, dense + experts);
    }
  return h;
}

double dense_shards(const Plan& p) { return static_cast<double>(p.dp) * p.cp; }

double expert_shards(const Plan& p) {
  return static_cast<double>(p.dp) * p.tp * p.cp / (static_cast<double>(p.ep) * p.etp);
}

MemoryBreakdown memory_of_rank(const Scenario& s, const sim::Schedule& schedule, int rank,
                               std::int64_t peak_activation_bytes) {
  const Plan& p = s.plan;
  constexpr double gib = 1024.0 * 1024.0 * 1024.0;
  const HeldParams h = params_held(s, schedule, rank);
  auto sharded = [&](double bytes_per_param, bool shard) {
    return shard ? h.dense * bytes_per_param / dense_shards(p) + h.experts * bytes_per_param / expert_shards(p)
                 : (h.dense + h.experts) * bytes_per_param;
  };
  MemoryBreakdown m;
  m.rank = rank;
  m.params = h.dense + h.experts;
  m.weights_gib = sharded(p.weight_bytes, p.zero >= 3) / gib;
  // ZeRO-3 / FSDP holds the layer it runs and the one it prefetches unsharded.
  if (p.zero >= 3) m.weights_gib += 2 * h.largest_unit * p.weight_bytes / gib;
  m.grads_gib = sharded(p.grad_bytes, p.zero >= 2) / gib;
  m.optimizer_gib = sharded(p.optimizer_bytes, p.zero >= 1) / gib;
  m.activations_gib = static_cast<double>(peak_activation_bytes) / gib;
  return m;
}

}  // namespace ppsim::model
