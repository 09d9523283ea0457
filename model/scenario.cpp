#include "model/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <stdexcept>

#include "model/json_reader.hpp"
#include "sim/did_you_mean.hpp"

namespace ppsim::model {

namespace {

[[noreturn]] void rule(const std::string& text) { throw std::invalid_argument(text); }

std::string n(long long x) { return std::to_string(x); }

}  // namespace

std::vector<std::vector<Unit>> split_units(const ModelSpec& m, int stages) {
  std::vector<Unit> blocks;
  for (int l = 0; l < m.layers; ++l)
    blocks.push_back(m.moe.enabled() && l >= m.moe.dense_layers ? Unit::MoeLayer : Unit::DenseLayer);
  for (int d = 0; d < m.mtp_depth; ++d) blocks.push_back(Unit::Mtp);
  const int b = static_cast<int>(blocks.size());
  std::vector<std::vector<Unit>> out(stages);
  if (b % stages == 0) {
    for (int i = 0; i < b; ++i) out[i / (b / stages)].push_back(blocks[i]);
    out.front().insert(out.front().begin(), Unit::Embedding);
    out.back().push_back(Unit::Head);
    return out;
  }
  if ((b + 2) % stages == 0) {
    blocks.insert(blocks.begin(), Unit::Embedding);
    blocks.push_back(Unit::Head);
    const int per = (b + 2) / stages;
    for (int i = 0; i < b + 2; ++i) out[i / per].push_back(blocks[i]);
    return out;
  }
  rule("layers: " + m.id + " has " + n(m.layers) + " layers" + (m.mtp_depth ? " + " + n(m.mtp_depth) + " MTP" : "") +
       " = " + n(b) + " blocks, and neither " + n(b) + " nor " + n(b + 2) +
       " (counting the embedding and the head as a block each) divides into " + n(stages) +
       " pipeline stages: choose --pp (and --stages-per-rank) so that one of them does");
}

Efficiencies parse_efficiencies(const std::string& spec, Efficiencies e) {
  const std::vector<std::pair<std::string, double*>> keys = {
      {"gemm", &e.gemm},     {"expert_gemm", &e.expert_gemm}, {"attention", &e.attention},
      {"memory", &e.memory}, {"network", &e.network},         {"expert_imbalance", &e.expert_imbalance},
      {"comm_gbps_per_sm", &e.comm_gbps_per_sm}};
  std::vector<std::string> names;
  for (const auto& k : keys) names.push_back(k.first);
  std::size_t start = 0;
  while (start < spec.size()) {
    const std::size_t end = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, end - start);
    start = end + 1;
    const std::size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.first == key; });
    if (eq == std::string::npos || it == keys.end()) {
      std::string list;
      for (const auto& k : names) list += (list.empty() ? "" : ", ") + k;
      rule("efficiency '" + item + "' is not KEY=VALUE with a known key" + sim::did_you_mean(key, names) + ": keys " + list);
    }
    double v = 0;
    try {
      std::size_t used = 0;
      v = std::stod(item.substr(eq + 1), &used);
      if (used != item.size() - eq - 1) throw std::invalid_argument("");
    } catch (const std::exception&) {
      rule("efficiency " + key + " = '" + item.substr(eq + 1) + "' is not a number");
    }
    const bool imbalance = key == "expert_imbalance", per_sm = key == "comm_gbps_per_sm";
    if (per_sm ? (!std::isfinite(v) || v <= 0 || v > 1000) : !std::isfinite(v) || (imbalance ? (v < 1 || v > 8) : (v <= 0 || v > 1)))
      rule("efficiency " + key + " = " + item.substr(eq + 1) + ": allowed " +
           (per_sm ? "more than 0, at most 1000 (GB/s)" : imbalance ? "1..8" : "more than 0, at most 1"));
    *it->second = v;
  }
  return e;
}

sim::ScheduleRequest Scenario::schedule_request() const {
  return {kind, plan.pp, microbatches(), kind == sim::ScheduleKind::Interleaved1F1B ? plan.stages_per_rank : 0};
}

Scenario make_scenario(const Catalog& catalog, const std::string& model_id, const Overrides& o) {
  Scenario s;
  s.model = catalog.model(model_id);
  const PlanPreset& pre = s.model.plan;
  const std::string cluster_id = o.cluster.value_or(pre.cluster);
  if (cluster_id.empty()) rule("cluster: " + model_id + " has no published cluster: give --cluster");
  s.cluster = catalog.cluster(cluster_id);
  if (o.nodes) {
    if (*o.nodes < 1 || *o.nodes > (1 << 19)) rule("nodes = " + n(*o.nodes) + " is out of range: allowed 1..524288");
    s.cluster.nodes = *o.nodes;
  }
  s.gpu = catalog.gpu(o.gpu.value_or(s.cluster.gpu));
  for (auto [value, slot, name] : {std::tuple{o.inter_gbps, &s.cluster.inter_gbps, "inter-gbps"},
                                   {o.intra_gbps, &s.cluster.intra_gbps, "intra-gbps"}}) {
    if (!value) continue;
    if (!std::isfinite(*value) || *value <= 0 || *value > 1e6)
      rule(std::string(name) + " = " + std::to_string(*value) + ": allowed more than 0, at most 1000000 GB/s");
    *slot = *value;
  }
  s.kind = sim::parse_schedule_kind(o.kind.value_or(pre.kind.empty() ? "1f1b" : pre.kind));

  Plan& p = s.plan;
  p.tp = o.tp.value_or(pre.tp);
  p.pp = o.pp.value_or(pre.pp);
  p.ep = o.ep.value_or(s.model.moe.enabled() ? pre.ep : 1);
  p.zero = o.zero.value_or(pre.zero);
  p.microbatch_size = o.microbatch_size.value_or(pre.microbatch_size);
  p.global_batch = o.global_batch.value_or(pre.global_batch);
  p.precision = o.precision.value_or(pre.precision);
  p.recompute = o.recompute.value_or(pre.recompute);
  p.optimizer_bytes = pre.optimizer_bytes;
  const int default_sms = s.model.moe.enabled() ? static_cast<int>(std::lround(s.gpu.sms * 20.0 / 132.0)) : 0;
  p.comm_sms = o.comm_sms.value_or(pre.comm_sms > 0 ? pre.comm_sms : default_sms);
  const int spr_default = s.kind == sim::ScheduleKind::Interleaved1F1B ? std::max(2, pre.stages_per_rank) : 0;
  p.stages_per_rank = o.stages_per_rank.value_or(spr_default);
  s.tokens = parse_token_count(o.tokens.value_or(pre.tokens.empty() ? "1T" : pre.tokens), "tokens");
  s.price_per_hour = o.price_per_hour.value_or(s.gpu.price_per_hour);
  if (o.efficiency) s.eff = parse_efficiencies(*o.efficiency, s.eff);
  p.placement = o.placement.value_or("dp-inner");
  if (p.placement != "dp-inner" && p.placement != "pp-inner")
    rule("placement = '" + p.placement + "': allowed dp-inner, pp-inner");
  s.fabric.nodes_per_pod = o.nodes_per_pod.value_or(std::min(32, s.cluster.nodes));
  s.fabric.oversubscription = o.oversubscription.value_or(1.0);
  if (s.fabric.nodes_per_pod < 1) rule("nodes-per-pod = " + n(s.fabric.nodes_per_pod) + ": must be at least 1");
  if (!(s.fabric.oversubscription >= 1) || s.fabric.oversubscription > 64)
    rule("oversubscription = " + std::to_string(s.fabric.oversubscription) + ": allowed 1..64");

  // The rules, each with its numbers.
  const int gpus = s.gpus();
  for (auto [name, value] : {std::pair{"tp", p.tp}, {"pp", p.pp}, {"ep", p.ep}, {"microbatch-size", p.microbatch_size}})
    if (value < 1) rule(std::string(name) + " = " + n(value) + ": must be at least 1");
  if (gpus % (p.tp * p.pp) != 0)
    rule("GPUs = " + n(gpus) + " (" + n(s.cluster.nodes) + " nodes x " + n(s.cluster.gpus_per_node) +
         ") is not TP x PP x DP: TP x PP = " + n(p.tp * p.pp) + " does not divide it");
  p.dp = gpus / (p.tp * p.pp);
  if (p.tp > s.cluster.gpus_per_node)
    rule("tp = " + n(p.tp) + " spans more than one node (" + n(s.cluster.gpus_per_node) +
         " GPUs per node): tensor parallelism stays inside a node");
  if (s.model.heads % p.tp != 0) rule("tp = " + n(p.tp) + " does not divide the " + n(s.model.heads) + " attention heads");
  if (s.model.attention.kind == "gqa" && s.model.kv_heads % p.tp != 0 && p.tp % s.model.kv_heads != 0)
    rule("tp = " + n(p.tp) + " and the " + n(s.model.kv_heads) + " KV heads do not divide one another");
  if (s.model.moe.enabled()) {
    if (s.model.moe.routed_experts % p.ep != 0)
      rule("ep = " + n(p.ep) + " does not divide the " + n(s.model.moe.routed_experts) + " routed experts");
    if ((p.dp * p.tp) % p.ep != 0)
      rule("ep = " + n(p.ep) + " does not divide DP x TP = " + n(p.dp * p.tp) +
           ": expert-parallel groups are drawn from the data-parallel ranks of a stage");
  } else if (p.ep != 1) {
    rule("ep = " + n(p.ep) + ": " + model_id + " has no experts (use ep 1)");
  }
  if (p.zero < 0 || p.zero > 3) rule("zero = " + n(p.zero) + ": allowed 0, 1, 2, 3");
  if (p.precision != "bf16" && p.precision != "fp8") rule("precision = '" + p.precision + "': allowed bf16, fp8");
  if (p.precision == "fp8" && s.gpu.fp8_tflops <= 0) rule("precision fp8: " + s.gpu.name + " has no FP8 tensor cores");
  if (p.recompute != "none" && p.recompute != "selective" && p.recompute != "full")
    rule("recompute = '" + p.recompute + "': allowed none, selective, full");
  if (p.comm_sms < 0 || p.comm_sms >= s.gpu.sms)
    rule("comm-sms = " + n(p.comm_sms) + ": allowed 0.." + n(s.gpu.sms - 1) + " (" + s.gpu.name + " has " + n(s.gpu.sms) +
         " SMs)");
  if (p.global_batch < 1) rule("global-batch = " + n(p.global_batch) + ": must be at least 1 sequence");
  if (p.global_batch % (p.dp * p.microbatch_size) != 0)
    rule("global-batch = " + n(p.global_batch) + " sequences is not a multiple of DP x micro-batch size = " + n(p.dp) +
         " x " + n(p.microbatch_size) + " = " + n(static_cast<long long>(p.dp) * p.microbatch_size));
  if (!std::isfinite(s.price_per_hour) || s.price_per_hour < 0)
    rule("price-per-gpu-hour must be a non-negative number");
  const sim::ScheduleRequest req = s.schedule_request();
  if (auto problem = sim::check_request(req); !problem.empty())
    rule("schedule: " + problem + " (micro-batches per step = global batch / (DP x micro-batch size) = " + n(p.global_batch) +
         " / (" + n(p.dp) + " x " + n(p.microbatch_size) + "))");
  const int stages = s.kind == sim::ScheduleKind::DualPipe ? p.pp : p.pp * sim::stages_per_rank_of(req);
  s.stage_units = split_units(s.model, stages);
  return s;
}

}  // namespace ppsim::model
