// ppsim compare: several schedule kinds on the same pipeline, costs and links, in one table.
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/compare.hpp"

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
  f.push_back({"format", true, "text (default) | json"});
  f.push_back({"help", false, "show this help"});
  return f;
}

std::vector<sim::ScheduleKind> kinds_from(const Args& a) {
  if (!a.has("kinds")) return sim::all_schedule_kinds();
  std::vector<sim::ScheduleKind> kinds;
  const std::string list = *a.get("kinds");
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    try {
      kinds.push_back(sim::parse_schedule_kind(list.substr(start, end - start)));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("--kinds: ") + e.what());
    }
    start = end + 1;
  }
  return kinds;
}

}  // namespace

int run_compare(const Words& args, std::ostream& out) {
  const auto specs = flags();
  const Args a(args, specs, "compare");
  if (a.has("help")) {
    out << "usage: ppsim compare [--kinds a,b,...] [--ranks P] [--microbatches M] [--unit-costs ... | --costs FILE]\n"
           "                     [--p2p-latency-us X] [--p2p-bandwidth-gbps Y] [--format text|json]\n"
        << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  const auto kinds = kinds_from(a);
  const int P = a.get_int("ranks", 8, 1, sim::kMaxRanks);
  const int M = a.get_int("microbatches", 20, 1, sim::kMaxMicrobatches);
  const int V = a.get_int("stages-per-rank", 2, 2, sim::kMaxStagesPerRank);
  const CostChoice costs = costs_from(a);
  const sim::LinkSpec link = link_from(a);
  const auto rows = compare(kinds, P, M, V, costs, link);
  if (format == "json") {
    out << compare_json(rows, costs, link).dump(1) << "\n";
  } else {
    out << P << " ranks, " << M << " micro-batches; costs " << costs.description << "; " << describe(link) << "\n\n"
        << compare_table(rows);
  }
  return 0;
}

}  // namespace ppsim::cli
