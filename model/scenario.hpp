#pragma once
// A scenario: a model trained on a cluster with a parallel plan and a schedule, for a number
// of tokens. Built from the catalog's presets plus overrides, and checked for consistency
// before anything runs: every broken rule is one clear error naming it.
#include <optional>
#include <string>
#include <vector>

#include "model/catalog.hpp"
#include "model/topology.hpp"
#include "sim/generators.hpp"

namespace ppsim::model {

// Documented defaults, fitted once to DeepSeek-V3's published step (see README "Calibration").
struct Efficiencies {
  double gemm = 0.55;         // dense and projection GEMMs, of the precision's peak
  double expert_gemm = 0.40;  // grouped MoE expert GEMMs (small per-expert shapes)
  double attention = 0.40;    // attention core (FlashAttention-style), of BF16 peak
  double memory = 0.70;       // memory-bound kernels, of HBM bandwidth
  double network = 0.80;      // of link bandwidth, for all-to-all, all-reduce and P2P
  double expert_imbalance = 1.20;  // the busiest expert rank's tokens over the average
  // Rate one communication SM drives: DeepSeek-V3 reports 20 SMs keep 50 GB/s of InfiniBand
  // plus the NVLink forwarding busy, so 20 x 3.2 = 64 GB/s just covers it.
  double comm_gbps_per_sm = 3.2;
};

struct Plan {
  int tp = 1, pp = 1, ep = 1, dp = 1;
  int zero = 1;              // ZeRO stage 0..3 across data parallel
  int stages_per_rank = 0;   // interleaved-1f1b: model chunks per rank (0: the kind's own)
  int microbatch_size = 1;   // sequences per micro-batch
  int global_batch = 0;      // sequences per step
  std::string precision = "bf16";  // bf16 | fp8 (GEMMs)
  std::string recompute = "none";  // none | selective | full
  int comm_sms = 0;          // SMs (CUs) given to communication kernels
  double weight_bytes = 2, grad_bytes = 4, optimizer_bytes = 12;  // per parameter
  std::string placement = "dp-inner";  // dp-inner | pp-inner (model/placement.hpp)
};

// What the user may change on top of a preset (command-line flags).
struct Overrides {
  std::optional<std::string> cluster, gpu, kind, precision, recompute, tokens;
  std::optional<int> tp, pp, ep, zero, stages_per_rank, microbatch_size, global_batch, comm_sms, nodes;
  std::optional<double> price_per_hour, inter_gbps, intra_gbps;
  std::optional<std::string> efficiency;  // "gemm=0.6,network=0.7": see parse_efficiencies
  std::optional<std::string> placement;   // dp-inner | pp-inner
  std::optional<int> nodes_per_pod;
  std::optional<double> oversubscription;
};

// "gemm=0.6,expert_gemm=0.45,attention=0.4,memory=0.7,network=0.8,expert_imbalance=1.2" on
// top of `base`: efficiencies in (0, 1], the imbalance in [1, 8]. Throws naming the key.
Efficiencies parse_efficiencies(const std::string& spec, Efficiencies base);

// The pieces of the model in pipeline order; stages get equal runs of them.
enum class Unit { Embedding, DenseLayer, MoeLayer, Mtp, Head };

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

  int gpus() const { return cluster.gpus(); }
  int microbatches() const { return plan.global_batch / (plan.dp * plan.microbatch_size); }
  long long tokens_per_microbatch() const { return static_cast<long long>(plan.microbatch_size) * model.seq_len; }
  long long tokens_per_step() const { return static_cast<long long>(plan.global_batch) * model.seq_len; }
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
std::vector<std::vector<Unit>> split_units(const ModelSpec& model, int stages);

}  // namespace ppsim::model
