#pragma once
// How model scenarios are shown: one scenario in full (simulate --model), several schedules
// side by side (compare --model and the default job).
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "model/study.hpp"

namespace ppsim::cli {

struct ScenarioRun {
  std::string kind;
  std::string not_available;  // the rule that stops this kind; empty when it ran
  model::Scenario scenario;
  model::StudyResult study;
};

std::string scenario_header(const model::Scenario& s);
std::string scenario_text(const ScenarioRun& run);
nlohmann::json scenario_json(const ScenarioRun& run);
std::string scenario_table(const std::vector<ScenarioRun>& runs);

}  // namespace ppsim::cli
