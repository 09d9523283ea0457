#pragma once
// The ppsim subcommands. Each takes the words after its name and returns the exit code;
// bad input throws std::invalid_argument, which main() prints as one line with exit code 2.
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace ppsim::cli {

using Words = std::vector<std::string>;

int run_overview(const Words& args, std::ostream& out);   // the default job: every schedule side by side
int run_schedule(const Words& args, std::ostream& out, std::ostream& err);
int run_simulate(const Words& args, std::ostream& out);
int run_compare(const Words& args, std::ostream& out);
int run_catalog(const Words& args, std::ostream& out);
int run_validate(const Words& args, std::ostream& out);  // exit 1 when the numbers do not match
int run_size(const Words& args, std::ostream& out);
int run_trace(const Words& args, std::ostream& out);
int run_devices(const Words& args, std::ostream& out);
int run_accuracy(const Words& args, std::ostream& out);  // the validation table
int run_kernels(const Words& args, std::ostream& out);   // the GEMM model's time and efficiency by shape
int run_calibrate(const Words& args, std::ostream& out); // a PyTorch profiler trace: phases, costs, efficiencies
int run_search(const Words& args, std::ostream& out);    // design a schedule: local search priced by the simulator

// Every subcommand by name (ppsim COMMAND, and the Python package's ppsim.run).
struct Command {
  const char* name;
  std::function<int(const Words&, std::ostream&)> run;
};
const std::vector<Command>& commands();
// Their names, comma-separated (what "allowed:" lists when a name is unknown).
std::string command_list();
// --work-limit X (or =X), which every command takes: removed from the words, it sets the factor
// on the work limits (sim/work_limit.hpp), 1 when absent. The factor is the process's: calls
// run at once from several Python threads share the last one set.
Words take_work_limit(Words words);

}  // namespace ppsim::cli
