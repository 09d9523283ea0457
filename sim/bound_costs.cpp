#include "sim/bound_costs.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/phase_runner.hpp"

namespace ppsim::sim {

namespace {
constexpr OpKind kHalfKinds[] = {OpKind::F, OpKind::B, OpKind::Bi, OpKind::W};
int half_index(OpKind k) { return k == OpKind::F ? 0 : k == OpKind::B ? 1 : k == OpKind::Bi ? 2 : 3; }
}  // namespace

LowerBoundCosts::LowerBoundCosts(const CostModel& costs, double scale_out, double scale_up)
    : costs_(costs), phased_(costs.phased()) {
  if (!phased_) return;
  if (!(scale_out > 0) || !(scale_up > 0)) throw std::invalid_argument("lower bound: channel capacities must be > 0");
  // The engine's lane rate, the same rounding (PhaseRunner): a bound must not round the other way.
  pair_rate_ = PhaseRunner::lane_rate_of(phased_->compute_rate_during_comm());
  // A capacity may be rounded up to a whole byte per second by the network: allow for it.
  const double margin = 1 + 1e-9;
  const int stages = costs.stages();
  halves_.resize(static_cast<std::size_t>(stages) * 4);
  for (int st = 0; st < stages; ++st)
    for (OpKind k : kHalfKinds) {
      Half& h = halves_[static_cast<std::size_t>(st) * 4 + static_cast<std::size_t>(half_index(k))];
      double comm = 0;
      for (const Phase& p : phased_->phases(k, st)) {
        if (p.kind == Phase::Compute) h.compute += p.work;
        else comm += static_cast<double>(p.bytes) / ((p.channel == Channel::ScaleUp ? scale_up : scale_out) * margin);
      }
      h.comm = static_cast<Time>(std::floor(comm));
    }
}

const LowerBoundCosts::Half& LowerBoundCosts::half(const Op& h) const {
  return halves_.at(static_cast<std::size_t>(h.stage) * 4 + static_cast<std::size_t>(half_index(h.kind)));
}

Time LowerBoundCosts::duration(const Op& op) const {
  if (!phased_) return costs_.duration(op);
  if (op.kind != OpKind::FB) {
    const Half& h = half(op);
    return h.compute + h.comm;
  }
  // At the pair's rate, rounded down (the engine rounds each phase up).
  const auto slowed = [&](Time work) {
    return static_cast<Time>(static_cast<FlowNetwork::Wide>(work) * PhaseRunner::kLaneOne / pair_rate_);
  };
  const Half& b = half(op.backward_half());
  const Half& f = half(op.forward_half());
  const Time cb = slowed(b.compute), cf = slowed(f.compute);
  return std::max({slowed(b.compute + f.compute), cb + b.comm, cf + f.comm});
}

bool LowerBoundCosts::fingerprint(std::string& out) const {
  if (!phased_) return costs_.fingerprint(out);
  out.append(reinterpret_cast<const char*>(&pair_rate_), sizeof pair_rate_);
  for (const Half& h : halves_) {
    out.append(reinterpret_cast<const char*>(&h.compute), sizeof h.compute);
    out.append(reinterpret_cast<const char*>(&h.comm), sizeof h.comm);
  }
  return true;
}

Metrics busy_bound(const Schedule& schedule, const CostModel& costs) {
  Metrics m;
  for (int r = 0; r < schedule.ranks; ++r) {
    RankMetrics rm;
    int held = 0;
    std::int64_t bytes = 0;
    for (const Op& op : schedule.per_rank[r]) {
      rm.busy += costs.duration(op);
      if (op.kind == OpKind::F || op.kind == OpKind::FB) {  // held from its start (the engine's rule)
        ++held;
        bytes += costs.activation_bytes(op.stage);
        rm.peak_activations = std::max(rm.peak_activations, held);
        rm.peak_activation_bytes = std::max(rm.peak_activation_bytes, bytes);
      }
      const OpKind released = op.kind == OpKind::FB ? op.b_kind : op.kind;
      if (released == OpKind::B || released == OpKind::W) {  // freed at its end
        --held;
        bytes -= costs.activation_bytes(op.backward_half().stage);
      }
    }
    m.ops_end = std::max(m.ops_end, rm.busy);
    m.per_rank.push_back(rm);
  }
  m.makespan = m.ops_end;
  for (RankMetrics& rm : m.per_rank) {
    rm.bubble = m.makespan - rm.busy;
    rm.bubble_fraction = m.makespan > 0 ? static_cast<double>(rm.bubble) / static_cast<double>(m.makespan) : 0.0;
  }
  return m;
}

}  // namespace ppsim::sim
