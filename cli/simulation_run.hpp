#pragma once
// What ppsim simulate computes, before anything is written: the report (text and JSON), the
// trace's metadata and the timeline. Shared by the command and the Python package, so both
// give the same numbers under the same keys and refuse bad input with the same line.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "sim/schedule.hpp"
#include "sim/timeline.hpp"

namespace ppsim::cli {

struct SimulationRun {
  nlohmann::json report;       // what --format json prints
  std::string text;            // what the text report prints
  nlohmann::json trace_extra;  // the Chrome trace's "otherData"
  sim::Timeline timeline;      // recorded when asked for
  std::string svg_title;
  int reverse_from_mb = -1;    // bidirectional schedules: the first micro-batch of the second direction
};

// simulate's flags (schedule source, costs and links, scenario, outputs).
const std::vector<FlagSpec>& simulate_flags();
// Runs simulate's flags. `given`: a schedule to use instead of --kind / --from-csv / --from-json
// (the Python package's Schedule objects), checked as a file's would be.
SimulationRun simulate_from(const Args& args, bool record_timeline, const sim::Schedule* given = nullptr);

}  // namespace ppsim::cli
