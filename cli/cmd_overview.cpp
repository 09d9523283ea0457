// ppsim (no arguments): the default job. Simulates every schedule kind on one pipeline with
// the default unit costs, shows them side by side, and draws the DualPipe schedule.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/compare.hpp"
#include "sim/schedule_ascii.hpp"

namespace ppsim::cli {

namespace {
const std::vector<FlagSpec> kFlags = {
    {"ranks", true, "pipeline ranks P (default 8)"},
    {"microbatches", true, "micro-batches M (default 20)"},
    {"picture", true, "which schedule to draw (default dualpipe)"},
    {"help", false, "show this help"},
};
}  // namespace

int run_overview(const Words& args, std::ostream& out) {
  const Args a(args, kFlags, "overview");
  if (a.has("help")) {
    out << "usage: ppsim overview [--ranks P] [--microbatches M] [--picture KIND]\n" << usage_lines(kFlags);
    return 0;
  }
  const int P = a.get_int("ranks", 8, 1, 256);
  const int M = a.get_int("microbatches", 20, 1, 4096);
  sim::ScheduleKind picture;
  try {
    picture = sim::parse_schedule_kind(a.get_or("picture", "dualpipe"));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--picture: ") + e.what());
  }
  const CostChoice costs{sim::parse_unit_costs(kDefaultUnitCosts), std::string(kDefaultUnitCosts) + " (us)", true};
  const auto rows = compare(sim::all_schedule_kinds(), P, M, 2, costs, {});
  out << "ppsim: every schedule on " << P << " ranks with " << M << " micro-batches, simulated with costs "
      << costs.description << " and free p2p (try: ppsim compare --help, ppsim simulate --help)\n\n"
      << compare_table(rows) << "\n(peak act.: most stage activations any rank holds at once)\n\n";
  const sim::ScheduleRequest req{picture, P, M, 0};
  if (auto problem = sim::check_request(req); problem.empty()) out << sim::to_ascii(sim::make_schedule(req));
  else out << "no picture: " << problem << "\n";
  return 0;
}

}  // namespace ppsim::cli
