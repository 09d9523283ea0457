// ppsim simulate: run one schedule through the discrete-event engine; report step time,
// bubbles, exposed communication, activations and the critical path; write a Chrome trace
// and an SVG picture. The work itself is in simulation_run.hpp (shared with the Python package).
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "cli/simulation_run.hpp"
#include "traces/chrome_trace.hpp"
#include "traces/svg.hpp"

namespace ppsim::cli {

int run_simulate(const Words& args, std::ostream& out) {
  const auto& specs = simulate_flags();
  const Args a(args, specs, "simulate");
  if (a.has("help")) {
    out << "usage: ppsim simulate --model M [--cluster C] [--kind K] [--pp N --ep N --tp N --microbatch-size N ...]\n"
           "                      [--tokens 14.8T] [--trace out.json] [--svg out.svg] [--format text|json]\n"
           "       ppsim simulate --kind K [--ranks P] [--microbatches M] [--stages-per-rank V]\n"
           "                      [--unit-costs F=1,B=2,W=1,FB=2.5 | --costs FILE] [--p2p-latency-us X]\n"
           "                      [--p2p-bandwidth 50GB/s] [--trace out.json] [--svg out.svg] [--format text|json]\n"
           "       (or --from-csv FILE / --from-json FILE instead of --kind)\n"
        << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  const int svg_width = a.get_int("svg-width", 1600, 200, 20000);
  check_outputs(a, {"trace", "svg"});
  SimulationRun run = simulate_from(a, a.has("trace") || a.has("svg"));
  // The trace, the picture and the report land together, or none does.
  std::vector<std::pair<std::string, std::string>> outputs;
  if (auto path = a.get("trace")) {
    traces::TraceInfo info;
    info.extra = &run.trace_extra;
    outputs.emplace_back(*path, traces::to_chrome_trace(run.timeline, info).dump() + "\n");
  }
  if (auto path = a.get("svg")) {
    traces::SvgOptions svg;
    svg.width = svg_width;
    svg.title = run.svg_title;
    if (run.reverse_from_mb >= 0) svg.reverse_from_mb = run.reverse_from_mb;
    outputs.emplace_back(*path, traces::to_svg(run.timeline, svg));
  }
  outputs.emplace_back("-", format == "json" ? run.report.dump(1) + "\n" : run.text);
  write_outputs(outputs, out);
  return 0;
}

}  // namespace ppsim::cli
