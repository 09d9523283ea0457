// ppsim schedule: generate (or read) a schedule, validate it, export it as json, csv or ascii.
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "cli/schedule_source.hpp"
#include "sim/generators.hpp"
#include "sim/schedule_ascii.hpp"
#include "sim/schedule_csv.hpp"
#include "sim/schedule_json.hpp"
#include "sim/validate.hpp"

namespace ppsim::cli {

namespace {

std::vector<FlagSpec> flags() {
  std::vector<FlagSpec> f = schedule_source_flags();
  f.push_back({"format", true, "ascii (default) | json | csv (PyTorch pipelining actions)"});
  f.push_back({"out", true, "write to this file instead of standard output"});
  f.push_back({"help", false, "show this help"});
  return f;
}

std::string summary(const sim::Schedule& s, const sim::ValidationReport& report) {
  std::ostringstream line;
  line << s.kind << ": " << s.ranks << " ranks, " << s.stages << " stages, " << s.microbatches << " micro-batches, "
       << s.op_count() << " ops; valid, no deadlock; peak in-flight activations per rank:";
  for (int p : report.peak_in_flight) line << ' ' << p;
  return line.str() + "\n";
}

}  // namespace

int run_schedule(const Words& args, std::ostream& out, std::ostream& err) {
  const auto kFlags = flags();
  const Args a(args, kFlags, "schedule");
  if (a.has("help")) {
    out << "usage: ppsim schedule --kind K [--ranks P] [--microbatches M] [--stages-per-rank V] [--format F] [--out FILE]\n"
           "       ppsim schedule --from-csv FILE | --from-json FILE [--format F] [--out FILE]\n"
        << usage_lines(kFlags);
    return 0;
  }
  const std::string format = a.get_choice("format", "ascii", {"ascii", "json", "csv"});
  check_outputs(a, {"out"});
  const sim::Schedule s = load_schedule(a);
  const sim::ValidationReport report = sim::validate(s);
  if (!report.ok()) require_valid_schedule(a, s);
  std::string text;
  if (format == "json") text = sim::to_json(s).dump(1) + "\n";
  else if (format == "csv") text = sim::to_csv(s);
  else text = sim::to_ascii(s) + summary(s, report);
  write_output(a.get_or("out", "-"), text, out);
  if (format != "ascii") err << summary(s, report);
  return 0;
}

}  // namespace ppsim::cli
