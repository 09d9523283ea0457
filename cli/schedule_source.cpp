#include "cli/schedule_source.hpp"

#include <algorithm>

#include <stdexcept>

#include "cli/io.hpp"
#include "sim/costs.hpp"
#include "sim/generators.hpp"
#include "sim/schedule_csv.hpp"
#include "sim/schedule_json.hpp"
#include "sim/validate.hpp"

namespace ppsim::cli {

const std::vector<FlagSpec>& schedule_source_flags() {
  static const std::vector<FlagSpec> flags = {
      {"kind", true,
       "gpipe | 1f1b | interleaved-1f1b | interleaved-1f1b-megatron | zb1p | zb2p | zbv | zbv-greedy | v-half | v-min | "
       "dualpipe | dualpipev"},
      {"ranks", true, "pipeline ranks P (default 8)"},
      {"microbatches", true, "micro-batches M (default 20)"},
      {"stages-per-rank", true, "model chunks per rank V (interleaved-1f1b; default: the kind's own)"},
      {"zb-costs", true,
       "zb2p, zbv-greedy: the costs their scheduler plans for, as --unit-costs (default: --unit-costs, or F=1,B=2,W=1)"},
      {"zb-memory-limit", true,
       "zb2p, zbv-greedy: forwards' activations a rank may hold (default 2 x ranks; ranks gives ZB-1P)"},
      {"from-csv", true, "read a PyTorch-format CSV schedule instead of generating one"},
      {"from-json", true, "read a ppsim JSON schedule instead of generating one"},
  };
  return flags;
}

std::string schedule_file(const Args& a) { return a.get_or("from-csv", a.get_or("from-json", "")); }

void require_valid_schedule(const Args& a, const sim::Schedule& schedule) {
  try {
    sim::require_valid(schedule);
  } catch (const std::invalid_argument& e) {
    const std::string file = schedule_file(a);
    throw std::invalid_argument(file.empty() ? e.what() : file + ": " + e.what());
  }
}

sim::Schedule load_schedule(const Args& a) {
  const int sources = a.has("from-csv") + a.has("from-json") + a.has("kind");
  if (sources != 1) throw std::invalid_argument("give exactly one of --kind, --from-csv, --from-json");
  if (a.has("from-csv") || a.has("from-json")) {
    for (const char* flag : {"ranks", "microbatches", "stages-per-rank"})
      if (a.has(flag))
        throw std::invalid_argument(std::string("--") + flag + " does not apply to a schedule read from a file");
    const std::string path = schedule_file(a);
    try {
      return a.has("from-csv") ? sim::schedule_from_csv(read_file(path)) : sim::schedule_from_json_text(read_file(path));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(path + ": " + e.what());
    }
  }
  sim::ScheduleRequest req;
  try {
    req.kind = sim::parse_schedule_kind(*a.get("kind"));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--") + e.what());
  }
  req.ranks = a.get_int("ranks", 8, 1, sim::kMaxRanks);
  req.microbatches = a.get_int("microbatches", 20, 1, sim::kMaxMicrobatches);
  req.stages_per_rank = a.get_int("stages-per-rank", 0, 1, sim::kMaxStagesPerRank);
  if (sim::plans_for_costs(req.kind)) {
    const std::string spec = a.get_or("zb-costs", a.get_or("unit-costs", "F=1,B=2,W=1"));
    sim::StageCost cost;
    try {
      cost = sim::parse_unit_costs(spec).at(0);
    } catch (const std::invalid_argument& e) {  // name the flag the costs came from
      std::string what = e.what();
      if (a.has("zb-costs") && what.rfind("--unit-costs", 0) == 0) what = "--zb-costs" + what.substr(12);
      throw std::invalid_argument(what);
    }
    req.zb = sim::zb_options_for(cost, 0,
                                 a.has("zb-memory-limit") ? a.get_int("zb-memory-limit", 0, 0, 4 * sim::kMaxRanks) : -1);
  } else {
    for (const char* flag : {"zb-costs", "zb-memory-limit"})
      if (a.has(flag)) throw std::invalid_argument(std::string("--") + flag + " applies to --kind zb2p and zbv-greedy only");
  }
  return sim::make_schedule(req);
}

std::vector<sim::ScheduleKind> schedule_kinds(const Args& a, const std::string& flag) {
  if (!a.has(flag)) return sim::all_schedule_kinds();
  std::vector<sim::ScheduleKind> kinds;
  const std::string list = *a.get(flag);
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    try {
      kinds.push_back(sim::parse_schedule_kind(list.substr(start, end - start)));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("--" + flag + ": " + e.what());
    }
    start = end + 1;
  }
  return kinds;
}

}  // namespace ppsim::cli
