#include "model/work.hpp"

#include <algorithm>

#include "model/placement.hpp"

namespace ppsim::model {

namespace {

constexpr double kAct = 2;  // BF16 activations

// The attention of one layer, per token, over the whole TP group.
struct Attention {
  double params = 0;      // projections
  double up_params = 0;   // MLA: the up-projections, recomputable from the latents
  double flops = 0;       // the core, causal, at this sequence length
  // Saved for the backward (bytes): the norm's input (the residual stream) and output, MLA's
  // latents, Q/K/V, and the core's output with its log-sum-exp.
  double norm_in = 0, norm_out = 0, latents = 0, qkv = 0, core_out = 0, lse = 0;
  double kv = 0;          // K and V of one token, as ring attention passes them
  double qk_dim = 0, v_dim = 0;   // head dimensions
  std::vector<GemmWeight> gemms;  // the projections by shape
};

Attention attention(const ModelSpec& m) {
  const double h = m.hidden, H = m.heads;
  const double s_avg = (m.seq_len + 1) / 2.0;  // causal: token i attends to i + 1 keys
  Attention a;
  a.norm_in = a.norm_out = kAct * h;
  a.lse = 4 * H;
  if (m.attention.kind == "mla") {
    const auto& x = m.attention;
    const double qk = x.qk_nope_head_dim + x.qk_rope_head_dim;
    const double q_down = x.q_lora_rank > 0 ? h * x.q_lora_rank : 0;
    const double q_up = x.q_lora_rank > 0 ? x.q_lora_rank * H * qk : h * H * qk;
    const double kv_up = x.kv_lora_rank * H * (x.qk_nope_head_dim + x.v_head_dim);
    a.params = q_down + q_up + h * (x.kv_lora_rank + x.qk_rope_head_dim) + kv_up + H * x.v_head_dim * h;
    a.up_params = (x.q_lora_rank > 0 ? q_up : 0) + kv_up;
    a.flops = 2.0 * H * s_avg * (qk + x.v_head_dim);
    a.latents = kAct * (x.q_lora_rank + x.kv_lora_rank + x.qk_rope_head_dim);
    a.qkv = kAct * H * (2 * qk + x.v_head_dim);
    a.core_out = kAct * H * x.v_head_dim;
    a.kv = kAct * H * (qk + x.v_head_dim);
    a.qk_dim = qk;
    a.v_dim = x.v_head_dim;
    using G = GemmWeight;
    const GemmClass c = GemmClass::Attention;
    if (x.q_lora_rank > 0) a.gemms.push_back(G{c, static_cast<double>(x.q_lora_rank), h, 'n'});
    a.gemms.push_back(G{c, H * qk, x.q_lora_rank > 0 ? static_cast<double>(x.q_lora_rank) : h, 'n'});
    a.gemms.push_back(G{c, static_cast<double>(x.kv_lora_rank + x.qk_rope_head_dim), h, 'n'});
    a.gemms.push_back(G{c, H * (x.qk_nope_head_dim + x.v_head_dim), static_cast<double>(x.kv_lora_rank), 'n'});
    a.gemms.push_back(G{c, h, H * x.v_head_dim, 'k'});
  } else {
    const double hd = m.head_dim, kv_heads = m.kv_heads;
    a.params = h * H * hd + 2 * h * kv_heads * hd + H * hd * h;
    a.flops = 4.0 * H * hd * s_avg;
    a.qkv = kAct * hd * (H + 2 * kv_heads);
    a.core_out = kAct * H * hd;
    a.kv = kAct * 2 * kv_heads * hd;
    a.qk_dim = a.v_dim = hd;
    a.gemms = {{GemmClass::Attention, hd * (H + 2 * kv_heads), h, 'n'}, {GemmClass::Attention, h, H * hd, 'k'}};
  }
  return a;
}

double mlp_params(const ModelSpec& m, double ffn) { return (m.ffn_kind == "swiglu" ? 3.0 : 2.0) * m.hidden * ffn; }

// An MLP of width `ffn` by shape: up (and gate, fused) column-parallel, down row-parallel.
void add_mlp_gemms(std::vector<GemmWeight>& out, const ModelSpec& m, double ffn, GemmClass cls) {
  const double gates = m.ffn_kind == "swiglu" ? 2.0 : 1.0;
  out.push_back({cls, gates * ffn, static_cast<double>(m.hidden), 'n'});
  out.push_back({cls, static_cast<double>(m.hidden), ffn, 'k'});
}

// Copies of a token's hidden state its dispatch sends, and over which links, for an EP group
// over `domains` NVLink domains with `per` of its GPUs in each. Node-limited routing
// (DeepSeek-V3, DeepEP) sends a token once to each remote domain it reaches and forwards it on
// NVLink there; without a limit (Megatron's all-to-all) every (token, expert) copy for another
// domain crosses the NIC.
struct A2aCopies {
  double nic = 0, nvlink = 0;
};

A2aCopies a2a_copies(const MoeSpec& e, const GroupShape& ep) {
  const double k = e.experts_per_token, n = ep.size, m = ep.per_domain, d = ep.domains;
  A2aCopies c;
  if (n <= 1) return c;
  if (e.max_nodes_per_token > 0) {
    const double ranks = std::min(k, n);
    double reach = std::min(k, d);
    reach = std::min<double>(reach, e.max_nodes_per_token);
    c.nic = reach * (d - 1) / d;
    c.nvlink = ranks * (m - 1) / m;
  } else {
    c.nic = k * (n - m) / n;
    c.nvlink = k * (m - 1) / n;
  }
  return c;
}

}  // namespace

UnitWork unit_work(const Scenario& s, Unit unit, bool whole) {
  const ModelSpec& m = s.model;
  const Plan& p = s.plan;
  const double h = m.hidden;
  const bool fp8 = p.precision == "fp8";
  const double tp = p.tp, sp_div = p.sp ? p.tp : 1.0;
  UnitWork w;
  // GEMM inputs kept for the weight gradients: FP8 under FP8 training (as DeepSeek-V3 caches them).
  const double gemm_in = fp8 ? 1.0 : 2.0;
  const unsigned rc = whole ? 0u : p.recompute_modules;
  auto layer = [&](bool moe) {
    const Attention a = attention(m);
    w.dense_params += a.params + 2 * h;  // + two norms
    w.gemm_params += a.params;
    w.attn_gemm_params += a.params;
    w.gemms.insert(w.gemms.end(), a.gemms.begin(), a.gemms.end());
    w.heads = m.heads;
    w.qk_head_dim = a.qk_dim;
    w.v_head_dim = a.v_dim;
    w.attn_memory_bytes += kAct * 5 * h;  // its norm and residual
    w.attention_flops += a.flops;
    w.kv_bytes += a.kv;
    w.tp_bytes = kAct * h;
    // Saved: TP-sharded (heads) and replicated on every TP rank unless SP splits the sequence.
    double sharded = a.qkv + a.core_out + a.lse, replicated = a.norm_in + a.norm_out + a.latents;
    if (rc & kRecomputeLayernorm) replicated -= a.norm_out, w.recompute_memory_bytes += 2 * 2 * kAct * h;
    if (rc & kRecomputeMlaUp) sharded -= a.qkv, w.recompute_gemm_params += a.up_params;
    if (p.attention_kernel == "unfused") {
      // Megatron-LM's unfused core keeps the scores' softmax (BF16), its dropout output and mask
      // (1 byte): 5 bytes per score, Korthikanti et al.'s 5as^2b.
      if (!(rc & kRecomputeCoreAttn)) sharded += 5.0 * m.heads * m.seq_len / p.cp;
    }
    if (rc & kRecomputeCoreAttn) sharded -= a.core_out, w.recompute_attention_flops += a.flops;
    const double gates = m.ffn_kind == "swiglu" ? 2.0 : 1.0;  // the activation's inputs
    double intermediate = 0;  // MLP intermediate width a token touches
    double expert_side = 0;   // saved at the experts (per token, per GPU)
    if (moe) {
      const MoeSpec& e = m.moe;
      const double expert = mlp_params(m, e.expert_ffn);
      const double used = e.experts_per_token + e.shared_experts;
      w.moe = true;
      w.routed_expert_params += e.routed_experts * expert;
      w.dense_params += e.shared_experts * expert + h * e.routed_experts;  // shared experts + router
      w.gemm_params += h * e.routed_experts;
      w.expert_gemm_params += used * expert;
      w.gemms.push_back({GemmClass::Mlp, static_cast<double>(e.routed_experts), h, 'n'});  // the router
      if (e.shared_experts > 0) add_mlp_gemms(w.gemms, m, static_cast<double>(e.shared_experts) * e.expert_ffn, GemmClass::Mlp);
      add_mlp_gemms(w.gemms, m, e.expert_ffn, GemmClass::Expert);  // one routed expert
      intermediate = used * e.expert_ffn;
      // Tokens are permuted to their experts and back (read + write, both ways).
      w.memory_bytes += 4.0 * e.experts_per_token * h * kAct;
      // Each routed copy is held by the ETP ranks of its expert, the shared experts' input once;
      // the intermediates are split over ETP (routed) and TP (shared): per GPU, all over TP.
      const double k = e.experts_per_token, sh = e.shared_experts;
      expert_side += gemm_in * h * (k * p.etp + sh) / tp + 4.0 * e.routed_experts / tp;
      double kept_inter = (gates * gemm_in + kAct) * intermediate;
      if (rc & kRecomputeMoe) {
        kept_inter -= (gates * gemm_in + kAct) * k * e.expert_ffn;
        w.recompute_expert_params += k * gates * h * e.expert_ffn;
        w.recompute_memory_bytes += kAct * (gates + 1) * k * e.expert_ffn;
      }
      if (rc & kRecomputeMlp) {
        kept_inter -= (gates * gemm_in + kAct) * sh * e.expert_ffn;
        w.recompute_expert_params += sh * gates * h * e.expert_ffn;
        w.recompute_memory_bytes += kAct * (gates + 1) * sh * e.expert_ffn;
      }
      // moe_act: the activation outputs of the experts not already recomputed whole.
      if (rc & kRecomputeMoeAct)
        for (const auto& [count, redone] : {std::pair{k, (rc & kRecomputeMoe) != 0}, {sh, (rc & kRecomputeMlp) != 0}})
          if (!redone) {
            kept_inter -= kAct * count * e.expert_ffn;
            w.recompute_memory_bytes += kAct * (gates + 1) * count * e.expert_ffn;
          }
      expert_side += kept_inter / tp;
      const A2aCopies c = a2a_copies(e, s.ep_shape);
      w.a2a_copies = c.nic + c.nvlink;
      w.a2a_nic_copies = c.nic;
      w.dispatch_bytes_per_copy = h * (fp8 ? 1.0 : 2.0);  // FP8 under FP8 training
      w.combine_bytes_per_copy = h * kAct;
      w.tp_collectives = 1;  // after attention; the experts' own TP is ETP
    } else {
      const double mlp = mlp_params(m, m.ffn);
      w.dense_params += mlp;
      w.gemm_params += mlp;
      add_mlp_gemms(w.gemms, m, m.ffn, GemmClass::Mlp);
      intermediate = m.ffn;
      // The MLP's input is the norm's output: replicated unless SP; in BF16 it goes with the
      // norm when that is recomputed, under FP8 its cached FP8 copy stays.
      if (!((rc & kRecomputeLayernorm) && !fp8)) replicated += gemm_in * h;
      double kept_inter = (gates * gemm_in + kAct) * intermediate;
      if (rc & kRecomputeMlp) {
        kept_inter = 0;
        w.recompute_gemm_params += gates * h * intermediate;
        w.recompute_memory_bytes += kAct * (gates + 1) * intermediate;
      } else if (rc & kRecomputeMoeAct) {
        kept_inter -= kAct * intermediate;
        w.recompute_memory_bytes += kAct * (gates + 1) * intermediate;
      }
      sharded += kept_inter;
      w.tp_collectives = 2;  // after attention and after the MLP
    }
    // Norms, residuals, the activation function; FP8 adds a quantization pass per GEMM input.
    w.memory_bytes += kAct * (10 * h + 3 * intermediate);
    w.mlp_norm_memory_bytes += kAct * 5 * h;
    if (fp8) w.memory_bytes += 3.0 * (4 * h + intermediate);
    double saved = sharded / tp + replicated / sp_div + expert_side;
    if (whole) {
      // Only the layer's input stays; its whole forward runs again before its backward.
      saved = kAct * h / sp_div;
      w.recompute_whole = true;
    }
    w.activation_bytes += saved;
  };
  switch (unit) {
    case Unit::Embedding:
      w.dense_params = static_cast<double>(m.vocab) * h;
      w.memory_bytes = 2 * h * kAct;  // gather a row, write it
      break;
    case Unit::DenseLayer: layer(false); break;
    case Unit::MoeLayer: layer(m.moe.enabled()); break;
    case Unit::Mtp:
      // DeepSeek-V3's multi-token prediction module: a projection of [hidden; next embedding],
      // one more transformer block, and the shared head and loss again.
      w.dense_params += 2 * h * h;
      w.gemm_params += 2 * h * h;
      w.gemms.push_back({GemmClass::Mlp, h, 2 * h, 'n'});
      layer(m.moe.enabled());
      w.head_params += static_cast<double>(m.vocab) * h;
      w.gemms.push_back({GemmClass::Head, static_cast<double>(m.vocab), h, 'n'});
      w.memory_bytes += 3.0 * m.vocab * 4;  // logits, softmax and loss in FP32
      w.activation_bytes += 2 * h * kAct / tp;
      break;
    case Unit::Head:
      w.dense_params = static_cast<double>(m.vocab) * h;
      w.head_params = static_cast<double>(m.vocab) * h;
      w.gemms.push_back({GemmClass::Head, static_cast<double>(m.vocab), h, 'n'});
      w.memory_bytes = 3.0 * m.vocab * 4;
      w.activation_bytes = h * kAct / sp_div + m.vocab * 4.0 / tp;  // input; FP32 logits, vocab-parallel
      break;
  }
  if (whole) {  // the forward again, at the same kernels' rates
    w.recompute_gemm_params = w.gemm_params;
    w.recompute_expert_params = w.expert_gemm_params;
    w.recompute_attention_flops = w.attention_flops;
    w.recompute_memory_bytes = w.memory_bytes;
  }
  return w;
}

std::vector<bool> recomputed_whole(const Scenario& s, int stage) {
  std::vector<bool> out;
  int left = s.plan.recompute_layers;
  for (Unit u : s.stage_units.at(stage)) {
    const bool whole = is_layer(u) && left > 0;
    if (whole) --left;
    out.push_back(whole);
  }
  return out;
}

double total_params(const ModelSpec& m) {
  Scenario s;
  s.model = m;
  s.cluster.gpus_per_node = 8;
  s.plan.ep = 1;
  double p = 0;
  for (const auto& stage : split_units(m, 1))
    for (Unit u : stage) {
      if (u == Unit::Mtp) continue;  // DeepSeek counts its MTP module separately
      const UnitWork w = unit_work(s, u);
      p += w.dense_params + w.routed_expert_params;
    }
  return p;
}

double active_params(const ModelSpec& m) {
  Scenario s;
  s.model = m;
  s.cluster.gpus_per_node = 8;
  double p = 0;
  for (const auto& stage : split_units(m, 1))
    for (Unit u : stage) {
      if (u == Unit::Mtp) continue;
      const UnitWork w = unit_work(s, u);
      p += w.gemm_params + w.expert_gemm_params + w.head_params;
    }
  return p;
}

FlopsPerToken flops_per_token(const Scenario& s) {
  FlopsPerToken f;
  const double full_over_causal = s.model.seq_len / ((s.model.seq_len + 1) / 2.0);
  for (int st = 0; st < static_cast<int>(s.stage_units.size()); ++st) {
    const std::vector<bool> whole = recomputed_whole(s, st);
    for (std::size_t i = 0; i < s.stage_units[st].size(); ++i) {
      const UnitWork w = unit_work(s, s.stage_units[st][i], whole[i]);
      const double params = 6 * (w.gemm_params + w.expert_gemm_params + w.head_params);
      f.model_causal += params + 3 * w.attention_flops;
      f.model_noncausal += params + 3 * w.attention_flops * full_over_causal;
      f.hardware += params + 3 * w.attention_flops + 2 * (w.recompute_gemm_params + w.recompute_expert_params) +
                    w.recompute_attention_flops;
    }
  }
  return f;
}

double training_flops_per_token(const Scenario& s) { return flops_per_token(s).model_causal; }

}  // namespace ppsim::model
