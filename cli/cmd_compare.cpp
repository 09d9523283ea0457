// ppsim compare: several schedule kinds on the same pipeline, costs and links, in one table.
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/compare.hpp"
#include "cli/progress.hpp"
#include "cli/report.hpp"
#include "cli/scenario_flags.hpp"
#include "cli/scenario_report.hpp"
#include "cli/schedule_source.hpp"
#include "model/study.hpp"
#include "sim/generators.hpp"
#include "sim/work_limit.hpp"

namespace ppsim::cli {

namespace {

std::vector<FlagSpec> flags() {
  std::vector<FlagSpec> f = {
      {"kinds", true, "comma-separated kinds (default: all)"},
      {"ranks", true, "pipeline ranks P (default 8)"},
      {"microbatches", true, "micro-batches M (default 20)"},
      {"stages-per-rank", true, "chunks per rank for interleaved-1f1b (default 2)"},
  };
  for (const FlagSpec& c : cost_and_link_flags()) f.push_back(c);
  for (const FlagSpec& c : scenario_flags()) f.push_back(c);
  f.push_back({"format", true, "text (default) | json"});
  f.push_back({"help", false, "show this help"});
  return f;
}

// compare --model: every kind on the same scenario; a kind the plan cannot serve says why.
int compare_scenarios(const Args& a, const std::string& format, std::ostream& out) {
  for (const char* flag : {"unit-costs", "costs", "p2p-latency-us", "p2p-bandwidth", "p2p-bandwidth-gbps", "ranks", "microbatches"})
    if (a.has(flag))
      throw std::invalid_argument(std::string("--") + flag + " does not apply with --model: the scenario sets it");
  std::vector<ScenarioRun> runs;
  std::string header;
  for (sim::ScheduleKind kind : schedule_kinds(a, "kinds")) {
    ScenarioRun run;
    run.kind = std::string(sim::to_string(kind));
    try {
      run.scenario = scenario_from(a, run.kind);
      run.study = model::run_study(run.scenario, study_options(a, false));
      if (header.empty()) header = scenario_header(run.scenario);
    } catch (const std::invalid_argument& e) {
      // Only the rules that depend on the schedule (its micro-batch needs, its stage count)
      // make one kind unavailable; any other broken rule is a mistake in the flags.
      const std::string why = e.what();
      const std::string rule = why.substr(why.find(": ") + 2);
      if (rule.rfind("schedule:", 0) != 0 && rule.rfind("layers:", 0) != 0) throw;
      run.not_available = rule;
    }
    runs.push_back(std::move(run));
  }
  if (format == "json") {
    nlohmann::json all = nlohmann::json::array();
    for (const ScenarioRun& run : runs) all.push_back(scenario_json(run));
    out << versioned({{"mode", "model"}, {"runs", std::move(all)}}).dump(1) << "\n";
  } else {
    out << (header.empty() ? *a.get("model") : header) << "\n\n" << scenario_table(runs);
  }
  return 0;
}

}  // namespace

int run_compare(const Words& args, std::ostream& out) {
  const auto specs = flags();
  const Args a(args, specs, "compare");
  if (a.has("help")) {
    out << "usage: ppsim compare --model M [--cluster C] [--kinds a,b,...] [plan flags: --pp --ep --tp ...] [--format text|json]\n"
           "       ppsim compare [--kinds a,b,...] [--ranks P] [--microbatches M] [--unit-costs ... | --costs FILE]\n"
           "                     [--p2p-latency-us X] [--p2p-bandwidth 50GB/s] [--format text|json]\n"
        << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  if (wants_scenario(a)) return compare_scenarios(a, format, out);
  const auto kinds = schedule_kinds(a, "kinds");
  const int P = a.get_int("ranks", 8, 1, sim::kMaxRanks);
  const int M = a.get_int("microbatches", 20, 1, sim::kMaxMicrobatches);
  const int V = a.get_int("stages-per-rank", 2, 2, sim::kMaxStagesPerRank);
  // Every kind is simulated in turn: their ops together stay within a few single runs' worth.
  double ops = 0;
  for (sim::ScheduleKind kind : kinds) {
    const sim::ScheduleRequest req(kind, P, M, sim::is_interleaved(kind) ? V : 0);
    ops += 3.0 * P * M * sim::stages_per_rank_of(req);
  }
  sim::check_work("--ranks " + std::to_string(P) + " x --microbatches " + std::to_string(M) + " over " +
                      std::to_string(kinds.size()) + " kinds: ops",
                  ops, 6 * sim::kLimitOps, "ops");
  const CostChoice costs = costs_from(a);
  const sim::LinkSpec link = link_from(a);
  ProgressLines progress("compare: kinds simulated");
  const auto rows = compare(kinds, P, M, V, costs, link, [&](int done, int total) { progress.update(done, total); });
  if (format == "json") {
    out << versioned({{"mode", "unit-costs"}, {"runs", compare_json(rows, costs, link)}}).dump(1) << "\n";
  } else {
    out << P << " ranks, " << M << " micro-batches; costs " << costs.description << "; " << describe(link) << "\n\n"
        << compare_table(rows);
  }
  return 0;
}

}  // namespace ppsim::cli
