#include "model/cost_model.hpp"

#include <algorithm>
#include <cmath>

#include "model/work.hpp"

namespace ppsim::model {

namespace {

sim::Time ns(double seconds) { return static_cast<sim::Time>(std::llround(seconds * 1e9)); }

}  // namespace

RooflineCostModel::RooflineCostModel(const Scenario& s) {
  const Plan& p = s.plan;
  const Efficiencies& e = s.eff;
  const double tokens = static_cast<double>(s.tokens_per_microbatch());
  const double tp = p.tp;
  const double gemm_peak = (p.precision == "fp8" ? s.gpu.fp8_tflops : s.gpu.bf16_tflops) * 1e12;
  const double bf16_peak = s.gpu.bf16_tflops * 1e12;
  const double hbm = s.gpu.hbm_tbps * 1e12 * e.memory;
  const double inter = s.cluster.inter_gbps * 1e9 * e.network;
  const double intra = s.cluster.intra_gbps * 1e9 * e.network;
  const double ring = tp > 1 ? 2 * (tp - 1) / tp : 0;
  overlap_slowdown_ = static_cast<double>(s.gpu.sms) / (s.gpu.sms - p.comm_sms);

  for (const auto& units : s.stage_units) {
    UnitWork w;  // the stage's work per token, summed over its units
    for (Unit u : units) {
      const UnitWork x = unit_work(s, u);
      w.gemm_params += x.gemm_params;
      w.expert_gemm_params += x.expert_gemm_params;
      w.head_params += x.head_params;
      w.attention_flops += x.attention_flops;
      w.memory_bytes += x.memory_bytes;
      w.a2a_bytes += x.a2a_bytes;
      w.tp_bytes += x.tp_bytes;
      w.activation_bytes += x.activation_bytes;
      w.recompute_flops += x.recompute_flops;
    }
    // One pass of each kernel class over the micro-batch, in seconds on one GPU.
    const double gemm = 2 * w.gemm_params * tokens / tp / (gemm_peak * e.gemm);
    const double expert = 2 * w.expert_gemm_params * tokens * e.expert_imbalance / tp / (gemm_peak * e.expert_gemm);
    const double head = 2 * w.head_params * tokens / tp / (bf16_peak * e.gemm);
    const double attn = w.attention_flops * tokens / tp / (bf16_peak * e.attention);
    const double mem = w.memory_bytes * tokens / tp / hbm;
    const double recompute = w.recompute_flops * tokens / tp / (gemm_peak * e.gemm);
    const double a2a = w.a2a_bytes * tokens / inter;
    const double tp_comm = ring * w.tp_bytes * tokens / intra;

    StageTimes t;
    t.forward = {ns(gemm + expert + head + attn + mem), ns(a2a + tp_comm)};
    t.input_grad = {ns(gemm + expert + head + 2.5 * attn + mem + recompute), ns(a2a + tp_comm)};
    t.weight_grad = {ns(gemm + expert + head + 0.25 * mem), 0};
    t.p2p_bytes = static_cast<std::int64_t>(tokens * s.model.hidden * 2 / tp);
    t.activation_bytes = static_cast<std::int64_t>(tokens * w.activation_bytes / tp);
    // Every op takes at least a nanosecond, so the engine's costs stay valid.
    for (PhaseCost* c : {&t.forward, &t.input_grad, &t.weight_grad}) c->compute = std::max<sim::Time>(c->compute, 1);
    stages_.push_back(t);
  }
}

sim::Time RooflineCostModel::exposed_comm(const sim::Op& op) const {
  switch (op.kind) {
    case sim::OpKind::F: return stage(op.stage).forward.comm;
    case sim::OpKind::B:
    case sim::OpKind::Bi: return stage(op.stage).input_grad.comm;
    case sim::OpKind::W: return 0;
    case sim::OpKind::FB: return std::max<sim::Time>(0, pair_comm(op) - pair_compute(op));
  }
  return 0;
}

sim::Time RooflineCostModel::pair_compute(const sim::Op& op) const {
  const StageTimes& f = stage(op.stage);
  const StageTimes& b = stage(op.b_stage);
  const bool full = op.b_kind == sim::OpKind::B;
  const double compute =
      static_cast<double>(f.forward.compute + b.input_grad.compute + (full ? b.weight_grad.compute : 0)) * overlap_slowdown_;
  return static_cast<sim::Time>(std::llround(compute));
}

sim::Time RooflineCostModel::pair_comm(const sim::Op& op) const {
  return stage(op.stage).forward.comm + stage(op.b_stage).input_grad.comm;
}

sim::Time RooflineCostModel::duration(const sim::Op& op) const {
  auto total = [](const PhaseCost& c) { return c.compute + c.comm; };
  switch (op.kind) {
    case sim::OpKind::F: return total(stage(op.stage).forward);
    case sim::OpKind::Bi: return total(stage(op.stage).input_grad);
    case sim::OpKind::W: return total(stage(op.stage).weight_grad);
    case sim::OpKind::B: return total(stage(op.stage).input_grad) + total(stage(op.stage).weight_grad);
    case sim::OpKind::FB: return std::max(pair_compute(op), pair_comm(op));
  }
  return 0;
}

}  // namespace ppsim::model
