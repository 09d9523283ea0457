#pragma once
// Several schedule kinds on the same pipeline, costs and links, side by side (ppsim compare
// and the default job).
#include <nlohmann/json_fwd.hpp>
#include <functional>
#include <string>
#include <vector>

#include "cli/sim_flags.hpp"
#include "sim/generators.hpp"

namespace ppsim::cli {

struct CompareRow {
  sim::ScheduleKind kind;
  std::string not_available;  // why the kind cannot run here; empty when it ran
  sim::Schedule schedule;
  sim::SimResult result;
};

std::vector<CompareRow> compare(const std::vector<sim::ScheduleKind>& kinds, int ranks, int microbatches,
                                int stages_per_rank, const CostChoice& costs, const sim::LinkSpec& link,
                                const std::function<void(int, int)>& progress = {});
std::string compare_table(const std::vector<CompareRow>& rows);
nlohmann::json compare_json(const std::vector<CompareRow>& rows, const CostChoice& costs, const sim::LinkSpec& link);

}  // namespace ppsim::cli
