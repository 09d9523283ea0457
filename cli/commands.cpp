#include "cli/commands.hpp"

#include <iostream>
#include <stdexcept>

#include "sim/numbers.hpp"
#include "sim/one_line.hpp"
#include "sim/work_limit.hpp"

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
      {"calibrate", run_calibrate},
      {"search", run_search}};
  return table;
}

Words take_work_limit(Words words) {
  double factor = 1;
  bool seen = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const bool joined = words[i].rfind("--work-limit=", 0) == 0;  // --work-limit=4, as Args takes --flag=value
    if (words[i] != "--work-limit" && !joined) continue;
    if (seen) throw std::invalid_argument("--work-limit given twice; allowed once");
    seen = true;
    if (!joined && i + 1 >= words.size()) throw std::invalid_argument("--work-limit needs a value: a factor, e.g. --work-limit 4");
    const std::string value = joined ? words[i].substr(13) : words[i + 1];
    const auto x = sim::parse_decimal(value);
    if (!x || !(*x > 0 && *x <= 1e6))
      throw std::invalid_argument("--work-limit = '" + sim::one_line(value) + "': allowed a factor in (0, 1e6]");
    factor = *x;
    words.erase(words.begin() + static_cast<std::ptrdiff_t>(i), words.begin() + static_cast<std::ptrdiff_t>(i) + (joined ? 1 : 2));
    --i;
  }
  sim::set_work_limit(factor);
  return words;
}

std::string command_list() {
  std::string list;
  for (const Command& c : commands()) list += (list.empty() ? "" : ", ") + std::string(c.name);
  return list;
}

}  // namespace ppsim::cli
