#pragma once
// What a simulation's result depends on, as bytes: two runs with equal keys give equal metrics,
// so a sweep can run one and share it (model/simulation_cache.hpp). The schedule counts by
// identity (a sweep shares one per pipeline shape), everything else by value.
#include <string>

#include "sim/costs.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"

namespace ppsim::sim {

// False when the costs cannot describe themselves (CostModel::fingerprint) and ops run on their
// durations: such a run is never shared.
bool simulation_key(const Schedule& schedule, const CostModel& costs, const SimOptions& options, std::string& key);

}  // namespace ppsim::sim
