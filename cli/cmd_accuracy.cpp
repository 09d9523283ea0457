// ppsim accuracy: the validation table (model/validation/cases.json) predicted with the
// built-in defaults: predicted, published and signed error per case, then mean and max.
#include <cmath>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/report.hpp"
#include "model/validation.hpp"

namespace ppsim::cli {

int run_accuracy(const Words& args, std::ostream& out) {
  const std::vector<FlagSpec> specs = {{"format", true, "table (default) | json"},
                                       {"efficiency", true, "override figures in every case (as simulate's --efficiency): a sensitivity check"},
                                       {"help", false, "show this help"}};
  const Args a(args, specs, "accuracy");
  if (a.has("help")) {
    out << "usage: ppsim accuracy [--format table|json] [--efficiency KEY=VALUE,...]\n"
           "Predicts every published run of the validation table with the built-in defaults.\n"
        << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "table", {"table", "json"});
  const model::ValidationSummary v = model::run_validation(a.get_or("efficiency", ""));
  if (format == "json") {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : v.rows)
      rows.push_back({{"id", r.c.id},
                      {"model", r.c.model},
                      {"gpus", r.gpus},
                      {"metric", r.c.metric},
                      {"published", r.c.published},
                      {"predicted", r.predicted},
                      {"error", r.error},
                      {"step_seconds", r.step_seconds},
                      {"source", r.c.source}});
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& r : v.rows) metrics[r.c.metric] = model::validation_metric_text(r.c.metric);
    out << versioned({{"cases", rows}, {"metrics", metrics}, {"mean_abs_error", v.mean_abs_error}, {"max_abs_error", v.max_abs_error}}).dump(1)
        << "\n";
    return 0;
  }
  std::ostringstream t;
  t << std::fixed << std::left << std::setw(30) << "case" << std::right << std::setw(6) << "GPUs" << std::setw(12) << "step"
    << std::setw(13) << "predicted" << std::setw(13) << "published" << std::setw(9) << "error" << "  metric\n";
  for (const auto& r : v.rows) {
    const bool hours = r.c.metric == "gpu_hours_per_trillion_tokens";
    t << std::left << std::setw(30) << r.c.id << std::right << std::setw(6) << r.gpus << std::setw(11) << std::setprecision(3)
      << r.step_seconds << "s" << std::setprecision(hours ? 0 : 1) << std::setw(13) << r.predicted << std::setw(13) << r.c.published
      << std::setprecision(1) << std::setw(8) << std::showpos << r.error * 100 << "%" << std::noshowpos << "  "
      << (hours ? "GPU-hours per T tokens" : "TFLOP/s per GPU (Megatron)") << "\n";
  }
  t << std::setprecision(1) << "mean |error| " << v.mean_abs_error * 100 << "%, max |error| " << v.max_abs_error * 100 << "% over "
    << v.rows.size() << " published runs\n";
  for (const auto& r : v.rows)
    if (&r == &v.rows.front() || r.c.metric != (&r - 1)->c.metric) t << r.c.metric << ": " << model::validation_metric_text(r.c.metric) << "\n";
  out << t.str();
  return 0;
}

}  // namespace ppsim::cli
