#pragma once
// What one pipeline unit (embedding, transformer layer, MTP module, head) costs per token, by
// counting: parameters, GEMM FLOPs, attention FLOPs, memory-bound bytes, what recomputation
// redoes, and saved activations. Communication sizes are per token too; which links they take
// is the placement's business (placement.hpp, collectives.hpp). The roofline cost model
// (cost_model.hpp) turns these into times.
#include <vector>

#include "model/scenario.hpp"

namespace ppsim::model {

// The kernel class a GEMM is priced in (cost_model.cpp): its precision and, for experts, its grouping.
enum class GemmClass { Attention, Mlp, Expert, Head };

// One weight matrix a token passes in the forward: [tokens x k] x [k x n], before any split.
// `split`: the dimension tensor parallelism cuts ('n' column-parallel, 'k' row-parallel); for
// routed experts (one expert's matrix) expert tensor parallelism cuts it.
struct GemmWeight {
  GemmClass cls = GemmClass::Mlp;
  double n = 0, k = 0;
  char split = 'n';
};

struct UnitWork {
  // Parameters held (for memory; experts are sharded by EP x ETP).
  double dense_params = 0;          // everything but the routed experts
  double routed_expert_params = 0;  // all routed experts of the unit
  // Per token, forward, over the whole TP group (the cost model divides by TP).
  double gemm_params = 0;         // params of the projection/dense GEMMs a token passes (2 FLOP each)
  double expert_gemm_params = 0;  // params of the experts a token uses: top-k routed + shared
  double head_params = 0;         // output head GEMM (kept in BF16 under FP8 training)
  double attention_flops = 0;     // QK^T and AV, causal, at the full sequence length
  double memory_bytes = 0;        // memory-bound kernels: norms, activations, residuals, routing, quantization
  double attn_gemm_params = 0;    // the attention projections' share of gemm_params
  std::vector<GemmWeight> gemms;  // every matrix above by shape: their n x k add up to the params
  // The attention core's shape: heads, head dimension of Q.K and of V (0: no attention).
  double heads = 0, qk_head_dim = 0, v_head_dim = 0;
  double attn_memory_bytes = 0;   // the attention side's share of memory_bytes
  double mlp_norm_memory_bytes = 0;  // the MLP side's norm and residual: every TP rank does it, unless SP
                                     // (the attention side's attn_memory_bytes is all norm and residual)
  // Recomputed in the backward (forward work again), each priced at its own kernels' rate.
  double recompute_gemm_params = 0, recompute_expert_params = 0, recompute_attention_flops = 0, recompute_memory_bytes = 0;
  bool recompute_whole = false;   // the layer runs its forward again, its communication included
  // Communication, per token of the GPU's own share (bytes).
  bool moe = false;
  double a2a_copies = 0;          // copies of the hidden state a token's dispatch sends (combine brings as many back)
  double a2a_nic_copies = 0;      //   of which across NVLink domains (the rest on NVLink)
  double dispatch_bytes_per_copy = 0, combine_bytes_per_copy = 0;
  int tp_collectives = 0;         // TP all-reduces (or SP reduce-scatter + all-gather pairs) in the forward
  double tp_bytes = 0;            // payload of each: the hidden state, BF16
  double kv_bytes = 0;            // K and V of a token that ring attention passes round the CP group (all heads)
  // Saved for the backward, per token of the GPU's share, per GPU (TP, SP and ETP applied).
  double activation_bytes = 0;
};

// `whole`: the layer is one of those its stage recomputes whole (Plan::recompute_layers).
UnitWork unit_work(const Scenario& s, Unit unit, bool whole = false);
// For each unit of a stage: is it recomputed whole? (the first recompute_layers layers)
std::vector<bool> recomputed_whole(const Scenario& s, int stage);

// Parameters of the whole model, and the parameters a token activates (embeddings excluded).
double total_params(const ModelSpec& m);
double active_params(const ModelSpec& m);
// Training FLOPs per token: 6 x active GEMM params + 3 x attention (forward + backward), the
// MFU numerator (no recomputation counted): flops_per_token(s).model_causal.
double training_flops_per_token(const Scenario& s);

// The FLOPs per token the usual conventions count (papers use each):
struct FlopsPerToken {
  double model_causal = 0;     // 6 x parameters a token touches + 3 x attention over the keys it sees (causal)
  double model_noncausal = 0;  // the same with attention over the whole sequence (Megatron-LM's, PaLM's formula)
  double hardware = 0;         // model_causal + the forward FLOPs recomputation redoes (Megatron-LM's HFU)
};
FlopsPerToken flops_per_token(const Scenario& s);

}  // namespace ppsim::model
