#pragma once
// How simulate and compare show results: a text report for people, JSON for programs.
// Times are in microseconds (the unit of the costs).
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "cli/sim_flags.hpp"
#include "sim/closed_forms.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"

namespace ppsim::cli {

struct RunInfo {
  const sim::Schedule* schedule;
  const sim::SimResult* result;
  std::string costs;  // how the costs were given
  std::string link;   // how the links were given
  std::optional<sim::ClosedForm> closed_form;  // when one applies (uniform costs, free p2p)
};

// The closed form for a generated schedule with the same cost on every stage and free p2p.
std::optional<sim::ClosedForm> closed_form_for(const sim::Schedule& s, const CostChoice& costs, const sim::LinkSpec& link);

std::string text_report(const RunInfo& run);
nlohmann::json json_report(const RunInfo& run);
// The parts of a report both modes share (unit costs and --model), in microseconds.
nlohmann::json per_rank_json(const sim::Metrics& m);
nlohmann::json critical_path_json(const sim::Metrics& m);
// A command's JSON output document with its "schema_version" (sim/json_parse.hpp).
nlohmann::json versioned(nlohmann::json doc);

}  // namespace ppsim::cli
