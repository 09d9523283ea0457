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
  // The rank's communication channel: what its comm SMs can drive, at most the NIC.
  const double channel = p.comm_sms > 0 ? std::min(p.comm_sms * e.comm_gbps_per_sm * 1e9 * e.network, inter) : inter;
  channel_bytes_per_ns_ = channel * 1e-9;

  for (const auto& units : s.stage_units) {
    StageTimes t;
    StagePhases ph;
    double f_compute = 0, bi_compute = 0, w_compute = 0, f_comm = 0, bi_comm = 0;
    auto add = [](std::vector<sim::Phase>& list, sim::Phase::Kind kind, double seconds, double bytes) {
      if (kind == sim::Phase::Compute) {
        const sim::Time work = std::max<sim::Time>(1, ns(seconds));
        if (!list.empty() && list.back().kind == sim::Phase::Compute) list.back().work += work;  // merge
        else list.push_back({sim::Phase::Compute, work, 0});
      } else if (bytes > 0) {
        list.push_back({sim::Phase::Comm, 0, static_cast<std::int64_t>(std::llround(bytes))});
      }
    };
    // Per unit, per micro-batch: seconds of each part, and bytes of each transfer.
    struct Part { double attn_f, mlp_f, attn_bi, mlp_bi, attn_w, mlp_w, dispatch, combine, tp; };
    std::vector<Part> parts;
    for (Unit u : units) {
      const UnitWork w = unit_work(s, u);
      const double mlp_params = w.gemm_params - w.attn_gemm_params;
      const double attn_gemm = 2 * w.attn_gemm_params * tokens / tp / (gemm_peak * e.gemm);
      const double mlp_gemm = 2 * mlp_params * tokens / tp / (gemm_peak * e.gemm) +
                              2 * w.expert_gemm_params * tokens * e.expert_imbalance / tp / (gemm_peak * e.expert_gemm) +
                              2 * w.head_params * tokens / tp / (bf16_peak * e.gemm);
      const double core = w.attention_flops * tokens / tp / (bf16_peak * e.attention);
      const double attn_mem = w.attn_memory_bytes * tokens / tp / hbm;
      const double mlp_mem = (w.memory_bytes - w.attn_memory_bytes) * tokens / tp / hbm;
      const double recompute = w.recompute_flops * tokens / tp / (gemm_peak * e.gemm);
      Part part;
      part.attn_f = attn_gemm + core + attn_mem;
      part.mlp_f = mlp_gemm + mlp_mem;
      part.attn_bi = attn_gemm + 2.5 * core + attn_mem + recompute;
      part.mlp_bi = mlp_gemm + mlp_mem;
      part.attn_w = attn_gemm + 0.25 * attn_mem;
      part.mlp_w = mlp_gemm + 0.25 * mlp_mem;
      part.dispatch = w.dispatch_bytes * tokens;
      part.combine = (w.a2a_bytes - w.dispatch_bytes) * tokens;
      // One TP all-reduce after attention and one after the MLP, as channel-equivalent bytes.
      part.tp = ring * (w.tp_bytes / 2) * tokens / intra * channel;
      parts.push_back(part);
      t.activation_bytes += static_cast<std::int64_t>(tokens * w.activation_bytes / tp);
    }
    for (const Part& q : parts) {  // forward: attention -> dispatch -> MLP -> combine
      add(ph.f, sim::Phase::Compute, q.attn_f, 0);
      add(ph.f, sim::Phase::Comm, 0, q.tp);
      add(ph.f, sim::Phase::Comm, 0, q.dispatch);
      add(ph.f, sim::Phase::Compute, q.mlp_f, 0);
      add(ph.f, sim::Phase::Comm, 0, q.combine);
      add(ph.f, sim::Phase::Comm, 0, q.tp);
      f_compute += q.attn_f + q.mlp_f;
      f_comm += (q.dispatch + q.combine + 2 * q.tp) / channel;
    }
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {  // backward: the reverse
      const Part& q = *it;
      // Gradients retrace the all-to-all in BF16: combine^T carries what combine did, dispatch^T
      // the dispatched copies at 2 bytes.
      const double back_dispatch = q.combine, back_combine = q.combine;
      for (auto* list : {&ph.bi, &ph.b}) {
        const bool full = list == &ph.b;
        add(*list, sim::Phase::Comm, 0, q.tp);
        add(*list, sim::Phase::Comm, 0, back_combine);
        add(*list, sim::Phase::Compute, q.mlp_bi + (full ? q.mlp_w : 0), 0);
        add(*list, sim::Phase::Comm, 0, back_dispatch);
        add(*list, sim::Phase::Comm, 0, q.tp);
        add(*list, sim::Phase::Compute, q.attn_bi + (full ? q.attn_w : 0), 0);
      }
      add(ph.w, sim::Phase::Compute, q.mlp_w + q.attn_w, 0);
      bi_compute += q.attn_bi + q.mlp_bi;
      w_compute += q.attn_w + q.mlp_w;
      bi_comm += (back_dispatch + back_combine + 2 * q.tp) / channel;
    }
    t.forward = {std::max<sim::Time>(1, ns(f_compute)), ns(f_comm)};
    t.input_grad = {std::max<sim::Time>(1, ns(bi_compute)), ns(bi_comm)};
    t.weight_grad = {std::max<sim::Time>(1, ns(w_compute)), 0};
    t.p2p_bytes = static_cast<std::int64_t>(tokens * s.model.hidden * 2 / tp);
    stages_.push_back(t);
    phases_.push_back(std::move(ph));
  }
}

const std::vector<sim::Phase>& RooflineCostModel::phases(sim::OpKind kind, int stage) const {
  const StagePhases& p = phases_.at(stage);
  switch (kind) {
    case sim::OpKind::F: return p.f;
    case sim::OpKind::B: return p.b;
    case sim::OpKind::Bi: return p.bi;
    default: return p.w;
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
