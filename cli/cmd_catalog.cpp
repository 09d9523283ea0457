// ppsim catalog: the built-in models, GPUs and clusters (plus a --catalog file's), with their
// key figures and sources.
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/scenario_flags.hpp"
#include "model/catalog.hpp"
#include "model/work.hpp"

namespace ppsim::cli {

int run_catalog(const Words& args, std::ostream& out) {
  const std::vector<FlagSpec> specs = {{"catalog", true, "also list the entries of this JSON file"},
                                       {"format", true, "text (default) | json"},
                                       {"help", false, "show this help"}};
  const Args a(args, specs, "catalog");
  if (a.has("help")) {
    out << "usage: ppsim catalog [--catalog FILE] [--format text|json]\n" << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  const model::Catalog c = catalog_from(a);
  // JSON: every entry in the presets' format, so the output reads back as --catalog; what ppsim
  // derives from them (parameter counts, the kernel figures in use) under "_derived", which a
  // catalog file may carry and merge() skips.
  nlohmann::json doc = c.to_json();
  nlohmann::json derived = {{"models", nlohmann::json::object()}, {"gpus", nlohmann::json::object()}};
  std::ostringstream text;
  text << std::fixed << std::setprecision(1) << "models\n";
  for (const auto& id : c.model_ids()) {
    const model::ModelSpec m = c.model(id);
    const double total = model::total_params(m) / 1e9, active = model::active_params(m) / 1e9;
    text << "  " << std::left << std::setw(14) << id << std::right << std::setw(4) << m.layers << " layers, hidden "
         << m.hidden << ", " << m.attention.kind << (m.moe.enabled() ? ", MoE " + std::to_string(m.moe.routed_experts) + "x top-" + std::to_string(m.moe.experts_per_token) : "")
         << ", " << total << "B params (" << active << "B active); plan on " << m.plan.cluster << "\n";
    derived["models"][id] = {{"total_params", total * 1e9}, {"active_params", active * 1e9}};
  }
  text << "gpus\n";
  for (const auto& id : c.gpu_ids()) {
    const model::GpuSpec g = c.gpu(id);
    text << "  " << std::left << std::setw(8) << id << std::right << " " << g.name << ": " << g.bf16_tflops << " BF16 / "
         << g.fp8_tflops << " FP8 TFLOP/s, " << g.hbm_gib << " GiB at " << g.hbm_tbps << " TB/s, " << g.sms << " SMs/CUs, "
         << g.tdp_w << " W, $" << std::setprecision(2) << g.price_per_hour << "/h" << std::setprecision(1) << "\n";
    derived["gpus"][id] = {{"kernels", [&] {
                          nlohmann::json att = nlohmann::json::object();
                          for (const auto& p : g.kernels.attention)
                            att[std::to_string(p.head_dim)] = {{"forward", p.forward}, {"backward", p.backward}};
                          return nlohmann::json{{"gemm_bf16", g.kernels.gemm_bf16}, {"gemm_fp8", g.kernels.gemm_fp8},
                                                {"tile", {{"m", g.kernels.tile_m}, {"n", g.kernels.tile_n}}},
                                                {"attention", att}, {"hbm", g.kernels.hbm}, {"kernel_us", g.kernels.kernel_us},
                                                {"measured", g.kernels.measured}, {"source", g.kernels.source}};
                        }()}};
  }
  text << "clusters\n";
  for (const auto& id : c.cluster_ids()) {
    const model::ClusterSpec k = c.cluster(id);
    text << "  " << std::left << std::setw(12) << id << std::right << " " << k.nodes << " x " << k.gpus_per_node << " "
         << k.gpu << ", NVLink domain of " << k.domain() << " GPUs at " << k.intra_gbps << " GB/s, " << k.inter_gbps
         << " GB/s across domains (per GPU)\n";
  }
  doc["_derived"] = std::move(derived);
  out << (format == "json" ? doc.dump(1) + "\n" : text.str());
  return 0;
}

}  // namespace ppsim::cli
