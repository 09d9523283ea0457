#pragma once
// A scenario: a model trained on a cluster with a parallel plan and a schedule, for a number
// of tokens. Built from the catalog's presets plus overrides, and checked for consistency
// before anything runs: every broken rule is one clear error naming it.
#include <optional>
#include <string>
#include <vector>

#include "model/catalog.hpp"
#include "model/collectives.hpp"
#include "model/topology.hpp"
#include "sim/generators.hpp"

namespace ppsim::model {

// What runs how fast. Kernel speeds come from the GPU's catalog entry (model/kernels.hpp,
// every figure with its public source); the fields below left at 0 keep them, and a value
// replaces them for every GEMM (gemm), the routed experts' grouped GEMMs (expert_gemm: a
// flat efficiency instead of their shapes), the attention core (attention) or memory-bound
// kernels (memory). The others are global: network efficiency and the expert imbalance were
// set from public figures (README "Calibration") and checked against the validation table
// (model/validation/cases.json); comm_gbps_per_sm from DeepSeek-V3's report.
struct Efficiencies {
  double gemm = 0;            // 0: the GPU's measured large-GEMM figure, through the shape model
  double expert_gemm = 0;     // 0: grouped GEMMs priced by their shapes
  double attention = 0;       // 0: the GPU's FlashAttention-class figure at the model's head dimension
  double memory = 0;          // 0: the GPU's HBM figure
  // The share of an isolated benchmark's rate (the catalog's GEMM and attention figures) a
  // training step's kernels keep: fused epilogues, transposed operands in the backward,
  // gaps between dependent kernels, clocks under a whole node's load. One global value, the
  // only figure set from the validation table (README "Calibration").
  double in_training = 0.84;
  double network = 0.80;      // of link bandwidth, for all-to-all, all-reduce and P2P
  double expert_imbalance = 1.20;  // the busiest expert rank's tokens over the average
  // Rate one communication SM drives: DeepSeek-V3 reports 20 SMs keep 50 GB/s of InfiniBand
  // plus the NVLink forwarding busy, so 20 x 3.2 = 64 GB/s just covers it.
  double comm_gbps_per_sm = 3.2;
};

// Modules recomputed in the backward instead of saved (Megatron's --recompute-modules names).
enum RecomputeModule : unsigned {
  kRecomputeCoreAttn = 1,   // core_attn: the attention core (its output is not kept)
  kRecomputeMlaUp = 2,      // mla_up_proj: MLA's Q/K/V up-projections (the latents are kept)
  kRecomputeLayernorm = 4,  // layernorm: the norms' outputs
  kRecomputeMlp = 8,        // mlp: the dense MLP and shared experts' up/gate GEMMs and activation
  kRecomputeMoe = 16,       // moe: the routed experts' up/gate GEMMs and activation
  kRecomputeMoeAct = 32,    // moe_act: the activation function's output (experts and MLPs)
};
// "core_attn,mla_up_proj" -> flags; throws naming the unknown module.
unsigned parse_recompute_modules(const std::string& list);
std::string recompute_modules_text(unsigned modules);

struct Plan {
  int tp = 1, pp = 1, ep = 1, dp = 1;
  int cp = 1;                // context parallel: the sequence split over CP ranks (ring attention)
  bool sp = false;           // sequence parallel (Megatron): TP all-reduce = reduce-scatter + all-gather
  int etp = 1;               // expert tensor parallel (Megatron-Core; defaults to TP)
  int zero = 1;              // ZeRO stage 0..3 across data parallel (3 = FSDP)
  bool overlap_grad_reduce = false;  // ZeRO 0-2: the gradient reduce-scatter starts under the last op
  int stages_per_rank = 0;   // interleaved-1f1b: model chunks per rank (0: the kind's own)
  int microbatch_size = 1;   // sequences per micro-batch
  int global_batch = 0;      // sequences per step
  std::string precision = "bf16";  // bf16 | fp8 (GEMMs)
  std::string recompute = "none";  // none | selective | full (the preset names of what follows)
  unsigned recompute_modules = 0;  // RecomputeModule flags, in every layer
  int recompute_layers = 0;        // layers per stage recomputed whole (Megatron's uniform/block method)
  int first_stage_layers = 0, last_stage_layers = 0;  // transformer layers on the first/last stage; 0: even
  int comm_sms = 0;          // SMs (CUs) given to communication kernels
  double weight_bytes = 2, grad_bytes = 4, optimizer_bytes = 12;  // per parameter
  std::string placement = "dp-inner";  // dp-inner | pp-inner (model/placement.hpp)
  // flash: a fused FlashAttention-class kernel (causal work only); unfused: Megatron-LM's 2021
  // kernels, batched GEMMs over the whole score matrix and a fused softmax through HBM.
  std::string attention_kernel = "flash";
};

// What the user may change on top of a preset (command-line flags).
struct Overrides {
  std::optional<std::string> cluster, gpu, kind, precision, recompute, tokens, recompute_modules;
  std::optional<int> tp, pp, ep, zero, stages_per_rank, microbatch_size, global_batch, comm_sms, nodes;
  std::optional<int> cp, etp, seq_len, recompute_layers, first_stage_layers, last_stage_layers, nvlink_domain;
  std::optional<bool> sp, overlap_grad_reduce;
  std::optional<double> price_per_hour, inter_gbps, intra_gbps;
  std::optional<std::string> efficiency;  // "gemm=0.6,network=0.7": see parse_efficiencies
  std::optional<std::string> placement;   // dp-inner | pp-inner
  std::optional<std::string> attention_kernel;  // flash | unfused
  std::optional<int> nodes_per_pod;
  std::optional<double> oversubscription;
};

// "gemm=0.6,expert_gemm=0.45,attention=0.4,memory=0.7,network=0.8,expert_imbalance=1.2" on
// top of `base`: efficiencies in (0, 1], the imbalance in [1, 8]. Throws naming the key.
Efficiencies parse_efficiencies(const std::string& spec, Efficiencies base);

// The pieces of the model in pipeline order; stages get equal runs of them.
enum class Unit { Embedding, DenseLayer, MoeLayer, Mtp, Head };
// Units with a transformer layer (what recomputation and layer counts are about).
inline bool is_layer(Unit u) { return u == Unit::DenseLayer || u == Unit::MoeLayer || u == Unit::Mtp; }

struct Scenario {
  ModelSpec model;
  GpuSpec gpu;
  ClusterSpec cluster;
  Plan plan;
  sim::ScheduleKind kind = sim::ScheduleKind::OneFOneB;
  double tokens = 0;          // training run
  double price_per_hour = 0;  // per GPU
  Efficiencies eff;
  FabricOptions fabric;  // the fat tree under the cluster (model/topology.hpp)
  std::vector<std::vector<Unit>> stage_units;  // per schedule stage
  GroupShape ep_shape;  // how the expert-parallel groups lie over NVLink domains (placement.hpp)

  int gpus() const { return cluster.gpus(); }
  int microbatches() const { return plan.global_batch / (plan.dp * plan.microbatch_size); }
  // Tokens of one micro-batch, and the share of them one GPU of a CP group holds.
  long long tokens_per_microbatch() const { return static_cast<long long>(plan.microbatch_size) * model.seq_len; }
  double tokens_per_cp_rank() const { return static_cast<double>(tokens_per_microbatch()) / plan.cp; }
  long long tokens_per_step() const { return static_cast<long long>(plan.global_batch) * model.seq_len; }
  // FLOP/s of one GPU's dense peak in the run's precision (FP8 or BF16).
  double peak_flops() const { return (plan.precision == "fp8" ? gpu.fp8_tflops : gpu.bf16_tflops) * 1e12; }
  sim::ScheduleRequest schedule_request() const;
};

// Throws std::invalid_argument naming the rule that fails.
Scenario make_scenario(const Catalog& catalog, const std::string& model_id, const Overrides& overrides = {});
inline Scenario make_scenario(const std::string& model_id, const Overrides& overrides = {}) {
  return make_scenario(Catalog::builtin(), model_id, overrides);
}

// Stage contents: blocks = layers + MTP modules; with S stages either S divides the blocks
// (the embedding joins the first stage, the head the last) or S divides blocks + 2 (the
// embedding and the head take a block's slot each, as DeepSeek-V3's 61 + 1 + 2 = 64 on 16).
// With `first` or `last` > 0 (Megatron's decoder-first/last-pipeline-num-layers) the first
// or last stage holds that many transformer layers and the others split the rest evenly; the
// embedding sits on the first stage, the MTP modules and the head on the last.
std::vector<std::vector<Unit>> split_units(const ModelSpec& model, int stages, int first = 0, int last = 0);

}  // namespace ppsim::model
