// ppsim trace: read a Chrome trace written by ppsim (simulated or measured) and summarize it:
// ranks, step time, and each rank's busy time and bubble.
#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "cli/report.hpp"
#include "sim/json_parse.hpp"
#include "traces/chrome_trace.hpp"

namespace ppsim::cli {

int run_trace(const Words& args, std::ostream& out) {
  const std::vector<FlagSpec> specs = {{"summary", true, "the trace file (Chrome Trace Event Format JSON)"},
                                       {"format", true, "text (default) | json"},
                                       {"help", false, "show this help"}};
  const Args a(args, specs, "trace");
  if (a.has("help")) {
    out << "usage: ppsim trace --summary FILE [--format text|json]\n" << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  const auto path = a.get("summary");
  if (!path) throw std::invalid_argument("ppsim trace: give --summary FILE");
  sim::Timeline t;
  try {
    t = traces::timeline_from_chrome_trace(sim::parse_json(read_file(*path)));
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(*path + ": not valid JSON: " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(*path + ": " + e.what());
  }
  const sim::ComputeSpan compute = sim::compute_span(t, t.ranks);
  if (!compute.any) throw std::invalid_argument(*path + ": the trace holds no op on a compute lane");
  const sim::Time span = compute.span();
  const std::vector<sim::Time>& busy = compute.busy;
  nlohmann::json doc = versioned({{"kind", t.kind}, {"ranks", t.ranks}, {"step_us", sim::to_us(span)}, {"per_rank", nlohmann::json::array()}});
  std::ostringstream text;
  text << (t.kind.empty() ? "trace" : t.kind) << ": " << t.ranks << " ranks, step " << sim::format_duration(span) << "\n";
  for (int r = 0; r < t.ranks; ++r) {
    doc["per_rank"].push_back({{"rank", r}, {"busy_us", sim::to_us(busy[r])}, {"bubble_us", sim::to_us(span - busy[r])}});
    text << "rank " << r << ": busy " << sim::format_duration(busy[r]) << ", bubble " << sim::format_duration(span - busy[r]) << "\n";
  }
  out << (format == "json" ? doc.dump(1) + "\n" : text.str());
  return 0;
}

}  // namespace ppsim::cli
