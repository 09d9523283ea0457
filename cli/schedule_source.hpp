#pragma once
// Where a command's schedule comes from: a generator (--kind, --ranks, --microbatches,
// --stages-per-rank) or a file (--from-csv, --from-json). Shared by schedule, simulate and validate.
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "sim/generators.hpp"
#include "sim/schedule.hpp"

namespace ppsim::cli {

const std::vector<FlagSpec>& schedule_source_flags();
// The schedule, not yet validated; errors name the flag or file.
sim::Schedule load_schedule(const Args& args);
// The file the schedule came from, or "" when generated.
std::string schedule_file(const Args& args);
// Throws the schedule's first validation error (and how many more), prefixed with its file.
void require_valid_schedule(const Args& args, const sim::Schedule& schedule);
// The kinds a comma list names (compare --kinds, search --from); every kind when the flag is
// absent. A bad name throws naming the flag.
std::vector<sim::ScheduleKind> schedule_kinds(const Args& args, const std::string& flag);

}  // namespace ppsim::cli
