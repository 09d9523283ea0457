// ppsim simulate: run one schedule through the discrete-event engine; report step time,
// bubbles, exposed communication, activations and the critical path; write a Chrome trace
// and an SVG picture.
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "cli/report.hpp"
#include "cli/scenario_flags.hpp"
#include "cli/scenario_report.hpp"
#include "cli/schedule_source.hpp"
#include "cli/sim_flags.hpp"
#include "traces/chrome_trace.hpp"
#include "traces/svg.hpp"

namespace ppsim::cli {

namespace {

std::vector<FlagSpec> flags() {
  std::vector<FlagSpec> f = schedule_source_flags();
  for (const FlagSpec& c : cost_and_link_flags()) f.push_back(c);
  for (const FlagSpec& c : scenario_flags()) f.push_back(c);
  f.push_back({"trace", true, "write a Chrome/Perfetto trace (JSON) of the run to this file"});
  f.push_back({"svg", true, "write an SVG picture of the run to this file"});
  f.push_back({"svg-width", true, "pixels of the SVG's time axis (default 1600; 200..20000)"});
  f.push_back({"format", true, "text (default) | json"});
  f.push_back({"help", false, "show this help"});
  return f;
}

// simulate --model: the scenario's own schedule, costs from the roofline model.
int simulate_scenario(const Args& a, const std::string& format, std::ostream& out) {
  for (const char* flag : {"unit-costs", "costs", "p2p-latency-us", "p2p-bandwidth-gbps",
                           "ranks", "microbatches", "zb-costs", "zb-memory-limit"})
    if (a.has(flag))
      throw std::invalid_argument(std::string("--") + flag +
                                  " does not apply with --model: the scenario sets costs and links (use --pp, "
                                  "--global-batch, --microbatch-size, --cluster, ...)");
  ScenarioRun run;
  run.scenario = scenario_from(a);
  run.kind = std::string(sim::to_string(run.scenario.kind));
  model::StudyOptions options = study_options(a, a.has("trace") || a.has("svg"));
  if (a.has("from-csv") || a.has("from-json")) {  // the user's own schedule, priced on the scenario
    if (a.has("kind")) throw std::invalid_argument("give either --kind or --from-csv/--from-json, not both");
    const std::string file = schedule_file(a);
    auto own = std::make_shared<sim::Schedule>(load_schedule(a));
    require_valid_schedule(a, *own);
    const sim::ScheduleRequest plan = run.scenario.schedule_request();
    const int stages = static_cast<int>(run.scenario.stage_units.size());
    if (own->ranks != plan.ranks)
      throw std::invalid_argument(file + ": the schedule has " + std::to_string(own->ranks) + " ranks but the plan has PP = " +
                                  std::to_string(plan.ranks) + ": give --pp " + std::to_string(own->ranks));
    if (own->stages != stages)
      throw std::invalid_argument(file + ": the schedule has " + std::to_string(own->stages) + " stages but the plan cuts the model into " +
                                  std::to_string(stages) + " (--stages-per-rank, or --kind for a V-shaped cut, sets them)");
    if (own->microbatches != plan.microbatches)
      throw std::invalid_argument(file + ": the schedule has " + std::to_string(own->microbatches) +
                                  " micro-batches but the plan's step has " + std::to_string(plan.microbatches) +
                                  " (global batch / (DP x micro-batch size)): give --global-batch " +
                                  std::to_string(static_cast<long long>(own->microbatches) * run.scenario.plan.dp *
                                                 run.scenario.plan.microbatch_size));
    run.kind = (own->kind.empty() ? std::string("schedule") : own->kind) + " from " + file;
    options.schedule = std::move(own);
    options.own_schedule = true;
  }
  run.study = model::run_study(run.scenario, options);
  const sim::Schedule& schedule = run.study.schedule;
  if (auto path = a.get("trace")) {
    nlohmann::json extra = scenario_json(run);
    traces::TraceInfo info;
    info.extra = &extra;
    write_output(*path, traces::to_chrome_trace(run.study.sim.timeline, info).dump() + "\n", out);
  }
  if (auto path = a.get("svg")) {
    traces::SvgOptions svg;
    svg.width = a.get_int("svg-width", 1600, 200, 20000);
    svg.title = run.scenario.model.id + " on " + run.scenario.cluster.id + ", " + run.kind + ": pipeline " +
                sim::format_duration(run.study.pipeline) + " per step";
    if (schedule.bidirectional()) svg.reverse_from_mb = schedule.first_reverse_mb;
    write_output(*path, traces::to_svg(run.study.sim.timeline, svg), out);
  }
  if (format == "json") out << scenario_json(run).dump(1) << "\n";
  else out << scenario_text(run);
  return 0;
}

}  // namespace

int run_simulate(const Words& args, std::ostream& out) {
  const auto specs = flags();
  const Args a(args, specs, "simulate");
  if (a.has("help")) {
    out << "usage: ppsim simulate --model M [--cluster C] [--kind K] [--pp N --ep N --tp N --microbatch-size N ...]\n"
           "                      [--tokens 14.8T] [--trace out.json] [--svg out.svg] [--format text|json]\n"
           "       ppsim simulate --kind K [--ranks P] [--microbatches M] [--stages-per-rank V]\n"
           "                      [--unit-costs F=1,B=2,W=1,FB=2.5 | --costs FILE] [--p2p-latency-us X]\n"
           "                      [--p2p-bandwidth-gbps Y] [--trace out.json] [--svg out.svg] [--format text|json]\n"
           "       (or --from-csv FILE / --from-json FILE instead of --kind)\n"
        << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  if (wants_scenario(a)) return simulate_scenario(a, format, out);
  const sim::Schedule schedule = load_schedule(a);
  require_valid_schedule(a, schedule);
  const CostChoice costs = costs_from(a);
  sim::SimOptions opt;
  opt.p2p = link_from(a);
  opt.record_timeline = a.has("trace") || a.has("svg");
  opt.validate = false;  // done above, with the file's name in the message
  const sim::SimResult result = sim::simulate(schedule, costs.table, opt);
  const RunInfo run{&schedule, &result, costs.description, describe(opt.p2p), closed_form_for(schedule, costs, opt.p2p)};

  if (auto path = a.get("trace")) {
    nlohmann::json extra = json_report(run);
    extra.erase("per_rank");
    extra.erase("critical_path");
    traces::TraceInfo info;
    info.extra = &extra;
    write_output(*path, traces::to_chrome_trace(result.timeline, info).dump() + "\n", out);
  }
  if (auto path = a.get("svg")) {
    traces::SvgOptions svg;
    svg.width = a.get_int("svg-width", 1600, 200, 20000);
    svg.title = schedule.kind + ": " + std::to_string(schedule.ranks) + " ranks, " +
                std::to_string(schedule.microbatches) + " micro-batches, step time " +
                sim::format_duration(result.metrics.makespan) + " (" + costs.description + ", " + describe(opt.p2p) + ")";
    if (schedule.bidirectional()) svg.reverse_from_mb = schedule.first_reverse_mb;
    write_output(*path, traces::to_svg(result.timeline, svg), out);
  }
  if (format == "json") out << json_report(run).dump(1) << "\n";
  else out << text_report(run);
  return 0;
}

}  // namespace ppsim::cli
