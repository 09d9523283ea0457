#include "cli/simulation_run.hpp"

#include <memory>
#include <stdexcept>

#include "cli/report.hpp"
#include "cli/scenario_flags.hpp"
#include "cli/scenario_report.hpp"
#include "cli/schedule_source.hpp"
#include "cli/sim_flags.hpp"
#include "sim/time.hpp"
#include "sim/validate.hpp"

namespace ppsim::cli {

namespace {

// The schedule and where it came from (for messages): `given`, a file, or a generator.
struct Source {
  sim::Schedule schedule;
  std::string name;  // the file, "the schedule given", or "" when generated
};

Source schedule_of(const Args& a, const sim::Schedule* given) {
  if (!given) {
    Source s{load_schedule(a), schedule_file(a)};
    require_valid_schedule(a, s.schedule);
    return s;
  }
  for (const char* flag : {"kind", "from-csv", "from-json", "ranks", "microbatches", "stages-per-rank"})
    if (a.has(flag)) throw std::invalid_argument(std::string("--") + flag + " does not apply when a schedule is given");
  try {
    sim::require_valid(*given);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("the schedule given: ") + e.what());
  }
  return {*given, "the schedule given"};
}

// The run as both modes hand it back: the report versioned, the trace's metadata without the
// per-rank tables (the trace draws them), the picture's title.
SimulationRun finished(nlohmann::json report, std::string text, std::string svg_title, const sim::Schedule& schedule,
                       sim::Timeline timeline) {
  SimulationRun out;
  out.report = versioned(std::move(report));
  out.text = std::move(text);
  out.trace_extra = out.report;
  out.trace_extra.erase("per_rank");
  out.trace_extra.erase("critical_path");
  out.svg_title = std::move(svg_title);
  if (schedule.bidirectional()) out.reverse_from_mb = schedule.first_reverse_mb;
  out.timeline = std::move(timeline);
  return out;
}

// simulate --model: the scenario's own schedule (or the user's), costs from the roofline model.
SimulationRun scenario_run(const Args& a, bool record, const sim::Schedule* given) {
  for (const char* flag : {"unit-costs", "costs", "p2p-latency-us", "p2p-bandwidth", "p2p-bandwidth-gbps",
                           "ranks", "microbatches", "zb-costs", "zb-memory-limit"})
    if (a.has(flag))
      throw std::invalid_argument(std::string("--") + flag +
                                  " does not apply with --model: the scenario sets costs and links (use --pp, "
                                  "--global-batch, --microbatch-size, --cluster, ...)");
  ScenarioRun run;
  run.scenario = scenario_from(a);
  run.kind = std::string(sim::to_string(run.scenario.kind));
  model::StudyOptions options = study_options(a, record);
  if (given || a.has("from-csv") || a.has("from-json")) {  // the user's own schedule, priced on the scenario
    if (a.has("kind")) throw std::invalid_argument("give either --kind or --from-csv/--from-json, not both");
    Source own = schedule_of(a, given);
    const std::string& file = own.name;
    const sim::ScheduleRequest plan = run.scenario.schedule_request();
    const int stages = static_cast<int>(run.scenario.stage_units.size());
    if (own.schedule.ranks != plan.ranks)
      throw std::invalid_argument(file + ": the schedule has " + std::to_string(own.schedule.ranks) +
                                  " ranks but the plan has PP = " + std::to_string(plan.ranks) + ": give --pp " +
                                  std::to_string(own.schedule.ranks));
    if (own.schedule.stages != stages)
      throw std::invalid_argument(file + ": the schedule has " + std::to_string(own.schedule.stages) +
                                  " stages but the plan cuts the model into " + std::to_string(stages) +
                                  " (--stages-per-rank, or --kind for a V-shaped cut, sets them)");
    if (own.schedule.microbatches != plan.microbatches)
      throw std::invalid_argument(file + ": the schedule has " + std::to_string(own.schedule.microbatches) +
                                  " micro-batches but the plan's step has " + std::to_string(plan.microbatches) +
                                  " (global batch / (DP x micro-batch size)): give --global-batch " +
                                  std::to_string(static_cast<long long>(own.schedule.microbatches) * run.scenario.plan.dp *
                                                 run.scenario.plan.microbatch_size));
    run.kind = (own.schedule.kind.empty() ? std::string("schedule") : own.schedule.kind) + " from " + file;
    options.schedule = std::make_shared<sim::Schedule>(std::move(own.schedule));
    options.own_schedule = true;
  }
  run.study = model::run_study(run.scenario, options);
  return finished(scenario_json(run), scenario_text(run),
                  run.scenario.model.id + " on " + run.scenario.cluster.id + ", " + run.kind + ": pipeline " +
                      sim::format_duration(run.study.pipeline) + " per step",
                  run.study.schedule, std::move(run.study.sim.timeline));
}

}  // namespace

const std::vector<FlagSpec>& simulate_flags() {
  static const std::vector<FlagSpec> flags = [] {
    std::vector<FlagSpec> f = schedule_source_flags();
    for (const FlagSpec& c : cost_and_link_flags()) f.push_back(c);
    for (const FlagSpec& c : scenario_flags()) f.push_back(c);
    f.push_back({"trace", true, "write a Chrome/Perfetto trace (JSON) of the run to this file"});
    f.push_back({"svg", true, "write an SVG picture of the run to this file"});
    f.push_back({"svg-width", true, "pixels of the SVG's time axis (default 1600; 200..20000)"});
    f.push_back({"format", true, "text (default) | json"});
    f.push_back({"help", false, "show this help"});
    return f;
  }();
  return flags;
}

SimulationRun simulate_from(const Args& a, bool record, const sim::Schedule* given) {
  if (wants_scenario(a)) return scenario_run(a, record, given);
  const Source source = schedule_of(a, given);
  const sim::Schedule& schedule = source.schedule;
  const CostChoice costs = costs_from(a);
  sim::SimOptions opt;
  opt.p2p = link_from(a);
  opt.record_timeline = record;
  opt.validate = false;  // done above, with the file's name in the message
  const sim::SimResult result = sim::simulate(schedule, costs.table, opt);
  const RunInfo run{&schedule, &result, costs.description, describe(opt.p2p), closed_form_for(schedule, costs, opt.p2p)};
  return finished(json_report(run), text_report(run),
                  schedule.kind + ": " + std::to_string(schedule.ranks) + " ranks, " + std::to_string(schedule.microbatches) +
                      " micro-batches, step time " + sim::format_duration(result.metrics.makespan) + " (" + costs.description +
                      ", " + describe(opt.p2p) + ")",
                  schedule, result.timeline);
}

}  // namespace ppsim::cli
