// ppsim validate: run a schedule for real (CPU threads), check its loss and gradients against
// a sequential run, and compare the measured timeline with the simulator's prediction.
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "cli/schedule_source.hpp"
#include "runtime/calibrate.hpp"
#include "runtime/executor.hpp"
#include "traces/chrome_trace.hpp"

namespace ppsim::cli {

int run_validate(const Words& args, std::ostream& out) {
  std::vector<FlagSpec> specs = schedule_source_flags();
  specs.push_back({"backend", true, "cpu (threads; default) | cuda (needs a CUDA build and a GPU)"});
  specs.push_back({"precision", true, "double (default; must match to 1e-12) | float (1e-4)"});
  specs.push_back({"hidden", true, "model width (default 256)"});
  specs.push_back({"rows", true, "tokens per micro-batch (default 64)"});
  specs.push_back({"timeout-ms", true, "deadline of every wait between ranks (default 10000)"});
  specs.push_back({"trace", true, "write the measured timeline as a Chrome trace"});
  specs.push_back({"help", false, "show this help"});
  const Args a(args, specs, "validate");
  if (a.has("help")) {
    out << "usage: ppsim validate --backend cpu --kind K --ranks P --microbatches M [--hidden H] [--trace measured.json]\n"
        << usage_lines(specs);
    return 0;
  }
  const std::string backend = a.get_choice("backend", "cpu", {"cpu", "cuda"});
  if (backend == "cuda")
    throw std::invalid_argument("--backend cuda: the CUDA runtime is not built yet in this version; use --backend cpu");
  const bool single = a.get_choice("precision", "double", {"double", "float"}) == "float";
  runtime::ExecOptions o;
  o.hidden = a.get_int("hidden", 256, 1, 4096);
  o.ffn = 2 * o.hidden;
  o.rows = a.get_int("rows", 64, 1, 4096);
  o.timeout = std::chrono::milliseconds(a.get_int("timeout-ms", 10000, 1, 3'600'000));
  const sim::Schedule s = load_schedule(a);
  require_valid_schedule(a, s);
  double error = 0;
  sim::Timeline measured;
  if (single) {
    const auto run = runtime::execute<float>(s, o);
    error = runtime::max_relative_error(run, runtime::run_sequential<float>(s.stages, s.microbatches, o));
    measured = run.timeline;
  } else {
    const auto run = runtime::execute<double>(s, o);
    error = runtime::max_relative_error(run, runtime::run_sequential<double>(s.stages, s.microbatches, o));
    measured = run.timeline;
  }
  const double tolerance = single ? 1e-4 : 1e-12;
  const bool match = error <= tolerance;
  const runtime::Calibration fit = runtime::calibrate(measured);
  const runtime::Comparison cmp = runtime::compare_with_simulation(s, measured, fit);
  if (auto path = a.get("trace")) {
    traces::TraceInfo info;
    info.source = "measured";
    write_output(*path, traces::to_chrome_trace(measured, info).dump() + "\n", out);
  }
  std::ostringstream text;
  text << s.kind << " on " << s.ranks << " CPU threads, " << s.microbatches << " micro-batches, MLP stages of width "
       << o.hidden << ", " << o.rows << " tokens per micro-batch, " << (single ? "float" : "double") << "\n";
  text << "loss and gradients vs a sequential run: max relative error " << std::scientific << std::setprecision(2)
       << error << " (allowed " << tolerance << "): " << (match ? "MATCH" : "MISMATCH") << "\n"
       << std::defaultfloat;
  text << "fitted op costs (us): F=" << sim::format_us(fit.cost.f) << " B=" << sim::format_us(fit.cost.b)
       << " W=" << sim::format_us(fit.cost.w) << " FB=" << sim::format_us(fit.cost.fb) << " (" << fit.samples
       << " ops, rms " << sim::format_us(static_cast<sim::Time>(fit.rms_error_ns)) << " us)\n";
  text << std::fixed << std::setprecision(1) << "step time: measured " << sim::format_us(cmp.measured_step)
       << " us, predicted " << sim::format_us(cmp.predicted_step) << " us (" << std::showpos << 100 * cmp.step_error
       << std::noshowpos << "%)\n";
  text << "bubble per rank, measured / predicted (us):";
  for (int r = 0; r < s.ranks; ++r)
    text << " " << sim::format_us(cmp.measured_bubble[r]) << "/" << sim::format_us(cmp.predicted_bubble[r]);
  out << text.str() << "\n";
  return match ? 0 : 1;
}

}  // namespace ppsim::cli
