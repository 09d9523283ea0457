// ppsim search: design a schedule. Local search over per-rank op orders (sim/search.hpp) from
// every known kind of the pipeline's shape, priced by the simulator: unit costs (--ranks,
// --microbatches, --unit-costs) or a model's scenario (--model and plan flags, phases and the
// fabric as simulate prices them). The best schedule is written as ppsim JSON and PyTorch CSV.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "cli/progress.hpp"
#include "cli/report.hpp"
#include "model/cost_model.hpp"
#include "runtime/predict.hpp"
#include "cli/scenario_flags.hpp"
#include "cli/schedule_source.hpp"
#include "cli/sim_flags.hpp"
#include "model/study.hpp"
#include "sim/generators.hpp"
#include "sim/schedule_csv.hpp"
#include "sim/schedule_json.hpp"
#include "sim/search.hpp"
#include "sim/validate.hpp"
#include "sim/work_limit.hpp"

namespace ppsim::cli {

namespace {

std::vector<FlagSpec> search_flags() {
  std::vector<FlagSpec> f = {
      {"ranks", true, "unit costs: pipeline ranks (default 8)"},
      {"microbatches", true, "unit costs: micro-batches (default 16)"},
      {"stages-per-rank", true, "1 (default: GPipe, 1F1B, ZB, DualPipe) | 2 (interleaved, ZB-V, V-Half/Min, DualPipeV)"},
      {"from", true, "kinds to start from (default: every kind of the shape)"},
      {"max-in-flight", true, "activations a rank may hold at once (the memory limit in unit costs)"},
      {"shared-cores", true, "unit costs: the ranks share this many cores, as threads or processes on a smaller host "
                             "(processor sharing; default 0: a core each)"},
      {"memory-limit", true, "with --model: GiB a GPU may hold (default: 95% of the GPU's HBM)"},
      {"evaluations", true, "moves to try (default 2000; with the seed, the same answer everywhere)"},
      {"seed", true, "the search's random seed (default 1)"},
      {"walks", true, "independent walks from the same start, seeds S, S+1, ... (default 1); the best is the answer"},
      {"threads", true, "walks run at once (default: all cores; the answer does not depend on it, unless --time-limit cuts the walks)"},
      {"time-limit", true, "seconds after which to stop with the best so far (default: none)"},
      {"out", true, "write the best schedule as ppsim JSON"},
      {"csv", true, "write the best schedule as PyTorch CSV"},
      {"format", true, "text (default) | json"},
      {"help", false, "show this help"}};
  for (const FlagSpec& s : cost_and_link_flags()) f.push_back(s);
  for (const FlagSpec& s : scenario_flags())
    if (s.name != "kind") f.push_back(s);
  return f;
}

}  // namespace

int run_search(const Words& args, std::ostream& out) {
  const auto specs = search_flags();
  const Args a(args, specs, "search");
  if (a.has("help")) {
    out << "usage: ppsim search [--ranks P --microbatches M --unit-costs F=1,B=2,W=1 --max-in-flight N --shared-cores C]\n"
           "                    [--model M [plan flags] --memory-limit GiB] [--from K1,K2] [--evaluations N] [--seed S]\n"
           "                    [--walks W] [--threads T] [--time-limit s] [--out best.json] [--csv best.csv] [--format text|json]\n"
        << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  check_outputs(a, {"out", "csv"});
  const int spr = a.get_int("stages-per-rank", 1, 1, 2);
  sim::SearchOptions o;
  o.seed = static_cast<std::uint64_t>(a.get_int("seed", 1, 0, 2147483647));
  o.evaluations = a.get_int("evaluations", 2000, 1, 10'000'000);
  o.time_limit_s = a.get_double("time-limit", 0, 0, 1e7);
  o.walks = a.get_int("walks", 1, 1, 1024);
  o.threads = a.get_int("threads", runtime::available_cores(), 1, 256);
  const bool scenario = wants_scenario(a);
  if (scenario)
    for (const char* flag : {"ranks", "microbatches", "max-in-flight", "shared-cores", "unit-costs", "costs", "stages-per-rank", "p2p-latency-us",
                             "p2p-bandwidth", "p2p-bandwidth-gbps"})
      if (a.has(flag)) throw std::invalid_argument(std::string("--") + flag + ": not with --model (the scenario sets it)");
  if (!scenario && a.has("memory-limit")) throw std::invalid_argument("--memory-limit: only with --model (unit costs: --max-in-flight)");

  // The starts: every kind of the shape that runs here, each with its evaluator's inputs.
  std::vector<std::pair<std::string, sim::Schedule>> starts;
  std::function<sim::SearchEval(const sim::Schedule&)> evaluate;
  std::string what;
  std::unique_ptr<model::Scenario> base;
  std::unique_ptr<CostChoice> costs;  // unit costs only
  sim::SimOptions sim_options;
  double memory_limit = 0;
  std::string memory_unit;
  if (scenario) {
    base = std::make_unique<model::Scenario>(scenario_from(a));
    const sim::ScheduleRequest plan = base->schedule_request();
    const int stages = static_cast<int>(base->stage_units.size());
    for (sim::ScheduleKind kind : schedule_kinds(a, "from")) {
      try {
        const model::Scenario s = scenario_from(a, std::string(sim::to_string(kind)));
        if (static_cast<int>(s.stage_units.size()) != stages) continue;  // another cut of the model
        starts.emplace_back(std::string(sim::to_string(kind)), sim::make_schedule(s.schedule_request()));
      } catch (const std::invalid_argument&) {  // this kind does not run on the plan
      }
    }
    memory_limit = a.get_double("memory-limit", base->gpu.hbm_gib * 0.95, 1, 1e6);
    const model::RooflineCostModel stage_costs(*base);
    for (int st = 0; st < stage_costs.stages(); ++st) o.activation_bytes.push_back(stage_costs.activation_bytes(st));
    memory_unit = "GiB";
    const model::StudyOptions study = study_options(a, false);
    evaluate = [&, study](const sim::Schedule& s) {
      model::StudyOptions opt = study;
      opt.schedule = std::make_shared<sim::Schedule>(s);
      opt.own_schedule = true;
      const model::StudyResult r = model::run_study(*base, opt);
      const double gib = r.peak_memory.total_gib();
      sim::SearchEval e{r.pipeline, gib, gib <= memory_limit, sim::critical_ops(r.sim.metrics)};
      e.bubble = static_cast<sim::Time>(std::llround(r.breakdown.bubble * 1e9));  // as simulate reports it
      for (std::size_t rank = 0; rank < r.memory.size(); ++rank)
        if (r.memory[rank].total_gib() > memory_limit) e.over_ranks.push_back(static_cast<int>(rank));
      return e;
    };
    what = base->model.id + " on " + base->cluster.id + ", PP " + std::to_string(plan.ranks) + ", " +
           std::to_string(plan.microbatches) + " micro-batches, " + std::to_string(stages) + " stages";
  } else {
    const int P = a.get_int("ranks", 8, 1, sim::kMaxRanks), M = a.get_int("microbatches", 16, 1, sim::kMaxMicrobatches);
    costs = std::make_unique<CostChoice>(costs_from(a));
    sim_options.p2p = link_from(a);
    sim_options.record_timeline = false;
    sim_options.shared_cores = a.get_int("shared-cores", 0, 0, 1 << 16);
    for (sim::ScheduleKind kind : schedule_kinds(a, "from")) {
      sim::ScheduleRequest req(kind, P, M, sim::is_interleaved(kind) ? 2 : 0);
      if (sim::plans_for_costs(kind)) req.zb = sim::zb_options_for(costs->table.at(0), static_cast<double>(sim_options.p2p.latency));
      if (!sim::check_request(req).empty()) continue;
      try {
        sim::Schedule s = sim::make_schedule(req);
        if (s.stages == P * spr) starts.emplace_back(std::string(sim::to_string(kind)), std::move(s));  // the shape searched
      } catch (const std::invalid_argument&) {
      }
    }
    memory_limit = a.get_int("max-in-flight", 0, 1, 1 << 20);  // 0: none
    memory_unit = "activations";
    evaluate = [&](const sim::Schedule& s) {
      const sim::SimResult r = sim::simulate(s, costs->table, sim_options);
      const std::vector<int> peak = sim::peak_in_flight(s);
      int most = 0;
      for (int p : peak) most = std::max(most, p);
      sim::SearchEval e{r.metrics.makespan, static_cast<double>(most), memory_limit <= 0 || most <= memory_limit,
                        sim::critical_ops(r.metrics)};
      e.bubble = r.metrics.mean_bubble();
      return e;
    };
    what = std::to_string(P) + " ranks, " + std::to_string(M) + " micro-batches, " + std::to_string(spr) +
           " stage(s) per rank; costs " + costs->description + "; " + describe(sim_options.p2p) +
           (sim_options.shared_cores > 0 ? "; the ranks share " + std::to_string(sim_options.shared_cores) +
                                                (sim_options.shared_cores == 1 ? " core" : " cores")
                                          : "");
  }
  if (starts.empty()) throw std::invalid_argument("search: no known kind runs on this pipeline (" + what + ")");
  // Every move is one simulation of the schedule (a scenario's ops run as several phases each).
  sim::check_work("--evaluations " + std::to_string(o.evaluations) + (o.walks > 1 ? " x --walks " + std::to_string(o.walks) : std::string()) +
                      " x " + std::to_string(starts.front().second.op_count()) +
                      " ops" + (scenario ? " x about 10 phases" : "") + ": ops simulated",
                  static_cast<double>(o.evaluations) * o.walks * static_cast<double>(starts.front().second.op_count()) * (scenario ? 10 : 1),
                  100 * sim::kLimitOps, "ops");
  ProgressLines progress("search: moves tried");
  o.progress = [&](long done, long total, sim::Time) { progress.update(static_cast<int>(done), static_cast<int>(total)); };
  const sim::SearchResult r = sim::search_schedule(starts, evaluate, o);

  // Every answer is checked as a user's schedule would be, then exported.
  sim::require_valid(r.best);
  std::vector<std::pair<std::string, std::string>> outputs;
  if (auto path = a.get("out")) outputs.emplace_back(*path, sim::to_json(r.best).dump(1) + "\n");
  if (auto path = a.get("csv")) outputs.emplace_back(*path, sim::to_csv(r.best));
  const auto& best_start = *std::min_element(r.starts.begin(), r.starts.end(), [](const auto& x, const auto& y) {
    return x.second.feasible != y.second.feasible ? x.second.feasible : x.second.step < y.second.step;
  });
  const double gain = best_start.second.step > 0
                          ? 1.0 - static_cast<double>(r.best_eval.step) / static_cast<double>(best_start.second.step)
                          : 0.0;
  const bool known_fits = best_start.second.feasible;  // else the walk repaired a start that did not fit
  if (format == "json") {
    nlohmann::json starts_json = nlohmann::json::array();
    for (const auto& [name, e] : r.starts)
      starts_json.push_back({{"kind", name}, {"step_us", static_cast<double>(e.step) / 1e3},
                             {"bubble_us", static_cast<double>(e.bubble) / 1e3}, {"memory", e.memory}, {"fits", e.feasible}});
    nlohmann::json j = {{"mode", scenario ? "scenario" : "unit-costs"},
                        {"pipeline", what},
                        {"memory_unit", memory_unit},
                        {"memory_limit", memory_limit},
                        {"starts", starts_json},
                        {"best", {{"step_us", static_cast<double>(r.best_eval.step) / 1e3},
                                  {"bubble_us", static_cast<double>(r.best_eval.bubble) / 1e3}, {"memory", r.best_eval.memory},
                                  {"from", r.started_from},
                                  {"gain_vs_best_known", known_fits ? nlohmann::json(gain) : nlohmann::json(nullptr)},
                                  {"known_kinds_fit", known_fits}}},
                        {"search", {{"seed", o.seed}, {"walks", o.walks}, {"best_walk_seed", o.seed + static_cast<std::uint64_t>(r.best_walk)},
                                    {"evaluations", r.evaluations}, {"improvements", r.improvements},
                                    {"seconds", r.seconds}, {"stopped_by_time", r.stopped_by_time}}},
                        {"schedule", sim::to_json(r.best)}};
    outputs.emplace_back("-", versioned(std::move(j)).dump(1) + "\n");
  } else {
    std::ostringstream t;
    const sim::TimeUnit u = sim::unit_for(best_start.second.step);
    std::ostringstream limit_text;
    limit_text << memory_limit;
    t << "search: " << what << "; memory limit "
      << (memory_limit > 0 ? limit_text.str() + " " + memory_unit : std::string("none")) << "\n\n";
    // The bubble, mean over the ranks: unit costs, the time a rank runs no op (hand-off waits
    // included); a model, the step's idle part as simulate's breakdown has it.
    t << std::left << std::setw(22) << "schedule" << std::right << std::setw(14) << ("step " + std::string(u.name)) << std::setw(14)
      << ("bubble " + std::string(u.name)) << std::setw(16) << memory_unit << "  fits\n";
    auto row = [&](const std::string& name, const sim::SearchEval& e) {
      t << std::left << std::setw(22) << name << std::right << std::setw(14) << sim::format_in(e.step, u) << std::setw(14)
        << sim::format_in(e.bubble, u) << std::setw(16)
        << std::fixed << std::setprecision(memory_unit == "GiB" ? 1 : 0) << e.memory << std::defaultfloat << "  "
        << (e.feasible ? "yes" : "no") << "\n";
    };
    for (const auto& [name, e] : r.starts) row(name, e);
    row("search (from " + r.started_from + ")", r.best_eval);
    t << "\n" << std::fixed << std::setprecision(1);
    if (known_fits) t << 100 * gain << "% shorter than the best known kind (" << best_start.first << ")";
    else
      t << "no known kind fits the limit: the search repaired " << r.started_from << " until it fit (the shortest known kind, "
        << best_start.first << ", takes " << sim::format_in(best_start.second.step, u) << " " << u.name << " but does not fit)";
    t << "; " << r.evaluations << " moves tried, " << r.improvements << " kept, in " << std::setprecision(2) << r.seconds
      << " s (seed " << o.seed
      << (o.walks > 1 ? ", " + std::to_string(o.walks) + " walks, the best with seed " + std::to_string(o.seed + static_cast<std::uint64_t>(r.best_walk))
                      : std::string())
      << (r.stopped_by_time ? ", stopped by --time-limit" : "") << ")\n";
    outputs.emplace_back("-", t.str());
  }
  write_outputs(outputs, out);
  return 0;
}

}  // namespace ppsim::cli
