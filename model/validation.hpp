#pragma once
// The validation table: published measurements (model/validation/cases.json, compiled in),
// each predicted with the built-in defaults, for `ppsim accuracy` and its test. Nothing in
// the table is fitted per case; see the file's _about for the plan details it assumes.
#include <string>
#include <vector>

namespace ppsim::model {

struct ValidationCase {
  std::string id, model, metric, source;
  int nodes = 0;          // 0: the model's published cluster size
  double published = 0;   // in the metric's unit
};

struct ValidationRow {
  ValidationCase c;
  double predicted = 0;
  double error = 0;       // predicted / published - 1
  double step_seconds = 0;
  int gpus = 0;
};

struct ValidationSummary {
  std::vector<ValidationRow> rows;
  double mean_abs_error = 0, max_abs_error = 0;
};

// The cases as compiled in.
std::vector<ValidationCase> validation_cases();
// What each metric means (for the table's legend).
std::string validation_metric_text(const std::string& metric);
// Predicts every case (the full simulate path: phases and the fabric). `efficiency`, when
// given, overrides the same figures in every case (see parse_efficiencies): a sensitivity
// check, never a per-case fit.
ValidationSummary run_validation(const std::string& efficiency = "");

// Megatron-LM's FLOPs per step (Narayanan et al. 2021, with recomputation and attention over
// the whole sequence): 96 B s l h^2 (1 + s / 6h + V / 16 l h).
double megatron_flops_per_step(double batch, double seq, double layers, double hidden, double vocab);

}  // namespace ppsim::model
