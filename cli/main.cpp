// ppsim: pipeline-schedule simulator and cost modeler. Dispatches to a subcommand and turns
// bad input into one error line and exit code 2.
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <exception>
#include <new>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "sim/did_you_mean.hpp"
#include "sim/one_line.hpp"

namespace {

using ppsim::cli::Command;
using ppsim::cli::commands;
using ppsim::cli::Words;

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
    "  calibrate           a PyTorch profiler trace (--from-kineto): kernels by phase, overlap, a cost table, efficiencies\n"
    "  search              design a schedule: local search from every known kind, priced by the simulator\n"
    "  catalog             the built-in models, GPUs and clusters\n"
    "  devices             GPUs and NCCL this build can use\n"
    "  completion bash     a bash completion script for every command's flags (source it, or put it in\n"
    "                      /etc/bash_completion.d/ppsim)\n"
    "  help, -h            this text; 'ppsim COMMAND -h' for a command's flags\n"
    "  --version           the version\n"
    "every command also takes --work-limit X: multiply the limits on work (ops, memory, threads, plans;\n"
    "set for about 24 GiB and minutes) by X, for a bigger machine or a run meant to be long\n";

std::vector<std::string> names_of_commands() {
  std::vector<std::string> names;
  for (const Command& c : commands()) names.push_back(c.name);
  return names;
}

// The flags of a command, read from its own --help (which prints its flag table).
std::string flags_of(const Command& c) {
  std::ostringstream help;
  c.run({"--help"}, help);
  std::string flags, line;
  std::istringstream lines(help.str());
  while (std::getline(lines, line))
    if (line.rfind("  --", 0) == 0) flags += " " + line.substr(2, line.find_first_of(" \t", 2) - 2);
  return flags;
}

// Bash completion generated from the commands' flag tables: commands first, then a command's
// flags; values (files, names) fall back to bash's own completion.
std::string bash_completion() {
  std::string names;
  for (const Command& c : commands()) names += std::string(c.name) + " ";
  std::string out =
      "# bash completion for ppsim, made by `ppsim completion bash` from each command's flags.\n"
      "_ppsim() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"${COMP_WORDS[1]}\" flags=\"\"\n"
      "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
      "    COMPREPLY=($(compgen -W \"" + names + "completion help --version --help\" -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  case \"$cmd\" in\n";
  for (const Command& c : commands()) out += "    " + std::string(c.name) + ") flags=\"" + flags_of(c) + " -h\" ;;\n";
  out += "    completion) flags=\"bash\" ;;\n"
         "  esac\n"
         "  case \"$cur\" in\n"
         "    -*|\"\") [ -n \"$flags\" ] && COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\")) ;;\n"
         "  esac\n"
         "}\n"
         "complete -o default -F _ppsim ppsim\n";
  return out;
}

int dispatch(const std::vector<std::string>& words) {
  using namespace ppsim::cli;
  if (words.empty()) return run_compare({"--model", "deepseek-v3"}, std::cout);
  const std::string& cmd = words[0];
  const Words rest(words.begin() + 1, words.end());
  for (const Command& c : commands())
    if (cmd == c.name) return c.run(rest, std::cout);
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    if (rest.empty()) {
      std::cout << kUsage;
      return 0;
    }
    // help COMMAND: that command's own help; help of something else is refused.
    for (const Command& c : commands())
      if (rest.size() == 1 && rest[0] == c.name) return c.run({"--help"}, std::cout);
    throw std::invalid_argument("ppsim help " + rest[0] + ": no such command" + ppsim::sim::did_you_mean(rest[0], names_of_commands()) +
                                "; allowed: " + ppsim::cli::command_list());
  }
  if (cmd == "--version" || cmd == "version") {
    std::cout << "ppsim " << PPSIM_VERSION << "\n";
    return 0;
  }
  if (cmd == "completion") {
    if (rest.size() != 1 || rest[0] != "bash")
      throw std::invalid_argument("ppsim completion: which shell? allowed: bash (ppsim completion bash)");
    std::cout << bash_completion();
    return 0;
  }
  if (cmd.rfind("--", 0) == 0) return run_compare(words, std::cout);  // flags for the default job
  std::vector<std::string> names = names_of_commands();
  for (const char* extra : {"completion", "help", "version"}) names.push_back(extra);
  throw std::invalid_argument("unknown command '" + cmd + "'" + ppsim::sim::did_you_mean(cmd, names) + "; allowed: " +
                              ppsim::cli::command_list() + ", completion, help, version");
}

// SIGINT/SIGTERM: outputs are written only at a command's end, so stopping leaves none; the
// temporaries of a write in flight are removed, one line says so, and the signal's own exit
// status follows (130 for SIGINT, 143 for SIGTERM).
extern "C" void on_stop_signal(int sig) {
  ppsim::cli::remove_temporaries();
  const bool written = ppsim::cli::outputs_written.load();
  const char* msg = sig == SIGINT ? (written ? "\nppsim: stopped by SIGINT after writing its outputs\n" : "\nppsim: stopped by SIGINT: nothing was written\n")
                                  : (written ? "\nppsim: stopped by SIGTERM after writing its outputs\n" : "\nppsim: stopped by SIGTERM: nothing was written\n");
  [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, msg, std::strlen(msg));
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

int main(int argc, char** argv) {
  // A signal the caller ignores (a background job of a script ignores SIGINT) stays ignored.
  for (int sig : {SIGINT, SIGTERM})
    if (std::signal(sig, on_stop_signal) == SIG_IGN) std::signal(sig, SIG_IGN);
  try {
    return dispatch(ppsim::cli::take_work_limit(std::vector<std::string>(argv + 1, argv + argc)));
  } catch (const std::invalid_argument& e) {
    std::cerr << "ppsim: error: " << ppsim::sim::one_line(e.what()) << "\n";
    return 2;
  } catch (const std::bad_alloc&) {  // an estimate fell short: still one line, not a crash
    std::cerr << "ppsim: error: out of memory: this work needs more memory than the machine has; use smaller inputs\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ppsim: internal error: " << ppsim::sim::one_line(e.what()) << "\n";
    return 3;
  }
}
