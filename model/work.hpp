#pragma once
// What one pipeline unit (embedding, transformer layer, MTP module, head) costs per token, by
// counting: parameters, GEMM FLOPs, attention FLOPs, memory-bound bytes, communication bytes
// and saved activations. The roofline cost model (cost_model.hpp) turns these into times.
#include "model/scenario.hpp"

namespace ppsim::model {

struct UnitWork {
  // Parameters held (for memory; experts are sharded by EP).
  double dense_params = 0;          // everything but the routed experts
  double routed_expert_params = 0;  // all routed experts of the unit
  // Per token, forward.
  double gemm_params = 0;         // params of the projection/dense GEMMs a token passes (2 FLOP each)
  double expert_gemm_params = 0;  // params of the experts a token uses: top-k routed + shared
  double head_params = 0;         // output head GEMM (kept in BF16 under FP8 training)
  double attention_flops = 0;     // QK^T and AV, causal
  double memory_bytes = 0;        // memory-bound kernels: norms, activations, residuals, routing, quantization
  double a2a_bytes = 0;           // MoE dispatch + combine bytes a token sends across nodes
  double dispatch_bytes = 0;      //   of which the dispatch (to the experts)
  double attn_gemm_params = 0;    // the attention projections' share of gemm_params
  double attn_memory_bytes = 0;   // the attention side's share of memory_bytes
  double tp_bytes = 0;            // TP all-reduce payload per token (before the ring factor)
  double activation_bytes = 0;    // saved for backward (after recomputation)
  double recompute_flops = 0;     // forward FLOPs redone in backward
};

UnitWork unit_work(const Scenario& s, Unit unit);

// Parameters of the whole model, and the parameters a token activates (embeddings excluded).
double total_params(const ModelSpec& m);
double active_params(const ModelSpec& m);
// Training FLOPs per token: 6 x active GEMM params + 3 x attention (forward + backward), the
// MFU numerator (no recomputation counted).
double training_flops_per_token(const Scenario& s);

}  // namespace ppsim::model
