#include "model/validation.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "model/catalog.hpp"
#include "model/json_reader.hpp"
#include "model/presets_data.hpp"
#include "model/study.hpp"

namespace ppsim::model {

namespace {

const nlohmann::json& document() {
  static const nlohmann::json doc = nlohmann::json::parse(presets::kValidation);
  return doc;
}

// The built-in catalog plus the table's own models and clusters.
Catalog validation_catalog() {
  Catalog c = Catalog::builtin();
  const nlohmann::json& d = document();
  c.merge({{"clusters", d.at("clusters")}, {"models", d.at("models")}}, "model/validation/cases.json");
  return c;
}

}  // namespace

double megatron_flops_per_step(double batch, double seq, double layers, double hidden, double vocab) {
  return 96.0 * batch * seq * layers * hidden * hidden * (1 + seq / (6 * hidden) + vocab / (16 * layers * hidden));
}

std::vector<ValidationCase> validation_cases() {
  std::vector<ValidationCase> out;
  for (const auto& j : document().at("cases")) {
    const JsonReader r(j, "cases." + j.value("id", std::string("?")), {"id", "model", "nodes", "metric", "published"});
    ValidationCase c;
    c.id = r.string("id");
    c.model = r.string("model");
    c.nodes = static_cast<int>(r.integer_or("nodes", 0, 0, 1 << 19));
    c.metric = r.choice_or("metric", "", {"megatron_tflops_per_gpu", "gpu_hours_per_trillion_tokens"});
    c.published = r.number("published", 1e-9, 1e12);
    c.source = j.value("source", std::string());
    out.push_back(c);
  }
  return out;
}

std::string validation_metric_text(const std::string& metric) {
  return document().at("metrics").value(metric, metric);
}

ValidationSummary run_validation(const std::string& efficiency) {
  const Catalog catalog = validation_catalog();
  ValidationSummary out;
  for (const ValidationCase& c : validation_cases()) {
    Overrides o;
    if (c.nodes > 0) o.nodes = c.nodes;
    if (!efficiency.empty()) o.efficiency = efficiency;
    const Scenario s = make_scenario(catalog, c.model, o);
    const StudyResult r = run_study(s);
    ValidationRow row;
    row.c = c;
    row.gpus = s.gpus();
    row.step_seconds = r.run.step_seconds;
    if (c.metric == "megatron_tflops_per_gpu") {
      const ModelSpec& m = s.model;
      const double flops = megatron_flops_per_step(s.plan.global_batch, m.seq_len, m.layers, m.hidden, m.vocab);
      row.predicted = flops / (r.run.step_seconds * s.gpus()) / 1e12;
    } else {
      row.predicted = r.run.gpu_hours_per_t;
    }
    row.error = row.predicted / c.published - 1;
    out.rows.push_back(row);
  }
  double sum = 0;
  for (const ValidationRow& row : out.rows) {
    sum += std::abs(row.error);
    out.max_abs_error = std::max(out.max_abs_error, std::abs(row.error));
  }
  out.mean_abs_error = out.rows.empty() ? 0 : sum / static_cast<double>(out.rows.size());
  return out;
}

}  // namespace ppsim::model
