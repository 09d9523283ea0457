#include "model/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <stdexcept>

#include "model/json_reader.hpp"
#include "model/placement.hpp"
#include "sim/did_you_mean.hpp"
#include "sim/numbers.hpp"

namespace ppsim::model {

namespace {

[[noreturn]] void rule(const std::string& text) { throw std::invalid_argument(text); }

std::string n(long long x) { return std::to_string(x); }

}  // namespace

std::vector<std::vector<Unit>> split_units(const ModelSpec& m, int stages, int first, int last) {
  std::vector<Unit> blocks;
  for (int l = 0; l < m.layers; ++l)
    blocks.push_back(m.moe.enabled() && l >= m.moe.dense_layers ? Unit::MoeLayer : Unit::DenseLayer);
  std::vector<std::vector<Unit>> out(stages);
  if (first > 0 || last > 0) {
    const int fixed = (first > 0) + (last > 0);
    const int rest_stages = stages - fixed, rest = m.layers - first - last;
    if (stages < 2 || rest < 0 || (rest_stages == 0 ? rest != 0 : rest == 0 || rest % rest_stages != 0))
      rule("stage layers: " + m.id + " has " + n(m.layers) + " layers; first-stage-layers = " + n(first) +
           ", last-stage-layers = " + n(last) + " leave " + n(rest) + " for the other " + n(rest_stages) +
           " stages, which must be a positive multiple of them (or 0 with no other stage)");
    const int per = rest_stages > 0 ? rest / rest_stages : 0;
    int next = 0;
    for (int st = 0; st < stages; ++st) {
      const int count = st == 0 && first > 0 ? first : st == stages - 1 && last > 0 ? last : per;
      for (int i = 0; i < count; ++i) out[st].push_back(blocks[next++]);
    }
    out.front().insert(out.front().begin(), Unit::Embedding);
    for (int d = 0; d < m.mtp_depth; ++d) out.back().push_back(Unit::Mtp);
    out.back().push_back(Unit::Head);
    return out;
  }
  for (int d = 0; d < m.mtp_depth; ++d) blocks.push_back(Unit::Mtp);
  const int b = static_cast<int>(blocks.size());
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
       " pipeline stages: choose --pp (and --stages-per-rank), or --first-stage-layers / --last-stage-layers");
}

namespace {
const std::vector<std::pair<std::string, unsigned>>& recompute_names() {
  static const std::vector<std::pair<std::string, unsigned>> names = {
      {"core_attn", kRecomputeCoreAttn}, {"mla_up_proj", kRecomputeMlaUp}, {"layernorm", kRecomputeLayernorm},
      {"mlp", kRecomputeMlp},            {"moe", kRecomputeMoe},         {"moe_act", kRecomputeMoeAct}};
  return names;
}
}  // namespace

unsigned parse_recompute_modules(const std::string& list) {
  unsigned flags = 0;
  std::size_t start = 0;
  while (start <= list.size() && !list.empty()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, end - start);
    start = end + 1;
    if (item.empty() || item == "none") continue;
    std::vector<std::string> known;
    unsigned found = 0;
    for (const auto& [name, flag] : recompute_names()) {
      known.push_back(name);
      if (name == item) found = flag;
    }
    if (!found)
      rule("recompute-modules: '" + item + "' is not a module" + sim::did_you_mean(item, known) +
           ": allowed core_attn, mla_up_proj, layernorm, mlp, moe, moe_act (comma-separated)");
    flags |= found;
  }
  return flags;
}

std::string recompute_modules_text(unsigned modules) {
  std::string out;
  for (const auto& [name, flag] : recompute_names())
    if (modules & flag) out += (out.empty() ? "" : ",") + name;
  return out.empty() ? "none" : out;
}

Efficiencies parse_efficiencies(const std::string& spec, Efficiencies e) {
  const std::vector<std::pair<std::string, double*>> keys = {
      {"gemm", &e.gemm},     {"expert_gemm", &e.expert_gemm}, {"attention", &e.attention},
      {"memory", &e.memory}, {"network", &e.network},         {"expert_imbalance", &e.expert_imbalance},
      {"in_training", &e.in_training},
      {"comm_GBps_per_sm", &e.comm_gbps_per_sm}, {"comm_gbps_per_sm", &e.comm_gbps_per_sm}};  // the old name too
  std::vector<std::string> names;
  for (const auto& k : keys)
    if (k.first != "comm_gbps_per_sm") names.push_back(k.first);  // the old name is read, not offered
  std::vector<std::string> seen;
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
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) rule("efficiency " + key + " given twice");
    seen.push_back(key);
    const auto parsed = sim::parse_decimal(item.substr(eq + 1));
    if (!parsed) rule("efficiency " + key + " = '" + item.substr(eq + 1) + "' is not a number");
    const double v = *parsed;
    const bool imbalance = key == "expert_imbalance", per_sm = key == "comm_GBps_per_sm" || key == "comm_gbps_per_sm";
    // Physical ranges: a share below 1% or an SM rate below 0.01 GB/s is a typo, not a GPU.
    if (per_sm ? (!std::isfinite(v) || v < 0.01 || v > 1000) : !std::isfinite(v) || (imbalance ? (v < 1 || v > 8) : (v < 0.01 || v > 1)))
      rule("efficiency " + key + " = " + item.substr(eq + 1) + ": allowed " +
           (per_sm ? "0.01..1000 (GB/s)" : imbalance ? "1..8" : "0.01..1"));
    *it->second = v;
  }
  return e;
}

sim::ScheduleRequest Scenario::schedule_request() const {
  return {kind, plan.pp, microbatches(), sim::is_interleaved(kind) ? plan.stages_per_rank : 0};
}

Scenario make_scenario(const Catalog& catalog, const std::string& model_id, const Overrides& o) {
  Scenario s;
  s.model = catalog.model(model_id);
  const PlanPreset& pre = s.model.plan;
  const std::string cluster_id = o.cluster.value_or(pre.cluster);
  if (cluster_id.empty()) rule("cluster: " + model_id + " has no published cluster: give --cluster");
  s.cluster = catalog.cluster(cluster_id);
  if (o.seq_len) {
    if (*o.seq_len < 1 || *o.seq_len > (1 << 24)) rule("seq-len = " + n(*o.seq_len) + ": allowed 1..16777216 tokens");
    s.model.seq_len = *o.seq_len;
  }
  if (o.nodes) {
    if (*o.nodes < 1 || *o.nodes > (1 << 19)) rule("nodes = " + n(*o.nodes) + " is out of range: allowed 1..524288");
    s.cluster.nodes = *o.nodes;
  }
  if (o.nvlink_domain) {
    if (*o.nvlink_domain < 1 || *o.nvlink_domain % s.cluster.gpus_per_node != 0 || *o.nvlink_domain > (1 << 16))
      rule("nvlink-domain = " + n(*o.nvlink_domain) + ": must be a multiple of the " + n(s.cluster.gpus_per_node) +
           " GPUs per node, at most 65536");
    s.cluster.nvlink_domain = *o.nvlink_domain;
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
  p.cp = o.cp.value_or(pre.cp);
  p.sp = o.sp.value_or(pre.sp);
  p.etp = o.etp.value_or(pre.etp > 0 ? pre.etp : p.tp);
  p.overlap_grad_reduce = o.overlap_grad_reduce.value_or(pre.overlap_grad_reduce);
  p.first_stage_layers = o.first_stage_layers.value_or(pre.first_stage_layers);
  p.last_stage_layers = o.last_stage_layers.value_or(pre.last_stage_layers);
  p.optimizer_bytes = pre.optimizer_bytes;
  const int default_sms = s.model.moe.enabled() ? static_cast<int>(std::lround(s.gpu.sms * 20.0 / 132.0)) : 0;
  p.comm_sms = o.comm_sms.value_or(pre.comm_sms > 0 ? pre.comm_sms : default_sms);
  const int spr_default = sim::is_interleaved(s.kind) ? std::max(2, pre.stages_per_rank) : 0;
  p.stages_per_rank = o.stages_per_rank.value_or(spr_default);
  s.tokens = parse_token_count(o.tokens.value_or(pre.tokens.empty() ? "1T" : pre.tokens), "tokens");
  s.price_per_hour = o.price_per_hour.value_or(s.gpu.price_per_hour);
  if (o.efficiency) s.eff = parse_efficiencies(*o.efficiency, s.eff);
  p.attention_kernel = o.attention_kernel.value_or(pre.attention_kernel);
  if (p.attention_kernel != "flash" && p.attention_kernel != "unfused")
    rule("attention-kernel = '" + p.attention_kernel + "': allowed flash, unfused");
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
  for (auto [name, value] : {std::pair{"tp", p.tp}, {"pp", p.pp}, {"ep", p.ep}, {"cp", p.cp}, {"etp", p.etp},
                              {"microbatch-size", p.microbatch_size}})
    if (value < 1) rule(std::string(name) + " = " + n(value) + ": must be at least 1");
  const long long tp_cp_pp = static_cast<long long>(p.tp) * p.cp * p.pp;
  if (tp_cp_pp > gpus || gpus % tp_cp_pp != 0)
    rule("GPUs = " + n(gpus) + " (" + n(s.cluster.nodes) + " nodes x " + n(s.cluster.gpus_per_node) +
         ") is not TP x CP x PP x DP: TP x CP x PP = " + n(tp_cp_pp) + " does not divide it");
  p.dp = static_cast<int>(gpus / tp_cp_pp);
  const int domain = s.cluster.domain();
  if (p.tp > domain)
    rule("tp = " + n(p.tp) + " spans more than one NVLink domain (" + n(domain) +
         " GPUs): tensor parallelism stays inside a domain");
  if (domain % p.tp != 0)
    rule("tp = " + n(p.tp) + " does not divide the NVLink domain of " + n(domain) +
         " GPUs: some TP groups would straddle two domains");
  if (p.cp > 1 && s.model.seq_len % (2 * p.cp) != 0)
    rule("cp = " + n(p.cp) + " does not split the sequence of " + n(s.model.seq_len) + " tokens into 2 x CP = " +
         n(2 * p.cp) + " equal chunks (load-balanced causal ring attention): choose --cp or --seq-len so it does");
  if (p.sp && p.tp < 2) rule("sp: sequence parallelism splits the norm and dropout activations over TP; it needs tp > 1");
  if (s.model.heads % p.tp != 0) rule("tp = " + n(p.tp) + " does not divide the " + n(s.model.heads) + " attention heads");
  if (s.model.attention.kind == "gqa" && s.model.kv_heads % p.tp != 0 && p.tp % s.model.kv_heads != 0)
    rule("tp = " + n(p.tp) + " and the " + n(s.model.kv_heads) + " KV heads do not divide one another");
  if (s.model.moe.enabled()) {
    if (s.model.moe.routed_experts % p.ep != 0)
      rule("ep = " + n(p.ep) + " does not divide the " + n(s.model.moe.routed_experts) + " routed experts");
    const long long stage_gpus = static_cast<long long>(p.tp) * p.cp * p.dp, etp_ep = static_cast<long long>(p.etp) * p.ep;
    if (etp_ep > stage_gpus || stage_gpus % etp_ep != 0)
      rule("etp x ep = " + n(p.etp) + " x " + n(p.ep) + " = " + n(etp_ep) + " does not divide TP x CP x DP = " +
           n(stage_gpus) + ": expert groups are drawn from a stage's TP x CP x DP ranks (Megatron-Core)");
    if (s.model.moe.expert_ffn % p.etp != 0)
      rule("etp = " + n(p.etp) + " does not divide the experts' FFN width " + n(s.model.moe.expert_ffn));
    if (p.etp > domain || domain % p.etp != 0)
      rule("etp = " + n(p.etp) + " does not fit the NVLink domain of " + n(domain) +
           " GPUs: expert TP groups stay inside one domain, so ETP must divide it");
  } else if (p.ep != 1) {
    rule("ep = " + n(p.ep) + ": " + model_id + " has no experts (use ep 1)");
  } else if (o.etp && *o.etp != 1) {
    rule("etp = " + n(*o.etp) + ": " + model_id + " has no experts (expert tensor parallelism needs an MoE model)");
  } else {
    p.etp = 1;
  }
  if (p.zero < 0 || p.zero > 3) rule("zero = " + n(p.zero) + ": allowed 0, 1, 2, 3");
  if (p.precision != "bf16" && p.precision != "fp8") rule("precision = '" + p.precision + "': allowed bf16, fp8");
  if (p.precision == "fp8" && s.gpu.fp8_tflops <= 0) rule("precision fp8: " + s.gpu.name + " has no FP8 tensor cores");
  if (p.recompute != "none" && p.recompute != "selective" && p.recompute != "full")
    rule("recompute = '" + p.recompute + "': allowed none, selective, full");
  // What `recompute` names, unless the modules and layers are given: selective is DeepSeek-V3's
  // choice for MLA (norms and up-projections) and Korthikanti et al.'s (the attention core)
  // otherwise; full recomputes every layer.
  if (o.recompute_modules) p.recompute_modules = parse_recompute_modules(*o.recompute_modules);
  else if (!pre.recompute_modules.empty() && !o.recompute) p.recompute_modules = parse_recompute_modules(pre.recompute_modules);
  else if (p.recompute == "selective")
    p.recompute_modules =
        s.model.attention.kind == "mla" ? kRecomputeMlaUp | kRecomputeLayernorm | kRecomputeMoeAct : kRecomputeCoreAttn;
  if ((p.recompute_modules & kRecomputeMlaUp) && s.model.attention.kind != "mla")
    rule("recompute-modules mla_up_proj: " + model_id + " has no MLA attention");
  p.recompute_layers = o.recompute_layers.value_or(o.recompute ? 0 : pre.recompute_layers);
  if (p.recompute_layers < 0) rule("recompute-layers = " + n(p.recompute_layers) + ": must be at least 0");
  if (p.recompute == "full" && !o.recompute_layers) p.recompute_layers = s.model.layers + s.model.mtp_depth;
  if (p.overlap_grad_reduce && p.zero >= 3)
    rule("overlap-grad-reduce: ZeRO-3/FSDP already reduce-scatters each layer's gradients as its backward makes them");
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
  if ((p.first_stage_layers > 0 || p.last_stage_layers > 0) && stages < 2)
    rule("first-stage-layers / last-stage-layers: need at least 2 pipeline stages (pp = " + n(p.pp) + ")");
  s.stage_units = split_units(s.model, stages, p.first_stage_layers, p.last_stage_layers);
  if (s.model.moe.enabled()) s.ep_shape = group_shape(s, Group::Ep);
  int most = 0;
  for (const auto& units : s.stage_units)
    most = std::max<int>(most, static_cast<int>(std::count_if(units.begin(), units.end(), is_layer)));
  if (p.recompute_layers > most && !(p.recompute == "full" && !o.recompute_layers))
    rule("recompute-layers = " + n(p.recompute_layers) + ": the fullest stage holds " + n(most) +
         " layers (a stage with fewer recomputes all of its own)");
  return s;
}

}  // namespace ppsim::model
