#include "cli/commands.hpp"

#include <iostream>

namespace ppsim::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"overview", run_overview},
      {"schedule", [](const Words& w, std::ostream& out) { return run_schedule(w, out, std::cerr); }},
      {"simulate", run_simulate},
      {"compare", run_compare},
      {"validate", run_validate},
      {"size", run_size},
      {"trace", run_trace},
      {"catalog", run_catalog},
      {"devices", run_devices},
      {"accuracy", run_accuracy},
      {"kernels", run_kernels},
      {"calibrate", run_calibrate}};
  return table;
}

std::string command_list() {
  std::string list;
  for (const Command& c : commands()) list += (list.empty() ? "" : ", ") + std::string(c.name);
  return list;
}

}  // namespace ppsim::cli
