// ppsim kernels: what the GEMM model (model/kernels.hpp) says a shape costs on a GPU: time,
// efficiency of the dense peak, tiles and waves. The notebook's efficiency plot uses it.
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/report.hpp"
#include "cli/scenario_flags.hpp"
#include "model/catalog.hpp"
#include "model/kernels.hpp"
#include "model/scenario.hpp"

namespace ppsim::cli {

int run_kernels(const Words& args, std::ostream& out) {
  const std::vector<FlagSpec> specs = {{"gpu", true, "GPU id (default h100); see ppsim catalog"},
                                       {"precision", true, "bf16 (default) | fp8"},
                                       {"m", true, "rows (tokens), one or a list: 128,256,4096"},
                                       {"n", true, "columns, one or a list (default 8192)"},
                                       {"k", true, "inner dimension, one or a list (default 8192)"},
                                       {"groups", true, "equal problems in one grouped GEMM (default 1)"},
                                       {"catalog", true, "also read GPUs from this JSON file"},
                                       {"format", true, "text (default) | json"},
                                       {"help", false, "show this help"}};
  const Args a(args, specs, "kernels");
  if (a.has("help")) {
    out << "usage: ppsim kernels [--gpu G] [--precision bf16|fp8] --m LIST [--n LIST] [--k LIST] [--groups G]\n" << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  const std::string precision = a.get_choice("precision", "bf16", {"bf16", "fp8"});
  const model::GpuSpec gpu = catalog_from(a).gpu(a.get_or("gpu", "h100"));
  if (precision == "fp8" && gpu.fp8_tflops <= 0)
    throw std::invalid_argument("--precision fp8: " + gpu.id + " has no FP8 peak in the catalog; allowed: bf16");
  constexpr int kMost = 1 << 20;
  const std::vector<int> ms = a.get_int_list("m", 1, kMost);
  if (ms.empty()) throw std::invalid_argument("--m is required: the rows (tokens) of the GEMM, e.g. --m 128,4096");
  std::vector<int> ns = a.get_int_list("n", 1, kMost), ks = a.get_int_list("k", 1, kMost);
  if (ns.empty()) ns = {8192};
  if (ks.empty()) ks = {8192};
  if (ms.size() * ns.size() * ks.size() > 100000)
    throw std::invalid_argument("--m x --n x --k = " + std::to_string(ms.size() * ns.size() * ks.size()) + " shapes: allowed at most 100000");
  const int groups = a.get_int("groups", 1, 1, 4096);
  const model::GemmRates r = model::gemm_rates(gpu, precision == "fp8");

  nlohmann::json rows = nlohmann::json::array();
  std::ostringstream t;
  t << gpu.name << ", " << precision << ": " << (precision == "fp8" ? gpu.fp8_tflops : gpu.bf16_tflops) << " TFLOP/s dense peak, "
    << "large-GEMM efficiency " << r.efficiency << ", tile " << r.tile_m << "x" << r.tile_n << " over " << r.sms << " SMs"
    << (gpu.kernels.measured ? "" : " (generic figures: the GPU has no \"kernels\" entry)")
    << "; as an isolated benchmark measures it (a training step keeps in_training = " << model::Efficiencies{}.in_training
    << " of it)\n";
  t << std::setw(8) << "m" << std::setw(8) << "n" << std::setw(8) << "k" << std::setw(8) << "groups" << std::setw(12) << "time us"
    << std::setw(10) << "TFLOP/s" << std::setw(12) << "efficiency" << std::setw(10) << "tile" << std::setw(7) << "split" << std::setw(7) << "waves"
    << "  bound\n";
  for (int m : ms)
    for (int n : ns)
      for (int k : ks) {
        const model::GemmShape g{static_cast<double>(m), static_cast<double>(n), static_cast<double>(k), static_cast<double>(groups)};
        const model::GemmPlan plan = model::gemm_plan(r, g);
        const double eff = model::gemm_efficiency(r, g);
        const std::string tile = std::to_string(plan.tile_m) + "x" + std::to_string(plan.tile_n);
        rows.push_back({{"m", m}, {"n", n}, {"k", k}, {"groups", groups}, {"seconds", plan.seconds}, {"efficiency", eff},
                        {"tflops", eff * r.peak / 1e12}, {"tile", tile}, {"split_k", plan.split_k}, {"tiles", plan.tiles}, {"waves", plan.waves},
                        {"bound", plan.bound}});
        t << std::setw(8) << m << std::setw(8) << n << std::setw(8) << k << std::setw(8) << groups << std::fixed << std::setprecision(1)
          << std::setw(12) << plan.seconds * 1e6 << std::setw(10) << eff * r.peak / 1e12 << std::setprecision(3) << std::setw(12) << eff
          << std::setw(10) << tile << std::setw(7) << plan.split_k << std::setprecision(0) << std::setw(7) << plan.waves << "  " << plan.bound << "\n";
        t.unsetf(std::ios::fixed);
      }
  if (format == "json")
    out << versioned({{"gpu", gpu.id}, {"precision", precision}, {"peak_tflops", r.peak / 1e12}, {"efficiency_large", r.efficiency},
                      {"tile_m", r.tile_m}, {"tile_n", r.tile_n}, {"sms", r.sms}, {"shapes", rows}})
               .dump(1)
        << "\n";
  else
    out << t.str();
  return 0;
}

}  // namespace ppsim::cli
