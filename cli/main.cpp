// ppsim: pipeline-schedule simulator and cost modeler. Dispatches to a subcommand and turns
// bad input into one error line and exit code 2.
#include <exception>
#include <iostream>
#include <stdexcept>

#include "cli/commands.hpp"
#include "sim/did_you_mean.hpp"

namespace {

constexpr const char* kUsage =
    "usage: ppsim [COMMAND] [FLAGS]\n"
    "  (none)              DeepSeek-V3 on its 2048 H800: DualPipe vs 1F1B vs GPipe vs ZB1P vs ... (compare --model deepseek-v3)\n"
    "  overview            every schedule kind side by side with unit costs (8 ranks, 20 micro-batches) + a picture\n"
    "  schedule            generate, read, validate and export one schedule (json, csv, ascii)\n"
    "  simulate            run one schedule through the engine: step time, bubbles, trace, SVG\n"
    "  compare             several schedules on the same pipeline and costs, one table\n"
    "  validate            run a schedule for real (CPU threads, or GPUs): numbers vs a sequential run, time vs the simulator\n"
    "  size                what-if cluster sizing: every GPU, count and plan simulated, ranked, Pareto front\n"
    "  trace               summarize a Chrome trace ppsim wrote (simulated or measured)\n"
    "  accuracy            the validation table: published runs predicted with the built-in defaults, errors\n"
    "  kernels             the GEMM model: time and efficiency of shapes on a GPU\n"
    "  catalog             the built-in models, GPUs and clusters\n"
    "  devices             GPUs and NCCL this build can use\n"
    "  help                this text; 'ppsim COMMAND --help' for a command's flags\n";

int dispatch(const std::vector<std::string>& words) {
  using namespace ppsim::cli;
  if (words.empty()) return run_compare({"--model", "deepseek-v3"}, std::cout);
  const std::string& cmd = words[0];
  const Words rest(words.begin() + 1, words.end());
  if (cmd == "overview") return run_overview(rest, std::cout);
  if (cmd == "schedule") return run_schedule(rest, std::cout, std::cerr);
  if (cmd == "simulate") return run_simulate(rest, std::cout);
  if (cmd == "compare") return run_compare(rest, std::cout);
  if (cmd == "catalog") return run_catalog(rest, std::cout);
  if (cmd == "validate") return run_validate(rest, std::cout);
  if (cmd == "size") return run_size(rest, std::cout);
  if (cmd == "trace") return run_trace(rest, std::cout);
  if (cmd == "devices") return run_devices(rest, std::cout);
  if (cmd == "accuracy") return run_accuracy(rest, std::cout);
  if (cmd == "kernels") return run_kernels(rest, std::cout);
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (cmd.rfind("--", 0) == 0) return run_compare(words, std::cout);  // flags for the default job
  throw std::invalid_argument("unknown command '" + cmd + "'" +
                              ppsim::sim::did_you_mean(cmd, {"overview", "schedule", "simulate", "compare", "validate", "size", "trace", "catalog",
                                                          "devices", "accuracy", "kernels", "help"}) +
                              "; allowed: overview, schedule, simulate, compare, validate, size, trace, catalog, devices, accuracy, kernels, help");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::invalid_argument& e) {
    std::cerr << "ppsim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ppsim: internal error: " << e.what() << "\n";
    return 3;
  }
}
