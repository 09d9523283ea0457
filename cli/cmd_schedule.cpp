// ppsim schedule: generate (or read) a schedule, validate it, export it as json, csv or ascii.
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "sim/generators.hpp"
#include "sim/schedule_ascii.hpp"
#include "sim/schedule_csv.hpp"
#include "sim/schedule_json.hpp"
#include "sim/validate.hpp"

namespace ppsim::cli {

namespace {

const std::vector<FlagSpec> kFlags = {
    {"kind", true, "gpipe | 1f1b | interleaved-1f1b | zb1p | zbv | dualpipe | dualpipev"},
    {"ranks", true, "pipeline ranks P (default 8)"},
    {"microbatches", true, "micro-batches M (default 20)"},
    {"stages-per-rank", true, "model chunks per rank V (interleaved-1f1b; default: the kind's own)"},
    {"format", true, "ascii (default) | json | csv (PyTorch pipelining actions)"},
    {"from-csv", true, "read a PyTorch-format CSV schedule instead of generating one"},
    {"from-json", true, "read a ppsim JSON schedule instead of generating one"},
    {"out", true, "write to this file instead of standard output"},
    {"help", false, "show this help"},
};

std::string summary(const sim::Schedule& s, const sim::ValidationReport& report) {
  std::ostringstream line;
  line << s.kind << ": " << s.ranks << " ranks, " << s.stages << " stages, " << s.microbatches << " micro-batches, "
       << s.op_count() << " ops; valid, no deadlock; peak in-flight activations per rank:";
  for (int p : report.peak_in_flight) line << ' ' << p;
  return line.str() + "\n";
}

sim::Schedule load_or_generate(const Args& a) {
  const int sources = a.has("from-csv") + a.has("from-json") + a.has("kind");
  if (sources != 1)
    throw std::invalid_argument("ppsim schedule: give exactly one of --kind, --from-csv, --from-json");
  if (a.has("from-csv") || a.has("from-json")) {
    for (const char* flag : {"ranks", "microbatches", "stages-per-rank"})
      if (a.has(flag))
        throw std::invalid_argument(std::string("--") + flag + " does not apply to a schedule read from a file");
  }
  if (auto path = a.get("from-csv")) {
    try {
      return sim::schedule_from_csv(read_file(*path));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(*path + ": " + e.what());
    }
  }
  if (auto path = a.get("from-json")) {
    try {
      return sim::schedule_from_json_text(read_file(*path));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(*path + ": " + e.what());
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
  return sim::make_schedule(req);
}

}  // namespace

int run_schedule(const Words& args, std::ostream& out, std::ostream& err) {
  const Args a(args, kFlags, "schedule");
  if (a.has("help")) {
    out << "usage: ppsim schedule --kind K [--ranks P] [--microbatches M] [--stages-per-rank V] [--format F] [--out FILE]\n"
           "       ppsim schedule --from-csv FILE | --from-json FILE [--format F] [--out FILE]\n"
        << usage_lines(kFlags);
    return 0;
  }
  const std::string format = a.get_choice("format", "ascii", {"ascii", "json", "csv"});
  const sim::Schedule s = load_or_generate(a);
  const sim::ValidationReport report = sim::validate(s);
  if (!report.ok()) {
    const std::string source = a.get_or("from-csv", a.get_or("from-json", ""));
    try {
      sim::require_valid(s);  // throws the first error and how many more
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(source.empty() ? e.what() : source + ": " + e.what());
    }
  }
  std::string text;
  if (format == "json") text = sim::to_json(s).dump(1) + "\n";
  else if (format == "csv") text = sim::to_csv(s);
  else text = sim::to_ascii(s) + summary(s, report);
  write_output(a.get_or("out", "-"), text, out);
  if (format != "ascii") err << summary(s, report);
  return 0;
}

}  // namespace ppsim::cli
