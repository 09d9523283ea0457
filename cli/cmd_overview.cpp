// ppsim (no arguments): the default job. Generates every schedule kind for one pipeline,
// validates each, and shows them side by side with the DualPipe picture.
#include <algorithm>
#include <iomanip>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "sim/generators.hpp"
#include "sim/schedule_ascii.hpp"
#include "sim/validate.hpp"

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
    out << "usage: ppsim [overview] [--ranks P] [--microbatches M] [--picture KIND]\n" << usage_lines(kFlags);
    return 0;
  }
  const int P = a.get_int("ranks", 8, 1, 256);
  const int M = a.get_int("microbatches", 20, 1, 4096);
  const sim::ScheduleKind picture = sim::parse_schedule_kind(a.get_or("picture", "dualpipe"));

  out << "ppsim: every schedule on " << P << " ranks with " << M << " micro-batches\n\n";
  out << std::left << std::setw(18) << "schedule" << std::right << std::setw(8) << "stages" << std::setw(8) << "ops"
      << std::setw(14) << "peak act." << "  status\n";
  for (sim::ScheduleKind kind : sim::all_schedule_kinds()) {
    out << std::left << std::setw(18) << sim::to_string(kind) << std::right;
    const sim::ScheduleRequest req{kind, P, M, 0};
    if (auto problem = sim::check_request(req); !problem.empty()) {
      out << std::setw(30) << "-" << "  not available: " << problem << "\n";
      continue;
    }
    const sim::Schedule s = sim::make_schedule(req);
    const sim::ValidationReport report = sim::validate(s);
    const int peak = report.peak_in_flight.empty()
                         ? 0
                         : *std::max_element(report.peak_in_flight.begin(), report.peak_in_flight.end());
    out << std::setw(8) << s.stages << std::setw(8) << s.op_count() << std::setw(14) << peak << "  "
        << (report.ok() ? "valid, no deadlock" : "INVALID: " + report.errors[0]) << "\n";
  }
  out << "\n(peak act.: most stage activations any rank holds at once)\n\n";
  const sim::ScheduleRequest req{picture, P, M, 0};
  if (auto problem = sim::check_request(req); problem.empty()) out << sim::to_ascii(sim::make_schedule(req));
  else out << "no picture: " << problem << "\n";
  return 0;
}

}  // namespace ppsim::cli
