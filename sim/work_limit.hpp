#pragma once
// How much work one command takes on before it refuses: limits sized for the machines ppsim
// targets (about 24 GiB of memory, minutes of work, not hours), estimated from the inputs before
// anything is allocated. `--work-limit X` (any command) multiplies every limit by X, for a
// bigger machine or a run that is meant to be long.
#include <string>

namespace ppsim::sim {

// Per unit of --work-limit.
inline constexpr double kLimitOps = 30e6;           // schedule ops simulated (about 150 bytes and 0.3 us each)
inline constexpr double kLimitBytes = 24.0 * (1ull << 30);  // memory an estimate may reach
inline constexpr double kLimitFlop = 2e12;          // CPU arithmetic (about two minutes on one core)
inline constexpr double kLimitThreads = 512;        // threads of one process
inline constexpr double kLimitPlans = 3e5;          // plans a sizing sweep enumerates (minutes on 2 cores)

double work_limit();              // the factor, 1 unless --work-limit set it
void set_work_limit(double factor);  // throws std::invalid_argument unless 0 < factor <= 1e6

// Throws std::invalid_argument("<what> = about <estimate> <unit>; allowed at most <limit>
// (raise with --work-limit <factor that would do>)") when estimate > limit_per_unit x work_limit().
void check_work(const std::string& what, double estimate, double limit_per_unit, const std::string& unit);

// "133M", "2.5G", "512": a count for a message.
std::string short_count(double n);

}  // namespace ppsim::sim
