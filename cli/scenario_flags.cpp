#include "cli/scenario_flags.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/io.hpp"
#include "cli/units.hpp"
#include "sim/json_parse.hpp"
#include "sim/numbers.hpp"

namespace ppsim::cli {

const std::vector<FlagSpec>& scenario_flags() {
  static const std::vector<FlagSpec> flags = {
      {"model", true, "model preset: deepseek-v3, llama3-8b, llama3-70b, llama3-405b, gpt3-175b, mixtral-8x7b"},
      {"catalog", true, "JSON file adding or replacing models, gpus, clusters (the presets' format)"},
      {"cluster", true, "cluster preset (default: the model's published one), e.g. h800-2048, h100-2048, mi300x-2048"},
      {"gpu", true, "GPU of the cluster's nodes (default: the cluster's): h800, h100, h200, a100, b200, mi300x, mi325x"},
      {"nodes", true, "number of nodes (default: the cluster's)"},
      {"inter-bandwidth", true, "override the inter-node bandwidth per GPU, with its unit (50GB/s, 400Gb/s)"},
      {"intra-bandwidth", true, "override the intra-node (NVLink) bandwidth per GPU, with its unit (450GB/s)"},
      {"inter-gbps", true, "old name of --inter-bandwidth: a bare number is GB/s (gigabytes)"},
      {"intra-gbps", true, "old name of --intra-bandwidth: a bare number is GB/s (gigabytes)"},
      {"overlap", true, "phases (default: ops run as phase programs) | simple (max of compute and communication)"},
      {"network", true, "fabric (default: max-min flows on the fat tree) | simple (a private channel per rank)"},
      {"placement", true, "dp-inner (default: a node holds DP replicas of one stage) | pp-inner (consecutive stages)"},
      {"attention-kernel", true, "flash (default: FlashAttention-class, causal work only) | unfused (Megatron-LM 2021: GEMMs + softmax through HBM)"},
      {"nodes-per-pod", true, "nodes under one set of rail leaf switches (default 32)"},
      {"oversubscription", true, "leaf uplink oversubscription of the fat tree (default 1)"},
      {"nvlink-domain", true, "GPUs per NVLink domain (default: the cluster's; 72 for NVL72 racks)"},
      {"tp", true, "tensor parallel size"},
      {"pp", true, "pipeline parallel size (ranks of the schedule)"},
      {"cp", true, "context parallel size: the sequence split over CP ranks, ring attention"},
      {"sp", false, "sequence parallelism (Megatron): TP all-reduce as reduce-scatter + all-gather, norms split over TP"},
      {"ep", true, "expert parallel size (MoE)"},
      {"etp", true, "expert tensor parallel size (MoE; default: TP)"},
      {"seq-len", true, "tokens per sequence (default: the model's), e.g. 131072"},
      {"zero", true, "ZeRO stage 0-3 across data parallel (3 = FSDP: per-layer gathers and reduce-scatters)"},
      {"overlap-grad-reduce", false, "ZeRO 0-2: start the gradient reduce-scatter under the last backward op"},
      {"microbatch-size", true, "sequences per micro-batch"},
      {"global-batch", true, "sequences per step"},
      {"precision", true, "bf16 | fp8 (GEMMs)"},
      {"recompute", true, "none | selective | full"},
      {"recompute-modules", true, "modules recomputed in every layer: core_attn, mla_up_proj, layernorm, mlp, moe, moe_act"},
      {"recompute-layers", true, "layers per stage recomputed whole (full recomputation of N layers)"},
      {"first-stage-layers", true, "transformer layers on the first pipeline stage (the rest split evenly)"},
      {"last-stage-layers", true, "transformer layers on the last pipeline stage"},
      {"comm-sms", true, "SMs given to communication kernels"},
      {"tokens", true, "training tokens, e.g. 14.8T, 300B"},
      {"price-per-gpu-hour", true, "dollars per GPU-hour (default: the GPU's catalog price)"},
      {"efficiency", true, "override the GPU's kernel figures (gemm, expert_gemm, attention, memory: flat fractions) "
                           "and the globals network=0.80, expert_imbalance=1.20, comm_GBps_per_sm=3.2"},
  };
  return flags;
}

bool wants_scenario(const Args& a) { return a.has("model"); }

model::Catalog catalog_from(const Args& a) {
  model::Catalog catalog = model::Catalog::builtin();
  if (auto path = a.get("catalog")) {
    nlohmann::json doc;
    try {
      doc = sim::parse_json(read_file(*path));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(*path + ": " + e.what());
    }
    catalog.merge(doc, *path);
  }
  return catalog;
}

model::StudyOptions study_options(const Args& a, bool record_timeline) {
  model::StudyOptions o;
  o.record_timeline = record_timeline;
  o.phases = a.get_choice("overlap", "phases", {"phases", "simple"}) == "phases";
  o.network = a.get_choice("network", "fabric", {"fabric", "simple"}) == "fabric";
  return o;
}

const std::vector<FlagSpec>& fixed_plan_flags() {
  static const std::vector<FlagSpec> flags = [] {
    std::vector<FlagSpec> out;
    for (const FlagSpec& f : scenario_flags())
      for (const char* name : {"sp", "etp", "seq-len", "zero", "overlap-grad-reduce", "precision", "recompute",
                               "recompute-modules", "recompute-layers", "first-stage-layers", "last-stage-layers",
                               "global-batch", "nvlink-domain", "placement", "efficiency", "attention-kernel"})
        if (f.name == name) out.push_back(f);
    return out;
  }();
  return flags;
}

model::Overrides overrides_from(const Args& a) {
  model::Overrides o;
  auto text = [&](const char* flag, std::optional<std::string>& slot) {
    if (auto v = a.get(flag)) slot = *v;
  };
  auto integer = [&](const char* flag, std::optional<int>& slot, int lo, int hi) {
    if (a.has(flag)) slot = a.get_int(flag, 0, lo, hi);
  };
  text("cluster", o.cluster);
  text("gpu", o.gpu);
  text("precision", o.precision);
  text("recompute", o.recompute);
  text("tokens", o.tokens);
  text("efficiency", o.efficiency);
  text("recompute-modules", o.recompute_modules);
  integer("cp", o.cp, 1, 1 << 16);
  integer("etp", o.etp, 1, 4096);
  integer("seq-len", o.seq_len, 1, 1 << 24);
  integer("recompute-layers", o.recompute_layers, 0, 100000);
  integer("first-stage-layers", o.first_stage_layers, 1, 100000);
  integer("last-stage-layers", o.last_stage_layers, 1, 100000);
  integer("nvlink-domain", o.nvlink_domain, 1, 1 << 16);
  if (a.has("sp")) o.sp = true;
  if (a.has("overlap-grad-reduce")) o.overlap_grad_reduce = true;
  text("placement", o.placement);
  text("attention-kernel", o.attention_kernel);
  integer("nodes-per-pod", o.nodes_per_pod, 1, 1 << 16);
  text("kind", o.kind);
  integer("nodes", o.nodes, 1, 1 << 19);
  integer("tp", o.tp, 1, 4096);
  integer("pp", o.pp, 1, 4096);
  integer("ep", o.ep, 1, 1 << 16);
  integer("zero", o.zero, 0, 3);
  integer("stages-per-rank", o.stages_per_rank, 1, 64);
  integer("microbatch-size", o.microbatch_size, 1, 1 << 16);
  integer("global-batch", o.global_batch, 1, 1 << 26);
  integer("comm-sms", o.comm_sms, 0, 100000);
  auto decimal = [&](const char* flag, std::optional<double>& slot) {
    if (auto v = a.get(flag)) {
      slot = sim::parse_decimal(*v);
      if (!slot) throw std::invalid_argument(std::string("--") + flag + " = '" + *v + "' is not a number");
    }
  };
  if (const auto bytes = bandwidth_flag(a, "inter-bandwidth", "inter-gbps")) o.inter_gbps = *bytes * 1e-9;
  if (const auto bytes = bandwidth_flag(a, "intra-bandwidth", "intra-gbps")) o.intra_gbps = *bytes * 1e-9;
  decimal("oversubscription", o.oversubscription);
  if (auto v = a.get("price-per-gpu-hour")) {
    const auto price = sim::parse_decimal(*v);
    if (!price || *price < 0 || *price > 10000)
      throw std::invalid_argument("--price-per-gpu-hour = '" + *v + "': allowed a number of dollars in 0..10000");
    o.price_per_hour = *price;
  }
  return o;
}

model::Scenario scenario_from(const Args& a, const std::string& kind) {
  model::Overrides o = overrides_from(a);
  if (!kind.empty()) o.kind = kind;
  const model::Catalog catalog = catalog_from(a);
  try {
    return model::make_scenario(catalog, *a.get("model"), o);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(*a.get("model") + " scenario: " + e.what());
  }
}

}  // namespace ppsim::cli
