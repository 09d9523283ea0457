#include "model/catalog.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "model/json_reader.hpp"
#include "model/presets_data.hpp"
#include "sim/did_you_mean.hpp"
#include "sim/json_parse.hpp"

namespace ppsim::model {

using nlohmann::json;

namespace {

// Bandwidths are named by their unit: *_GBps (gigabytes; "gbps" reads as gigabits to most
// people), hbm_TBps. The old lower-case names are still read, and stored under the new ones,
// so catalog --format json writes one spelling.
json with_current_names(const json& entry, const std::string& path) {
  if (!entry.is_object()) return entry;
  static const std::pair<const char*, const char*> renamed[] = {{"scale_up_gbps", "scale_up_GBps"}, {"nic_gbps", "nic_GBps"},
                                                                {"hbm_tbps", "hbm_TBps"}, {"intra_gbps", "intra_GBps"},
                                                                {"inter_gbps", "inter_GBps"}};
  json out = entry;
  for (const auto& [old_name, name] : renamed) {
    if (!out.contains(old_name)) continue;
    if (out.contains(name))
      throw std::invalid_argument(path + ": give " + name + " or its old name " + old_name + ", not both");
    out[name] = out[old_name];
    out.erase(old_name);
  }
  return out;
}

// A GPU's "kernels" object (model/kernels.hpp): every figure in range, attention points sorted.
KernelFigures kernels_from_json(const JsonReader& r) {
  KernelFigures k;
  k.measured = true;
  k.gemm_bf16 = r.number("gemm_bf16", 0.01, 1);
  k.gemm_fp8 = r.number_or("gemm_fp8", k.gemm_bf16, 0.01, 1);
  k.hbm = r.number("hbm", 0.01, 1);
  k.kernel_us = r.number_or("kernel_us", k.kernel_us, 0, 1000);
  const JsonReader tile = r.object("tile", {"m", "n"});
  k.tile_m = static_cast<int>(tile.integer("m", 16, 1024));
  k.tile_n = static_cast<int>(tile.integer("n", 16, 1024));
  const JsonReader att = r.object("attention", {"64", "96", "128", "192", "256"});
  k.attention.clear();
  for (const char* dim : {"64", "96", "128", "192", "256"}) {
    if (!att.has(dim)) continue;
    const JsonReader p = att.object(dim, {"forward", "backward"});
    k.attention.push_back({std::stoi(dim), p.number("forward", 0.01, 1), p.number("backward", 0.01, 1)});
  }
  if (k.attention.empty())
    throw std::invalid_argument(att.path() + " has no head dimension: give at least one of 64, 96, 128, 192, 256");
  return k;
}

}  // namespace

GpuSpec gpu_from_json(const json& j, const std::string& id) {
  const JsonReader r(j, "gpus." + id, {"name", "bf16_tflops", "fp8_tflops", "hbm_gib", "hbm_TBps", "sms", "scale_up_GBps",
                                        "nic_GBps", "tdp_w", "price_per_hour", "kernels"});
  GpuSpec g;
  g.id = id;
  g.name = r.string_or("name", id);
  g.bf16_tflops = r.number("bf16_tflops", 1, 1e6);
  g.fp8_tflops = r.number_or("fp8_tflops", 0, 0, 1e6);
  g.hbm_gib = r.number("hbm_gib", 1, 1e5);
  g.hbm_tbps = r.number("hbm_TBps", 0.01, 1e3);
  g.sms = static_cast<int>(r.integer("sms", 1, 10000));
  g.scale_up_gbps = r.number("scale_up_GBps", 0.1, 1e5);
  g.nic_gbps = r.number("nic_GBps", 0.1, 1e5);
  g.tdp_w = r.number("tdp_w", 1, 1e5);
  g.price_per_hour = r.number("price_per_hour", 0, 1e4);
  if (r.has("kernels")) {
    g.kernels = kernels_from_json(r.object("kernels", {"gemm_bf16", "gemm_fp8", "tile", "attention", "hbm", "kernel_us"}));
    if (j["kernels"].contains("source") && j["kernels"]["source"].is_string()) g.kernels.source = j["kernels"]["source"].get<std::string>();
  }
  if (j.contains("source") && j["source"].is_string()) g.source = j["source"].get<std::string>();
  return g;
}

ClusterSpec cluster_from_json(const json& j, const std::string& id) {
  const JsonReader r(j, "clusters." + id, {"gpu", "nodes", "gpus_per_node", "nvlink_domain", "intra_GBps", "intra_latency_us",
                                            "inter_GBps", "inter_latency_us"});
  ClusterSpec c;
  c.id = id;
  c.gpu = r.string("gpu");
  c.nodes = static_cast<int>(r.integer("nodes", 1, 1 << 20));
  c.gpus_per_node = static_cast<int>(r.integer("gpus_per_node", 1, 64));
  c.nvlink_domain = static_cast<int>(r.integer_or("nvlink_domain", c.gpus_per_node, 1, 1 << 16));
  if (c.nvlink_domain % c.gpus_per_node != 0)
    throw std::invalid_argument("clusters." + id + ".nvlink_domain = " + std::to_string(c.nvlink_domain) +
                                ": must be a multiple of gpus_per_node = " + std::to_string(c.gpus_per_node) +
                                " (a domain is whole nodes)");
  c.intra_gbps = r.number("intra_GBps", 0.1, 1e5);
  c.intra_latency_us = r.number_or("intra_latency_us", 2, 0, 1e6);
  c.inter_gbps = r.number("inter_GBps", 0.1, 1e5);
  c.inter_latency_us = r.number_or("inter_latency_us", 5, 0, 1e6);
  if (static_cast<long long>(c.nodes) * c.gpus_per_node > (1 << 22))
    throw std::invalid_argument("clusters." + id + ": " + std::to_string(c.gpus()) + " GPUs: at most 4194304");
  return c;
}

ModelSpec model_from_json(const json& j, const std::string& id) {
  const JsonReader r(j, "models." + id, {"layers", "hidden", "heads", "kv_heads", "head_dim", "ffn", "ffn_kind", "vocab",
                                          "seq_len", "mtp_depth", "attention", "moe", "plan"});
  ModelSpec m;
  m.id = id;
  m.layers = static_cast<int>(r.integer("layers", 1, 100000));
  m.hidden = static_cast<int>(r.integer("hidden", 1, 1 << 20));
  m.heads = static_cast<int>(r.integer("heads", 1, 1 << 16));
  m.kv_heads = static_cast<int>(r.integer_or("kv_heads", m.heads, 1, m.heads));
  m.head_dim = static_cast<int>(r.integer_or("head_dim", m.hidden / m.heads, 1, 1 << 16));
  m.ffn = static_cast<int>(r.integer("ffn", 1, 1 << 22));
  m.ffn_kind = r.choice_or("ffn_kind", "swiglu", {"swiglu", "gelu"});
  m.vocab = static_cast<int>(r.integer("vocab", 1, 1 << 24));
  m.seq_len = static_cast<int>(r.integer("seq_len", 1, 1 << 24));
  m.mtp_depth = static_cast<int>(r.integer_or("mtp_depth", 0, 0, 16));
  if (r.has("attention")) {
    const JsonReader a = r.object("attention", {"kind", "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim",
                                                "qk_rope_head_dim", "v_head_dim"});
    m.attention.kind = a.choice_or("kind", "mha", {"mha", "gqa", "mla"});
    if (m.attention.kind == "mla") {
      m.attention.q_lora_rank = static_cast<int>(a.integer("q_lora_rank", 0, 1 << 20));
      m.attention.kv_lora_rank = static_cast<int>(a.integer("kv_lora_rank", 1, 1 << 20));
      m.attention.qk_nope_head_dim = static_cast<int>(a.integer("qk_nope_head_dim", 1, 1 << 16));
      m.attention.qk_rope_head_dim = static_cast<int>(a.integer("qk_rope_head_dim", 0, 1 << 16));
      m.attention.v_head_dim = static_cast<int>(a.integer("v_head_dim", 1, 1 << 16));
    }
  }
  if (r.has("moe")) {
    const JsonReader e = r.object("moe", {"routed_experts", "experts_per_token", "shared_experts", "expert_ffn",
                                          "dense_layers", "max_nodes_per_token"});
    m.moe.routed_experts = static_cast<int>(e.integer("routed_experts", 1, 1 << 16));
    m.moe.experts_per_token = static_cast<int>(e.integer("experts_per_token", 1, m.moe.routed_experts));
    m.moe.shared_experts = static_cast<int>(e.integer_or("shared_experts", 0, 0, 64));
    m.moe.expert_ffn = static_cast<int>(e.integer("expert_ffn", 1, 1 << 22));
    m.moe.dense_layers = static_cast<int>(e.integer_or("dense_layers", 0, 0, m.layers));
    m.moe.max_nodes_per_token = static_cast<int>(e.integer_or("max_nodes_per_token", 0, 0, 1 << 16));
  }
  if (r.has("plan")) {
    const JsonReader p = r.object("plan", {"cluster", "kind", "tp", "pp", "ep", "zero", "stages_per_rank", "microbatch_size",
                                           "global_batch", "precision", "recompute", "comm_sms", "optimizer_bytes", "tokens",
                                           "cp", "etp", "sp", "recompute_modules", "recompute_layers", "first_stage_layers",
                                           "last_stage_layers", "overlap_grad_reduce", "attention_kernel"});
    PlanPreset& pl = m.plan;
    pl.cluster = p.string_or("cluster", "");
    pl.kind = p.string_or("kind", "1f1b");
    pl.tp = static_cast<int>(p.integer_or("tp", 1, 1, 1 << 12));
    pl.pp = static_cast<int>(p.integer_or("pp", 1, 1, 1 << 12));
    pl.ep = static_cast<int>(p.integer_or("ep", 1, 1, 1 << 16));
    pl.zero = static_cast<int>(p.integer_or("zero", 1, 0, 3));
    pl.stages_per_rank = static_cast<int>(p.integer_or("stages_per_rank", 0, 0, 64));
    pl.microbatch_size = static_cast<int>(p.integer_or("microbatch_size", 1, 1, 1 << 16));
    pl.global_batch = static_cast<int>(p.integer_or("global_batch", 0, 0, 1 << 26));
    pl.precision = p.choice_or("precision", "bf16", {"bf16", "fp8"});
    pl.recompute = p.choice_or("recompute", "none", {"none", "selective", "full"});
    pl.comm_sms = static_cast<int>(p.integer_or("comm_sms", 0, 0, 10000));
    pl.optimizer_bytes = p.number_or("optimizer_bytes", 12, 0, 64);
    pl.tokens = p.string_or("tokens", "");
    pl.cp = static_cast<int>(p.integer_or("cp", 1, 1, 1 << 12));
    pl.etp = static_cast<int>(p.integer_or("etp", 0, 0, 1 << 12));
    pl.sp = p.boolean_or("sp", false);
    pl.recompute_modules = p.string_or("recompute_modules", "");
    pl.recompute_layers = static_cast<int>(p.integer_or("recompute_layers", 0, 0, 100000));
    pl.first_stage_layers = static_cast<int>(p.integer_or("first_stage_layers", 0, 0, 100000));
    pl.last_stage_layers = static_cast<int>(p.integer_or("last_stage_layers", 0, 0, 100000));
    pl.overlap_grad_reduce = p.boolean_or("overlap_grad_reduce", false);
    pl.attention_kernel = p.choice_or("attention_kernel", "flash", {"flash", "unfused"});
  }
  if (j.contains("source") && j["source"].is_string()) m.source = j["source"].get<std::string>();
  return m;
}

Catalog Catalog::builtin() {
  static const Catalog catalog = [] {
    Catalog c;
    c.sections_ = {{"gpus", json::parse(presets::kGpus).at("gpus")},
                   {"clusters", json::parse(presets::kClusters).at("clusters")},
                   {"models", json::parse(presets::kModels).at("models")}};
    return c;
  }();
  return catalog;
}

const json& Catalog::section(const std::string& key) const {
  for (const auto& [name, value] : sections_)
    if (name == key) return value;
  throw std::logic_error("no catalog section " + key);
}

json& Catalog::section(const std::string& key) {
  return const_cast<json&>(static_cast<const Catalog&>(*this).section(key));
}

json Catalog::to_json() const {
  json doc = {{"schema_version", sim::kSchemaVersion}};
  for (const auto& [name, entries] : sections_) doc[name] = entries;
  return doc;
}

void Catalog::merge(const json& doc, const std::string& origin) {
  if (!doc.is_object()) throw std::invalid_argument(origin + ": expected an object with 'models', 'gpus' and/or 'clusters'");
  sim::check_schema_version(doc, origin);
  for (const auto& [key, entries] : doc.items()) {
    if (key.rfind("_", 0) == 0 || key == "schema_version") continue;
    // The validation table (model/validation/cases.json) is a catalog file too: its cases
    // and metrics are for `ppsim accuracy`, its models and clusters for every command.
    if (key == "cases" || key == "metrics") continue;
    if (key != "models" && key != "gpus" && key != "clusters")
      throw std::invalid_argument(origin + ": unknown key '" + key + "'" +
                                  sim::did_you_mean(key, {"models", "gpus", "clusters"}) + "; allowed: models, gpus, clusters");
    if (!entries.is_object()) throw std::invalid_argument(origin + "." + key + ": expected an object of entries by id");
    for (const auto& item : entries.items()) {
      const std::string& id = item.key();
      json entry;
      try {  // check the entry on its own before it can be used
        entry = with_current_names(item.value(), key + "." + id);
        if (key == "models") model_from_json(entry, id);
        else if (key == "gpus") gpu_from_json(entry, id);
        else cluster_from_json(entry, id);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(origin + ": " + e.what());
      }
      section(key)[id] = entry;
    }
  }
}

namespace {

std::vector<std::string> keys_of(const json& s) {
  std::vector<std::string> out;
  for (const auto& [id, value] : s.items()) out.push_back(id);
  return out;
}

const json& entry(const json& s, const std::string& id, const std::string& what) {
  if (!s.contains(id)) {
    const auto known = keys_of(s);
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw std::invalid_argument(what + " '" + id + "' is not in the catalog" + sim::did_you_mean(id, known) + ": known " +
                                what + "s: " + list);
  }
  return s[id];
}

}  // namespace

GpuSpec Catalog::gpu(const std::string& id) const { return gpu_from_json(entry(section("gpus"), id, "gpu"), id); }
ClusterSpec Catalog::cluster(const std::string& id) const {
  return cluster_from_json(entry(section("clusters"), id, "cluster"), id);
}
ModelSpec Catalog::model(const std::string& id) const { return model_from_json(entry(section("models"), id, "model"), id); }
std::vector<std::string> Catalog::gpu_ids() const { return keys_of(section("gpus")); }
std::vector<std::string> Catalog::cluster_ids() const { return keys_of(section("clusters")); }
std::vector<std::string> Catalog::model_ids() const { return keys_of(section("models")); }

GpuSpec find_gpu(const std::string& id) { return Catalog::builtin().gpu(id); }
ClusterSpec find_cluster(const std::string& id) { return Catalog::builtin().cluster(id); }
ModelSpec find_model(const std::string& id) { return Catalog::builtin().model(id); }
std::vector<std::string> gpu_ids() { return Catalog::builtin().gpu_ids(); }
std::vector<std::string> cluster_ids() { return Catalog::builtin().cluster_ids(); }
std::vector<std::string> model_ids() { return Catalog::builtin().model_ids(); }

}  // namespace ppsim::model
