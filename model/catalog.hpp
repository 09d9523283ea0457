#pragma once
// The built-in catalog: models, GPUs and clusters, read from model/presets/*.json (compiled
// into the binary). Every figure there carries its public source.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/kernels.hpp"

namespace ppsim::model {

struct GpuSpec {
  std::string id, name;
  double bf16_tflops = 0, fp8_tflops = 0;  // dense peak
  double hbm_gib = 0, hbm_tbps = 0;
  int sms = 0;                              // SMs (NVIDIA) or compute units (AMD)
  double scale_up_gbps = 0, nic_gbps = 0;   // per GPU
  double tdp_w = 0, price_per_hour = 0;
  KernelFigures kernels;  // what its libraries reach (model/kernels.hpp)
  std::string source;
};

struct ClusterSpec {
  std::string id, gpu;
  int nodes = 0, gpus_per_node = 0;
  double intra_gbps = 0, intra_latency_us = 0;  // per GPU, inside a node
  double inter_gbps = 0, inter_latency_us = 0;  // per GPU, across nodes
  // GPUs sharing one NVLink/NVSwitch (scale-up) domain: a node (0 in the file), or a rack of
  // nodes (GB200/GB300 NVL72: 18 trays of 4). `intra_*` are this domain's figures.
  int nvlink_domain = 0;
  int gpus() const { return nodes * gpus_per_node; }
  int domain() const { return nvlink_domain > 0 ? nvlink_domain : gpus_per_node; }
};

struct AttentionSpec {
  std::string kind = "mha";  // mha | gqa | mla
  // MLA (DeepSeek-V2/V3) only.
  int q_lora_rank = 0, kv_lora_rank = 0, qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
};

struct MoeSpec {
  int routed_experts = 0, experts_per_token = 0, shared_experts = 0, expert_ffn = 0;
  int dense_layers = 0;         // the first layers use a dense MLP instead
  int max_nodes_per_token = 0;  // node-limited routing (0: no limit)
  bool enabled() const { return routed_experts > 0; }
};

// A training plan as the catalog states it (all optional; the scenario fills defaults).
struct PlanPreset {
  std::string cluster, kind, precision = "bf16", recompute = "none", tokens;
  int tp = 1, pp = 1, ep = 1, zero = 1, stages_per_rank = 0, microbatch_size = 1, global_batch = 0, comm_sms = 0;
  int cp = 1, etp = 0;              // context parallel; expert tensor parallel (0: = tp, as Megatron-Core)
  bool sp = false;                  // Megatron's sequence parallelism
  std::string recompute_modules;    // "core_attn,mla_up_proj,...": empty = what `recompute` implies
  int recompute_layers = 0;         // layers per stage recomputed whole
  int first_stage_layers = 0, last_stage_layers = 0;  // 0: even split
  bool overlap_grad_reduce = false;
  std::string attention_kernel = "flash";  // flash | unfused (Plan::attention_kernel)
  double optimizer_bytes = 12;
};

struct ModelSpec {
  std::string id;
  int layers = 0, hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, ffn = 0, vocab = 0, seq_len = 0, mtp_depth = 0;
  std::string ffn_kind = "swiglu";  // swiglu (3 matrices) | gelu (2)
  AttentionSpec attention;
  MoeSpec moe;
  PlanPreset plan;
  std::string source;
};

GpuSpec gpu_from_json(const nlohmann::json& j, const std::string& id);
ClusterSpec cluster_from_json(const nlohmann::json& j, const std::string& id);
ModelSpec model_from_json(const nlohmann::json& j, const std::string& id);

// The entries by id: the built-in presets, plus whatever a user's file adds or replaces.
class Catalog {
 public:
  static Catalog builtin();
  // Adds or replaces entries from {"models": {...}, "gpus": {...}, "clusters": {...}}, each in
  // the presets' format; every entry is checked now, and errors name `origin` and the entry.
  void merge(const nlohmann::json& doc, const std::string& origin);

  // An unknown id throws std::invalid_argument listing the known ones.
  GpuSpec gpu(const std::string& id) const;
  ClusterSpec cluster(const std::string& id) const;
  ModelSpec model(const std::string& id) const;
  std::vector<std::string> gpu_ids() const;
  std::vector<std::string> cluster_ids() const;
  std::vector<std::string> model_ids() const;
  // Every entry as given, in the presets' format: what merge() reads back unchanged.
  nlohmann::json to_json() const;

 private:
  Catalog() = default;
  std::vector<std::pair<std::string, nlohmann::json>> sections_;  // "gpus", "clusters", "models"
  const nlohmann::json& section(const std::string& key) const;
  nlohmann::json& section(const std::string& key);
};

// Shorthands on the built-in catalog.
GpuSpec find_gpu(const std::string& id);
ClusterSpec find_cluster(const std::string& id);
ModelSpec find_model(const std::string& id);
std::vector<std::string> gpu_ids();
std::vector<std::string> cluster_ids();
std::vector<std::string> model_ids();

}  // namespace ppsim::model
