#pragma once
// Schedule <-> JSON:
// {"kind", "ranks", "stages", "microbatches", "placement": [rank of each stage],
//  ["reverse_placement": [...], "reverse_from_microbatch": k]   (bidirectional only),
//  "per_rank": [[{"op":"F","mb":0,"stage":0}, {"op":"FB","f":{"mb","stage"},"b":{"op":"B","mb","stage"}}, ...], ...]}
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "sim/schedule.hpp"

namespace ppsim::sim {

nlohmann::json to_json(const Schedule& schedule);
// Strict: unknown keys, wrong types and out-of-range values throw std::invalid_argument
// naming the JSON path, the value and what is allowed. Does not run validate().
Schedule schedule_from_json(const nlohmann::json& doc);
Schedule schedule_from_json_text(const std::string& text);

}  // namespace ppsim::sim
