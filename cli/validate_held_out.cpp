// ppsim validate --held-out: every schedule kind run for real on the same ranks, micro-batches
// and stage; each predicted twice, never from its own run: before any run (the cost model at
// this machine's rates), and from the op costs fitted on one other kind (--fit-kind).
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/report.hpp"
#include "cli/validate_held_out.hpp"

#include "cli/validate_sizing.hpp"
#include "runtime/calibrate.hpp"
#include "runtime/predict.hpp"
#include "sim/generators.hpp"

namespace ppsim::cli {

namespace {

struct KindRun {
  sim::Schedule schedule;
  sim::Timeline measured;
  double error = 0;  // numbers vs the sequential run
};

template <class S>
KindRun run_kind(const sim::Schedule& s, const runtime::ExecOptions& o) {
  const auto run = runtime::execute<S>(s, o);
  return {s, run.timeline, runtime::max_relative_error(run, runtime::run_sequential<S>(s.stages, s.microbatches, o))};
}

}  // namespace

int run_held_out(const Args& a, const runtime::ExecOptions& o, bool single, std::ostream& out) {
  for (const char* flag : {"from-csv", "from-json", "kind", "trace", "predicted-trace"})
    if (a.has(flag)) throw std::invalid_argument(std::string("--held-out runs every kind itself: --") + flag + " does not apply");
  const int ranks = a.get_int("ranks", 4, 1, 64), microbatches = a.get_int("microbatches", 16, 1, 4096);
  const std::string fit_name = a.get_or("fit-kind", "1f1b");
  const sim::ScheduleKind fit_kind = sim::parse_schedule_kind(fit_name);
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  const double tolerance = single ? 1e-4 : 1e-12;

  // The fit kind first: refuse before anything runs.
  if (const std::string why = sim::check_request({fit_kind, ranks, microbatches, 0}); !why.empty())
    throw std::invalid_argument("--fit-kind " + fit_name + ": not runnable on " + std::to_string(ranks) + " ranks and " +
                                std::to_string(microbatches) + " micro-batches (" + why + ")");
  // Every kind runs, each with its reference: refuse up front what would take hours, checking
  // each kind as if all of them were it (the most memory, the most arithmetic).
  std::vector<sim::Schedule> runnable;
  for (sim::ScheduleKind kind : sim::all_schedule_kinds())
    if (sim::check_request({kind, ranks, microbatches, 0}).empty()) runnable.push_back(sim::make_schedule({kind, ranks, microbatches, 0}));
  std::stable_sort(runnable.begin(), runnable.end(), [](const auto& x, const auto& y) { return x.stages > y.stages; });  // the most arithmetic first
  for (const sim::Schedule& s : runnable) check_cpu_work(o, s, single ? 4 : 8, static_cast<int>(runnable.size()), true);
  std::vector<KindRun> runs;
  std::size_t fit_at = 0;
  bool found = false;
  for (sim::ScheduleKind kind : sim::all_schedule_kinds()) {
    const sim::ScheduleRequest req{kind, ranks, microbatches, 0};
    if (!sim::check_request(req).empty()) continue;
    const sim::Schedule s = sim::make_schedule(req);
    runs.push_back(single ? run_kind<float>(s, o) : run_kind<double>(s, o));
    if (kind == fit_kind) fit_at = runs.size() - 1, found = true;
  }
  if (!found) throw std::logic_error("--fit-kind " + fit_name + " was checked but not run");

  const runtime::KernelRates rates = single ? runtime::measure_cpu_rates<float>(o) : runtime::measure_cpu_rates<double>(o);
  // Every op's cost is its work on a core of its own: the model's at one core's rates, and the
  // fit's from the fitted run with each op's share of the cores taken out. When the ranks
  // outnumber the cores the simulation shares the cores among them as the runs did.
  const int cores = runtime::available_cores();
  const int shared_cores = runtime::shared_cores_for(ranks);
  const sim::StageCost model = runtime::predict_stage_cost(o, rates, single ? 4 : 8);
  const sim::Timeline& fit_run = runs[fit_at].measured;
  const sim::StageCost fitted =
      runtime::complete_fit(runtime::calibrate(shared_cores > 0 ? runtime::on_own_cores(fit_run, shared_cores) : fit_run).cost, model);

  nlohmann::json rows = nlohmann::json::array();
  std::ostringstream t;
  t << std::fixed << "every kind on " << ranks << " CPU threads (" << cores << " cores), " << microbatches
    << " micro-batches, width " << o.hidden << ", " << o.rows << " tokens, " << (single ? "float" : "double") << "\n"
    << "before the run: the cost model at this machine's rates (GEMM " << std::setprecision(1) << rates.gemm_gflops
    << " GFLOP/s" << (shared_cores > 0 ? ", the ranks sharing the cores, simulated" : "") << "); held out: op costs fitted on "
    << fit_name << " only\n\n";
  t << std::left << std::setw(28) << "kind" << std::right << std::setw(12) << "measured ms" << std::setw(16) << "before run ms"
    << std::setw(9) << "error" << std::setw(15) << "held-out ms" << std::setw(9) << "error" << "  numbers\n";
  double sum_before = 0, sum_held = 0, max_before = 0, max_held = 0;
  int held = 0;
  bool all_match = true;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const KindRun& r = runs[i];
    runtime::Calibration b, h;
    b.cost = model;
    h.cost = fitted;
    const runtime::Comparison pb = runtime::compare_with_simulation(r.schedule, r.measured, b, shared_cores);
    const runtime::Comparison ph = runtime::compare_with_simulation(r.schedule, r.measured, h, shared_cores);
    const bool match = r.error <= tolerance;
    all_match = all_match && match;
    const bool own = i == fit_at;
    sum_before += std::abs(pb.step_error);
    max_before = std::max(max_before, std::abs(pb.step_error));
    if (!own) {
      sum_held += std::abs(ph.step_error);
      max_held = std::max(max_held, std::abs(ph.step_error));
      ++held;
    }
    const std::string kind = r.schedule.kind;
    t << std::left << std::setw(28) << (own ? kind + " (fitted on)" : kind) << std::right << std::setprecision(1) << std::setw(12)
      << static_cast<double>(pb.measured_step) / 1e6 << std::setw(16) << static_cast<double>(pb.predicted_step) / 1e6 << std::setw(8)
      << std::showpos << 100 * pb.step_error << "%" << std::noshowpos << std::setw(15) << static_cast<double>(ph.predicted_step) / 1e6
      << std::setw(8) << std::showpos << 100 * ph.step_error << "%" << std::noshowpos << "  " << (match ? "match" : "MISMATCH") << "\n";
    rows.push_back({{"kind", kind}, {"fitted_on", own}, {"measured_step_us", static_cast<double>(pb.measured_step) / 1e3},
                    {"before_run_step_us", static_cast<double>(pb.predicted_step) / 1e3}, {"before_run_error", pb.step_error},
                    {"held_out_step_us", static_cast<double>(ph.predicted_step) / 1e3}, {"held_out_error", ph.step_error},
                    {"max_relative_error", r.error}, {"match", match}});
  }
  const double n = static_cast<double>(runs.size());
  t << "\nbefore the run: mean |error| " << std::setprecision(1) << 100 * sum_before / n << "%, max " << 100 * max_before
    << "% over " << runs.size() << " kinds; held out (fitted on " << fit_name << "): mean |error| "
    << (held ? 100 * sum_held / held : 0.0) << "%, max " << 100 * max_held << "% over the " << held << " others\n";
  if (format == "json")
    out << versioned({{"ranks", ranks}, {"microbatches", microbatches}, {"fit_kind", fit_name}, {"kinds", rows},
                      {"before_run_mean_abs_error", sum_before / n}, {"before_run_max_abs_error", max_before},
                      {"held_out_mean_abs_error", held ? sum_held / held : 0.0}, {"held_out_max_abs_error", max_held},
                      {"cores", cores}, {"shared_cores", shared_cores}})
               .dump(1)
        << "\n";
  else
    out << t.str();
  return all_match ? 0 : 1;
}

}  // namespace ppsim::cli
