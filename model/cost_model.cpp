#include "model/cost_model.hpp"

#include <algorithm>
#include <cmath>

#include "model/collectives.hpp"
#include "model/kernels.hpp"
#include "model/placement.hpp"
#include "model/work.hpp"

namespace ppsim::model {

namespace {

sim::Time ns(double seconds) { return static_cast<sim::Time>(std::llround(seconds * 1e9)); }

using sim::Channel;
using sim::CommKind;

// A piece of communication on one channel, as the time it takes there on its own.
struct Leg {
  Channel channel = Channel::ScaleOut;
  double seconds = 0;
};
using Legs = std::vector<Leg>;

// Seconds of a unit's GEMMs per micro-batch, by class and pass: forward [m x k][k x n],
// input grads [m x n][n x k], weight grads [k x m][m x n].
struct GemmTimes {
  double attn_f = 0, attn_bi = 0, attn_w = 0;  // attention projections
  double mlp_f = 0, mlp_bi = 0, mlp_w = 0;     // MLP, shared experts, router, MTP projection, head
  double expert_f = 0, expert_bi = 0, expert_w = 0;  // routed experts' grouped GEMMs
  double dense_flops_f = 0, expert_flops_f = 0;      // what the forward does, for recompute rates
  double dense_f = 0;                                 // attention + MLP forward seconds (not the head)
  double flops_f = 0;                                 // every GEMM's forward FLOPs
};

// Memory-bound kernels per layer and pass (norms, residual adds, RoPE, activation, dropout,
// routing, permutes, casts): each costs at least the GPU's kernel floor.
constexpr double kMemoryKernelsAttention = 4, kMemoryKernelsMlp = 6;

}  // namespace

RooflineCostModel::RooflineCostModel(const Scenario& s) {
  const Plan& p = s.plan;
  const Efficiencies& e = s.eff;
  const double tokens = s.tokens_per_cp_rank();  // per GPU of a CP group; its TP ranks share them
  const double tp = p.tp, sp_div = p.sp ? p.tp : 1.0;
  const bool fp8 = p.precision == "fp8";
  const double bf16_peak = s.gpu.bf16_tflops * 1e12;
  const double hbm = hbm_bytes_per_second(s.gpu, e.memory);
  const double floor_s = s.gpu.kernels.kernel_us * 1e-6;
  // GEMM rates (model/kernels.hpp): the run precision's, and BF16's for the head and unfused attention.
  const GemmRates run_rates = gemm_rates(s.gpu, fp8, e.gemm, e.memory, e.in_training);
  const GemmRates bf16_rates = gemm_rates(s.gpu, false, e.gemm, e.memory, e.in_training);
  const double inter = s.cluster.inter_gbps * 1e9 * e.network;
  const double intra = s.cluster.intra_gbps * 1e9 * e.network;
  overlap_slowdown_ = static_cast<double>(s.gpu.sms) / (s.gpu.sms - p.comm_sms);
  // The rank's scale-out channel: what its comm SMs can drive, at most the NIC; scale-up: NVLink.
  const double channel = p.comm_sms > 0 ? std::min(p.comm_sms * e.comm_gbps_per_sm * 1e9 * e.network, inter) : inter;
  channel_bytes_per_ns_ = channel * 1e-9;
  scale_up_bytes_per_ns_ = intra * 1e-9;
  const LinkRates rates{intra * 1e-9, channel * 1e-9, s.cluster.intra_latency_us, s.cluster.inter_latency_us};
  auto rate_of = [&](Channel c) { return c == Channel::ScaleUp ? intra : channel; };

  // The groups' shapes, found once (a DP group can hold millions of GPUs).
  const bool moe = s.model.moe.enabled();
  const GroupShape tp_g = group_shape(s, Group::Tp);
  const GroupShape cp_g = p.cp > 1 ? group_shape(s, Group::Cp) : GroupShape{};
  const GroupShape etp_g = moe && p.etp > 1 ? group_shape(s, Group::Etp) : GroupShape{};
  const GroupShape dp_g = p.zero >= 3 ? group_shape(s, Group::DpCp) : GroupShape{};
  const GroupShape edp_g = p.zero >= 3 && moe ? group_shape(s, Group::ExpertDp) : GroupShape{};
  const Channel cp_channel = cp_g.domains > 1 ? Channel::ScaleOut : Channel::ScaleUp;

  // The link that bounds a collective (a hierarchical one ends on the NIC).
  auto bound = [&](const CollectiveCost& c) {
    return c.nic_bytes > 0 && (c.algorithm == "hierarchical" || c.nic_bytes / channel >= c.nvlink_bytes / intra)
               ? Channel::ScaleOut
               : Channel::ScaleUp;
  };
  // One phase on the link that bounds it; a hierarchical collective's two parts in turn.
  auto legs_of = [&](const CollectiveCost& c) -> Legs {
    if (c.algorithm == "none") return {};
    if (c.algorithm == "hierarchical")
      return {{Channel::ScaleUp, c.nvlink_bytes / intra}, {Channel::ScaleOut, c.nic_bytes / channel + c.latency_seconds}};
    return {{bound(c), c.seconds}};
  };

  // A unit's GEMMs by shape, per micro-batch on one GPU. Dense matrices see the GPU's tokens
  // (the whole sequence under SP: it is gathered first); TP cuts each along its split. A routed
  // expert sees the tokens its EP x ETP group sends it: tokens / TP from each of EP x ETP ranks,
  // k of E experts, the busiest rank's imbalance; the rank's E / EP experts run as one grouped GEMM.
  const double expert_tokens =
      moe ? tokens / tp * p.ep * p.etp * s.model.moe.experts_per_token / s.model.moe.routed_experts * e.expert_imbalance : 0;
  const double local_experts = moe ? static_cast<double>(s.model.moe.routed_experts) / p.ep : 0;
  auto gemm_times = [&](const UnitWork& w) {
    GemmTimes t;
    for (const GemmWeight& gw : w.gemms) {
      const bool expert = gw.cls == GemmClass::Expert;
      const double cut = expert ? p.etp : tp;
      const double n = gw.split == 'n' ? gw.n / cut : gw.n, k = gw.split == 'k' ? gw.k / cut : gw.k;
      const double m = expert ? expert_tokens : tokens, groups = expert ? local_experts : 1;
      const GemmRates& r = gw.cls == GemmClass::Head ? bf16_rates : run_rates;
      double f = 0, bi = 0, wg = 0;
      if (expert && e.expert_gemm > 0) {  // a flat efficiency instead of the shapes
        f = bi = wg = 2 * m * n * k * groups / (r.peak * e.expert_gemm);
      } else {
        f = gemm_seconds(r, {m, n, k, groups});
        bi = gemm_seconds(r, {m, k, n, groups});
        wg = gemm_seconds(r, {k, n, m, groups});
      }
      double* slot[3] = {&t.mlp_f, &t.mlp_bi, &t.mlp_w};
      if (gw.cls == GemmClass::Attention) slot[0] = &t.attn_f, slot[1] = &t.attn_bi, slot[2] = &t.attn_w;
      if (expert) slot[0] = &t.expert_f, slot[1] = &t.expert_bi, slot[2] = &t.expert_w;
      *slot[0] += f, *slot[1] += bi, *slot[2] += wg;
      t.flops_f += 2 * m * n * k * groups;
      if (expert) t.expert_flops_f += 2 * m * n * k * groups;
      else if (gw.cls != GemmClass::Head) t.dense_flops_f += 2 * m * n * k, t.dense_f += f;
    }
    return t;
  };
  // The attention core per micro-batch: forward and input-grad seconds.
  struct Core {
    double f = 0, bi = 0;
  };
  auto attention_core = [&](const UnitWork& w) {
    Core c;
    if (w.heads <= 0) return c;
    if (p.attention_kernel == "unfused") {
      // Megatron-LM 2021: Q.K^T and P.V as batched GEMMs over the whole score matrix (masked
      // after), then a fused scale-mask-softmax and dropout through HBM: forward reads and
      // writes 9 bytes per score (scores, probabilities, dropout output and mask), the
      // backward 11; the backward runs 4 such GEMMs where the forward runs 2.
      const double seq = static_cast<double>(s.model.seq_len) / p.cp;
      const double groups = tokens / seq * w.heads / tp;
      const double qk = w.qk_head_dim, v = w.v_head_dim, scores = groups * seq * seq;
      const GemmRates& r = bf16_rates;
      c.f = gemm_seconds(r, {seq, seq, qk, groups}) + gemm_seconds(r, {seq, v, seq, groups}) + 9 * scores / hbm;
      c.bi = gemm_seconds(r, {seq, seq, v, groups}) + gemm_seconds(r, {seq, v, seq, groups}) +
             2 * gemm_seconds(r, {seq, qk, seq, groups}) + 11 * scores / hbm;
      return c;
    }
    // FlashAttention-class: the causal work at the GPU's figure for this head dimension; the
    // backward does 2.5 times the forward's FLOPs at its own figure.
    const double flops = w.attention_flops * tokens / tp;
    auto efficiency = [&](bool backward) {
      return e.attention > 0 ? e.attention : e.in_training * attention_efficiency(s.gpu.kernels, w.qk_head_dim, backward);
    };
    c.f = std::max(flops / (bf16_peak * efficiency(false)), floor_s);
    c.bi = std::max(2.5 * flops / (bf16_peak * efficiency(true)), floor_s);
    return c;
  };

  // Units of one kind cost the same on every stage: count and price each (kind, recomputed
  // whole) once. A sweep builds a cost model per plan, so this keeps it cheap.
  struct Priced {
    bool done = false;
    UnitWork work;
    GemmTimes gemm;
    Core core;
  };
  Priced priced[5][2];
  auto price = [&](Unit u, bool whole_layer) -> const Priced& {
    Priced& slot = priced[static_cast<int>(u)][whole_layer ? 1 : 0];
    if (!slot.done) {
      slot = {true, unit_work(s, u, whole_layer), {}, {}};
      slot.gemm = gemm_times(slot.work);
      slot.core = attention_core(slot.work);
    }
    return slot;
  };

  for (int st = 0; st < static_cast<int>(s.stage_units.size()); ++st) {
    const auto& units = s.stage_units[st];
    const std::vector<bool> whole = recomputed_whole(s, st);
    StageTimes t;
    StagePhases ph;
    std::vector<CommSummary> summary;
    auto entry = [&](CommKind what, const std::string& group) -> CommSummary& {
      auto it = std::find_if(summary.begin(), summary.end(),
                             [&](const CommSummary& x) { return x.what == what && x.group == group; });
      if (it != summary.end()) return *it;
      summary.push_back({what, group, "none", Channel::ScaleUp, 0, 0, 0, 0});
      return summary.back();
    };
    auto note = [&](CommKind what, const char* group, const CollectiveCost& c, double times, double exposed) {
      if (c.algorithm == "none") return;
      CommSummary& sum = entry(what, group);
      sum.algorithm = c.algorithm;
      sum.nic_bytes += c.nic_bytes * times;
      sum.nvlink_bytes += c.nvlink_bytes * times;
      sum.seconds += c.seconds * times;
      sum.exposed_seconds += exposed;
      sum.channel = bound(c);
    };
    double f_compute = 0, bi_compute = 0, w_compute = 0, f_comm = 0, bi_comm = 0;
    double* comm_sum = nullptr;  // f_comm or bi_comm, for the list being written
    auto compute = [](std::vector<sim::Phase>& list, double seconds) {
      const sim::Time work = std::max<sim::Time>(1, ns(seconds));
      if (!list.empty() && list.back().kind == sim::Phase::Compute) list.back().work += work;  // merge
      else list.push_back({sim::Phase::Compute, work, 0});
    };
    auto comm = [&](std::vector<sim::Phase>& list, CommKind what, const Legs& legs, double scale = 1) {
      for (const Leg& l : legs) {
        const double seconds = l.seconds * scale;
        const double bytes = seconds * rate_of(l.channel);
        if (bytes < 0.5) continue;
        list.push_back({sim::Phase::Comm, 0, static_cast<std::int64_t>(std::llround(bytes)), l.channel, what});
        if (comm_sum) *comm_sum += seconds;
      }
    };

    // Per unit and micro-batch: seconds of each compute part, and the unit's communication.
    struct Part {
      double attn_f = 0, mlp_f = 0, attn_bi = 0, mlp_bi = 0, attn_w = 0, mlp_w = 0, core = 0;
      Legs tp, dispatch, combine, back_dispatch, back_combine, etp;
      int tp_count = 0;
      double cp_f = 0, cp_bi = 0;  // exposed ring-attention seconds
      double gather = 0, scatter = 0;  // ZeRO-3: this unit's parameter gather and gradient reduce-scatter
      Legs zero3;                      //   their dense and expert parts, each on its link (seconds)
      bool whole = false;
    };
    std::vector<Part> parts;
    for (std::size_t i = 0; i < units.size(); ++i) {
      const Priced& pr = price(units[i], whole[i]);
      const UnitWork& w = pr.work;
      Part q;
      q.whole = whole[i];
      const GemmTimes& gt = pr.gemm;
      const double dense_rate = gt.dense_f > 0 ? gt.dense_flops_f / gt.dense_f : run_rates.peak * run_rates.efficiency;
      const double expert_rate = gt.expert_f > 0 ? gt.expert_flops_f / gt.expert_f : dense_rate;
      const Core& core = pr.core;
      q.core = core.f;
      // Memory-bound kernels: their bytes at HBM speed, never under their kernels' floors.
      const bool layer = w.heads > 0;
      const double attn_mem = std::max(w.attn_memory_bytes * tokens / sp_div / hbm, layer ? kMemoryKernelsAttention * floor_s : 0);
      const double mlp_mem = std::max(((w.memory_bytes - w.attn_memory_bytes - w.mlp_norm_memory_bytes) / tp +
                                       w.mlp_norm_memory_bytes / sp_div) * tokens / hbm,
                                      layer ? kMemoryKernelsMlp * floor_s : 0);
      // Recomputation, each part at its own kernels' rate (a whole layer replays its forward instead).
      const double recompute =
          q.whole ? 0
                  : 2 * w.recompute_gemm_params * tokens / tp / dense_rate +
                        2 * w.recompute_expert_params * tokens / tp / expert_rate +
                        (w.attention_flops > 0 ? core.f * w.recompute_attention_flops / w.attention_flops : 0) +
                        w.recompute_memory_bytes * tokens / tp / hbm;
      q.attn_f = gt.attn_f + q.core + attn_mem;
      q.mlp_f = gt.mlp_f + gt.expert_f + mlp_mem;
      q.attn_bi = gt.attn_bi + core.bi + attn_mem + recompute;
      q.mlp_bi = gt.mlp_bi + gt.expert_bi + mlp_mem;
      q.attn_w = gt.attn_w + 0.25 * attn_mem;
      q.mlp_w = gt.mlp_w + gt.expert_w + 0.25 * mlp_mem;
      ComputeSummary& cs = t.compute;
      const double redo = q.whole ? q.attn_f + q.mlp_f : recompute;
      cs.gemm += gt.attn_f + gt.attn_bi + gt.attn_w + gt.mlp_f + gt.mlp_bi + gt.mlp_w;
      cs.expert_gemm += gt.expert_f + gt.expert_bi + gt.expert_w;
      cs.attention += core.f + core.bi;
      cs.memory += 2.25 * (attn_mem + mlp_mem);
      cs.recompute += redo;
      cs.gemm_flops += 3 * gt.flops_f;
      const double passes = 2.0 + (q.whole ? 1 : 0);  // forward + backward (+ the replayed forward)
      // TP: an all-reduce of the hidden state after attention and after the MLP (SP: a
      // reduce-scatter + all-gather of the same size, the same ring time), again in the backward.
      if (p.tp > 1 && w.tp_collectives > 0) {
        const CollectiveCost c = collective_cost(Collective::AllReduce, tokens * w.tp_bytes, tp_g, rates);
        q.tp = legs_of(c);
        q.tp_count = w.tp_collectives;
        note(CommKind::TensorParallel, "tp", c, w.tp_collectives * passes, 0);
      }
      if (w.moe) {
        // Each TP rank dispatches its 1/TP of the tokens (Megatron splits them for MoE); the
        // share for other domains crosses the NIC, the rest NVLink, pipelined (DeepEP).
        const double moe_tokens = tokens / tp;
        auto a2a = [&](double per_copy) {
          CollectiveCost c;
          c.algorithm = "pairwise";
          c.nic_bytes = moe_tokens * w.a2a_nic_copies * per_copy;
          c.nvlink_bytes = moe_tokens * (w.a2a_copies - w.a2a_nic_copies) * per_copy;
          c.latency_seconds = (c.nic_bytes > 0 ? s.cluster.inter_latency_us : s.cluster.intra_latency_us) * 1e-6;
          c.seconds = std::max(c.nic_bytes / channel, c.nvlink_bytes / intra) + c.latency_seconds;
          if (c.nic_bytes + c.nvlink_bytes <= 0) c = CollectiveCost{"none", 0, 0, 0, 0};  // EP 1: nothing moves
          return c;
        };
        const CollectiveCost dispatch = a2a(w.dispatch_bytes_per_copy), combine = a2a(w.combine_bytes_per_copy);
        q.dispatch = legs_of(dispatch);
        q.combine = legs_of(combine);
        // Gradients retrace the all-to-all in BF16: both ways carry what combine did.
        q.back_dispatch = q.back_combine = q.combine;
        note(CommKind::Dispatch, "ep", dispatch, 1 + (q.whole ? 1 : 0), 0);
        note(CommKind::Dispatch, "ep", combine, 1, 0);
        note(CommKind::Combine, "ep", combine, 2 + (q.whole ? 1 : 0), 0);
        if (p.etp > 1) {
          // Megatron-Core all-gathers the received tokens over ETP and reduce-scatters them back.
          const double received = moe_tokens * s.model.moe.experts_per_token * s.model.hidden * 2;
          const CollectiveCost c = collective_cost(Collective::AllGather, received * p.etp, etp_g, rates);
          q.etp = legs_of(c);
          note(CommKind::ExpertTensorParallel, "etp", c, 2 * passes, 0);
        }
      }
      if (p.cp > 1 && w.kv_bytes > 0) {
        // Ring attention: CP-1 steps, each computing on one K/V block while the next arrives.
        // The forward passes K and V, the backward K and V again and their gradients.
        // Each step every GPU sends its block to the next: across domains some hop crosses a NIC.
        const double block = tokens * w.kv_bytes / tp;
        const bool across = cp_g.domains > 1;
        CollectiveCost ring;
        ring.algorithm = "ring-p2p";
        (across ? ring.nic_bytes : ring.nvlink_bytes) = (p.cp - 1) * block;
        const double step = block / (across ? channel : intra) +
                            (across ? s.cluster.inter_latency_us : s.cluster.intra_latency_us) * 1e-6;
        ring.seconds = (p.cp - 1) * step;
        const double core_step = q.core / p.cp;
        q.cp_f = (p.cp - 1) * std::max(0.0, step - core_step);
        q.cp_bi = (p.cp - 1) * std::max(0.0, 2 * step - 2.5 * core_step);
        note(CommKind::ContextParallel, "cp", ring, 3 + (q.whole ? 1 : 0), q.cp_f * (q.whole ? 2 : 1) + q.cp_bi);
      }
      if (p.zero >= 3) {
        // FSDP / ZeRO-3: this unit's BF16 parameters are gathered before its F and its B, and its
        // gradients reduce-scattered after its backward.
        const CollectiveCost g1 = collective_cost(Collective::AllGather, w.dense_params / tp * 2, dp_g, rates);
        const CollectiveCost g2 =
            collective_cost(Collective::AllGather, w.routed_expert_params / (p.ep * p.etp) * 2, edp_g, rates);
        q.gather = g1.seconds + g2.seconds;
        q.scatter = q.gather;  // a reduce-scatter of the gradients moves what the gather did
        for (const CollectiveCost* g : {&g1, &g2})
          if (g->algorithm != "none") q.zero3.push_back({bound(*g), g->seconds});
        note(CommKind::ParamGather, "dp-cp", g1, 2, 0);
        note(CommKind::ParamGather, "expert-dp", g2, 2, 0);
        note(CommKind::GradReduceScatter, "dp-cp", g1, 1, 0);
        note(CommKind::GradReduceScatter, "expert-dp", g2, 1, 0);
      }
      parts.push_back(std::move(q));
      t.activation_bytes += static_cast<std::int64_t>(tokens * w.activation_bytes);
    }

    // ZeRO-3 prefetch: a unit's gather runs under the compute of the unit before it (in the
    // order the op visits them); only the first one, and what compute cannot cover, waits.
    auto prefetched = [&](double need, double covered_by, bool first) { return first ? need : std::max(0.0, need - covered_by); };
    // What of a unit's ZeRO-3 gather (or reduce-scatter) waits: its parts scaled to that share,
    // each on its link; the exposure is noted per kind for the summary.
    double exposed_gather = 0, exposed_scatter = 0;
    auto zero3_legs = [&](const Part& q, double seconds, double* exposed) {
      Legs out;
      if (q.gather <= 0 || seconds <= 0) return out;
      if (exposed) *exposed += seconds;
      for (const Leg& l : q.zero3) out.push_back({l.channel, l.seconds * seconds / q.gather});
      return out;
    };
    auto forward = [&](std::vector<sim::Phase>& list, const Part& q) {
      compute(list, q.attn_f);
      comm(list, CommKind::ContextParallel, {{cp_channel, q.cp_f}});
      comm(list, CommKind::TensorParallel, q.tp);
      comm(list, CommKind::Dispatch, q.dispatch);
      comm(list, CommKind::ExpertTensorParallel, q.etp);
      compute(list, q.mlp_f);
      comm(list, CommKind::ExpertTensorParallel, q.etp);
      comm(list, CommKind::Combine, q.combine);
      if (q.tp_count > 1) comm(list, CommKind::TensorParallel, q.tp);
    };
    comm_sum = &f_comm;
    for (std::size_t i = 0; i < parts.size(); ++i) {  // forward: in order
      const Part& q = parts[i];
      const double before = i > 0 ? parts[i - 1].attn_f + parts[i - 1].mlp_f : 0;
      comm(ph.f, CommKind::ParamGather, zero3_legs(q, prefetched(q.gather, before, i == 0), &exposed_gather));
      forward(ph.f, q);
      f_compute += q.attn_f + q.mlp_f;
    }
    comm_sum = &bi_comm;
    for (std::size_t j = parts.size(); j-- > 0;) {  // backward: the reverse
      const Part& q = parts[j];
      const bool last_visited = j + 1 == parts.size();
      const double before = last_visited ? 0 : parts[j + 1].attn_bi + parts[j + 1].mlp_bi;
      for (auto* list : {&ph.bi, &ph.b}) {
        const bool full = list == &ph.b;
        comm_sum = full ? nullptr : &bi_comm;  // counted once, in Bi (B's weight-grad part is W's)
        comm(*list, CommKind::ParamGather,
             zero3_legs(q, prefetched(q.gather, before, last_visited), full ? nullptr : &exposed_gather));
        if (q.whole) forward(*list, q);  // the layer's forward again, communication included
        if (q.tp_count > 1) comm(*list, CommKind::TensorParallel, q.tp);
        comm(*list, CommKind::Combine, q.back_combine);
        comm(*list, CommKind::ExpertTensorParallel, q.etp);
        compute(*list, q.mlp_bi + (full ? q.mlp_w : 0));
        comm(*list, CommKind::ExpertTensorParallel, q.etp);
        comm(*list, CommKind::Dispatch, q.back_dispatch);
        comm(*list, CommKind::TensorParallel, q.tp);
        compute(*list, q.attn_bi + (full ? q.attn_w : 0));
        comm(*list, CommKind::ContextParallel, {{cp_channel, q.cp_bi}});
        // The gradients of the unit visited before this one leave under this unit's compute.
        if (full && q.scatter > 0) {
          const double cover = q.attn_bi + q.mlp_bi + q.attn_w + q.mlp_w;
          const double prev = last_visited ? 0 : parts[j + 1].scatter;
          if (!last_visited) comm(*list, CommKind::GradReduceScatter, zero3_legs(parts[j + 1], std::max(0.0, prev - cover), nullptr));
          if (j == 0) comm(*list, CommKind::GradReduceScatter, zero3_legs(q, q.scatter, nullptr));
        }
      }
      if (q.whole) bi_compute += q.attn_f + q.mlp_f;
      bi_compute += q.attn_bi + q.mlp_bi;
    }
    comm_sum = nullptr;
    for (std::size_t j = parts.size(); j-- > 0;) {  // weight grads, with the gradients' reduce-scatter
      const Part& q = parts[j];
      compute(ph.w, q.mlp_w + q.attn_w);
      w_compute += q.attn_w + q.mlp_w;
      if (q.scatter > 0) {
        const double prev = j + 1 == parts.size() ? 0 : parts[j + 1].scatter;
        if (j + 1 < parts.size())
          comm(ph.w, CommKind::GradReduceScatter, zero3_legs(parts[j + 1], std::max(0.0, prev - (q.attn_w + q.mlp_w)), &exposed_scatter));
        if (j == 0) comm(ph.w, CommKind::GradReduceScatter, zero3_legs(q, q.scatter, &exposed_scatter));
      }
    }
    // The ZeRO-3 exposure, shared out over the dense and expert entries by their time.
    for (const auto& [what, exposed] : {std::pair{CommKind::ParamGather, exposed_gather}, {CommKind::GradReduceScatter, exposed_scatter}}) {
      double total = 0;
      for (const CommSummary& c : summary)
        if (c.what == what) total += c.seconds;
      for (CommSummary& c : summary)
        if (c.what == what && total > 0) c.exposed_seconds += exposed * c.seconds / total;
    }
    double w_comm = 0;
    for (const sim::Phase& ph_w : ph.w)
      if (ph_w.kind == sim::Phase::Comm) w_comm += static_cast<double>(ph_w.bytes) / rate_of(ph_w.channel);
    t.forward = {std::max<sim::Time>(1, ns(f_compute)), ns(f_comm)};
    t.input_grad = {std::max<sim::Time>(1, ns(bi_compute)), ns(bi_comm)};
    t.weight_grad = {std::max<sim::Time>(1, ns(w_compute)), ns(w_comm)};
    // Megatron scatters a P2P tensor over the TP ranks and all-gathers it after (with SP it is split anyway).
    t.p2p_bytes = static_cast<std::int64_t>(tokens * s.model.hidden * 2 / tp);
    stages_.push_back(t);
    phases_.push_back(std::move(ph));
    summaries_.push_back(std::move(summary));
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
    case sim::OpKind::B: return stage(op.stage).input_grad.comm + stage(op.stage).weight_grad.comm;
    case sim::OpKind::Bi: return stage(op.stage).input_grad.comm;
    case sim::OpKind::W: return stage(op.stage).weight_grad.comm;
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
  const bool full = op.b_kind == sim::OpKind::B;
  return stage(op.stage).forward.comm + stage(op.b_stage).input_grad.comm + (full ? stage(op.b_stage).weight_grad.comm : 0);
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
