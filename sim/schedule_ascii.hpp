#pragma once
// A compact text picture of a schedule, one row per rank, like the figures in the DualPipe
// README. Every op takes one time step and starts as soon as its rank is free and its
// inputs exist (unit-step list scheduling over the dependency graph), so the picture
// shows each schedule's warm-up, steady state and drain. Cells: F3 forward of micro-batch
// 3, B3 full backward, I3 input-grad backward (Bi), W3 deferred weight grad, 5|1 an
// overlapped pair (forward of 5 with backward of 1); a trailing a/b/c... names the rank's
// chunk (for DualPipe: a = the first direction, b = the second); '.' is an idle step.
#include <string>

#include "sim/schedule.hpp"

namespace ppsim::sim {

// Requires a valid schedule (see validate()).
std::string to_ascii(const Schedule& schedule);

}  // namespace ppsim::sim
