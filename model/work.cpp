#include "model/work.hpp"

#include "model/placement.hpp"

#include <algorithm>

namespace ppsim::model {

namespace {

struct Attention {
  double params = 0;       // projections
  double flops = 0;        // per token, causal, at this sequence length
  double saved = 0;        // bytes saved per token for backward, nothing recomputed
  double saved_selective = 0;  // bytes saved when norms and up-projections (MLA) or the core are recomputed
  double recompute = 0;    // forward FLOPs redone under selective recomputation
};

Attention attention(const ModelSpec& m) {
  const double h = m.hidden, H = m.heads;
  const double s_avg = (m.seq_len + 1) / 2.0;  // causal: token i attends to i + 1 keys
  Attention a;
  if (m.attention.kind == "mla") {
    const auto& x = m.attention;
    const double qk = x.qk_nope_head_dim + x.qk_rope_head_dim;
    const double q = x.q_lora_rank > 0 ? h * x.q_lora_rank + x.q_lora_rank * H * qk : h * H * qk;
    const double kv = h * (x.kv_lora_rank + x.qk_rope_head_dim) + x.kv_lora_rank * H * (x.qk_nope_head_dim + x.v_head_dim);
    a.params = q + kv + H * x.v_head_dim * h;
    a.flops = 2.0 * H * s_avg * (qk + x.v_head_dim);
    const double latents = x.q_lora_rank + x.kv_lora_rank + x.qk_rope_head_dim;
    // Layer and projection inputs, the latents, Q, K, V and O for the attention backward,
    // and its log-sum-exp (FP32) -- all BF16.
    a.saved = 2 * (2 * h + latents + H * (2 * qk + 2 * x.v_head_dim)) + 4 * H;
    // DeepSeek-V3 recomputes the norms and the MLA up-projections: Q, K, V come back from the latents.
    a.saved_selective = 2 * (h + latents + H * x.v_head_dim) + 4 * H;
    a.recompute = 2 * (x.q_lora_rank * H * qk + x.kv_lora_rank * H * (x.qk_nope_head_dim + x.v_head_dim));
  } else {
    const double hd = m.head_dim, kv_heads = m.kv_heads;
    a.params = h * H * hd + 2 * h * kv_heads * hd + H * hd * h;
    a.flops = 4.0 * H * hd * s_avg;
    a.saved = 2 * (2 * h + hd * (2 * H + 2 * kv_heads)) + 4 * H;
    // Selective (Korthikanti et al. 2022): the attention core is recomputed, Q, K, V are kept.
    a.saved_selective = 2 * (2 * h + hd * (H + 2 * kv_heads)) + 4 * H;
    a.recompute = a.flops;
  }
  return a;
}

double mlp_params(const ModelSpec& m, double ffn) { return (m.ffn_kind == "swiglu" ? 3.0 : 2.0) * m.hidden * ffn; }

}  // namespace

UnitWork unit_work(const Scenario& s, Unit unit) {
  const ModelSpec& m = s.model;
  const double h = m.hidden;
  const bool fp8 = s.plan.precision == "fp8";
  const double act_bytes = 2;  // BF16 activations
  UnitWork w;
  // GEMM inputs kept for the weight gradients: FP8 under FP8 training (as DeepSeek-V3 caches them).
  const double gemm_in = fp8 ? 1.0 : 2.0;
  const bool selective = s.plan.recompute == "selective";
  auto layer = [&](bool moe) {
    const Attention a = attention(m);
    w.dense_params += a.params + 2 * h;  // + two norms
    w.gemm_params += a.params;
    w.attn_gemm_params += a.params;
    w.attn_memory_bytes += act_bytes * 5 * h;  // its norm and residual
    w.attention_flops += a.flops;
    double saved = selective ? a.saved_selective : a.saved;
    if (selective) w.recompute_flops += a.recompute;
    const double gates = m.ffn_kind == "swiglu" ? 2.0 : 1.0;  // the activation's inputs
    double intermediate = 0;  // MLP intermediate width a token touches
    if (moe) {
      const MoeSpec& e = m.moe;
      const double expert = mlp_params(m, e.expert_ffn);
      const double used = e.experts_per_token + e.shared_experts;
      w.routed_expert_params += e.routed_experts * expert;
      w.dense_params += e.shared_experts * expert + h * e.routed_experts;  // shared experts + router
      w.gemm_params += h * e.routed_experts;
      w.expert_gemm_params += used * expert;
      intermediate = used * e.expert_ffn;
      // Tokens are permuted to their experts and back (read + write, both ways).
      w.memory_bytes += 4.0 * e.experts_per_token * h * act_bytes;
      // Saved: each copy of the token at its experts, the activation inputs, router scores.
      saved += gemm_in * (used * h + gates * intermediate) + 4.0 * e.routed_experts;
      // All-to-all across nodes: with EP over `ep_nodes` nodes and node-limited routing a token
      // goes to at most min(k, limit, ep_nodes) nodes, all but its own remote on average.
      const double ep_nodes = model::ep_nodes(s);
      double reach = std::min<double>(e.experts_per_token, ep_nodes);
      if (e.max_nodes_per_token > 0) reach = std::min<double>(reach, e.max_nodes_per_token);
      const double remote = reach * (ep_nodes - 1) / ep_nodes;
      w.a2a_bytes += remote * h * ((fp8 ? 1.0 : 2.0) + 2.0);  // dispatch (FP8 under FP8 training) + combine (BF16)
      w.dispatch_bytes += remote * h * (fp8 ? 1.0 : 2.0);
    } else {
      const double p = mlp_params(m, m.ffn);
      w.dense_params += p;
      w.gemm_params += p;
      intermediate = m.ffn;
      saved += gemm_in * (h + gates * intermediate);
    }
    if (!selective) saved += act_bytes * intermediate;  // the activation's output (else recomputed)
    // Norms, residuals, the activation function; FP8 adds a quantization pass per GEMM input.
    w.memory_bytes += act_bytes * (10 * h + 3 * intermediate);
    if (fp8) w.memory_bytes += 3.0 * (4 * h + intermediate);
    w.tp_bytes += s.plan.tp > 1 ? 2 * h * act_bytes : 0;
    if (s.plan.recompute == "full") {
      saved = h * act_bytes;  // only the layer input stays; the whole forward runs again
      w.recompute_flops = 2 * (w.gemm_params + w.expert_gemm_params) + w.attention_flops;
    }
    w.activation_bytes += saved;
  };
  switch (unit) {
    case Unit::Embedding:
      w.dense_params = static_cast<double>(m.vocab) * h;
      w.memory_bytes = 2 * h * act_bytes;  // gather a row, write it
      break;
    case Unit::DenseLayer: layer(false); break;
    case Unit::MoeLayer: layer(m.moe.enabled()); break;
    case Unit::Mtp:
      // DeepSeek-V3's multi-token prediction module: a projection of [hidden; next embedding],
      // one more transformer block, and the shared head and loss again.
      w.dense_params += 2 * h * h;
      w.gemm_params += 2 * h * h;
      layer(m.moe.enabled());
      w.head_params += static_cast<double>(m.vocab) * h;
      w.memory_bytes += 3.0 * m.vocab * 4;  // logits, softmax and loss in FP32
      w.activation_bytes += 2 * h * act_bytes;
      break;
    case Unit::Head:
      w.dense_params = static_cast<double>(m.vocab) * h;
      w.head_params = static_cast<double>(m.vocab) * h;
      w.memory_bytes = 3.0 * m.vocab * 4;
      w.activation_bytes = h * act_bytes + m.vocab * 4.0;
      break;
  }
  return w;
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

double training_flops_per_token(const Scenario& s) {
  double f = 0;
  for (const auto& stage : s.stage_units)
    for (Unit u : stage) {
      const UnitWork w = unit_work(s, u);
      f += 6 * (w.gemm_params + w.expert_gemm_params + w.head_params) + 3 * w.attention_flops;
    }
  return f;
}

}  // namespace ppsim::model
