// ppsim calibrate --from-kineto: what a PyTorch profiler trace says about a run. Its kernels by
// phase (attention, GEMMs, dispatch, combine, P2P, collectives, memory, the rest) per device,
// how much communication ran under compute, the ops' durations (from record_function ranges)
// as a per-stage cost table for `simulate --costs`, and, with --model, the efficiency figures
// the measured times imply for `--efficiency` (the built-in defaults are never fitted to it).
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/io.hpp"
#include "cli/report.hpp"
#include "cli/scenario_flags.hpp"
#include "model/study.hpp"
#include "sim/json_parse.hpp"
#include "sim/time.hpp"
#include "traces/kineto.hpp"

namespace ppsim::cli {

namespace {

std::vector<FlagSpec> flags() {
  std::vector<FlagSpec> f = {
      {"from-kineto", true, "PyTorch profiler (Kineto) Chrome traces, comma-separated: one per rank, in stage order "
                            "(a file holding several devices gives one stage per device)"},
      {"rules", true, "JSON: {\"kernels\": [{\"phase\": P, \"pattern\": REGEX}], \"ops\": [{\"op\": F|B|Bi|W|FB, "
                      "\"pattern\": REGEX}]}, tried before the built-in rules"},
      {"costs-out", true, "write the per-stage cost table (us) the ops imply, for simulate --costs"},
  };
  for (const FlagSpec& s : scenario_flags()) f.push_back(s);
  f.push_back({"format", true, "text (default) | json"});
  f.push_back({"help", false, "show this help"});
  return f;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double round_ns(double us) { return std::round(us * 1000) / 1000; }  // cost tables hold whole nanoseconds

// One stage's costs from its ops: F, B (the full backward: B, else Bi + W), W, FB, in us.
nlohmann::json stage_costs(const traces::KinetoDevice& d, int stage) {
  auto med = [&](const char* kind) { return d.op_us.count(kind) ? median(d.op_us.at(kind)) : -1.0; };
  const double f = med("F"), b = med("B"), bi = med("Bi"), w = med("W"), fb = med("FB");
  const double full_b = b >= 0 ? b : (bi >= 0 && w >= 0 ? bi + w : -1);
  if (f < 0 || full_b < 0)
    throw std::invalid_argument("stage " + std::to_string(stage) + " (device " + std::to_string(d.device) + "): the trace marks no " +
                                (f < 0 ? "forward" : "backward") +
                                " op, so no cost table can be made (record_function ranges named forward/backward, or "
                                "--rules with an 'ops' list)");
  nlohmann::json c = {{"F", round_ns(f)}, {"B", round_ns(full_b)}};
  if (w >= 0 && w < full_b) c["W"] = round_ns(w);
  if (fb >= 0) c["FB"] = round_ns(fb);
  return c;
}

double share(double part, double whole) { return whole > 0 ? part / whole : 0; }

sim::Time ns_of(double us) { return static_cast<sim::Time>(std::llround(us * 1000)); }

}  // namespace

int run_calibrate(const Words& args, std::ostream& out) {
  const auto specs = flags();
  const Args a(args, specs, "calibrate");
  if (a.has("help")) {
    out << "usage: ppsim calibrate --from-kineto TRACE.json[,RANK1.json,...] [--rules rules.json] [--costs-out costs.json]\n"
           "                       [--model M [plan flags]] [--format text|json]\n"
        << usage_lines(specs);
    return 0;
  }
  const std::string format = a.get_choice("format", "text", {"text", "json"});
  check_outputs(a, {"costs-out"});
  const auto files = a.get("from-kineto");
  if (!files) throw std::invalid_argument("ppsim calibrate: give --from-kineto TRACE.json (a PyTorch profiler trace)");
  traces::KinetoRules rules = traces::KinetoRules::builtin();
  if (auto path = a.get("rules")) {
    try {
      rules = traces::KinetoRules::from_json(sim::parse_json(read_file(*path)), rules);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(*path + ": " + e.what());
    }
  }
  // The scenario first: a bad plan flag is refused before the traces are read.
  std::optional<model::Scenario> scenario;
  if (wants_scenario(a)) scenario = scenario_from(a);
  traces::KinetoProfile profile;
  int offset = 0;
  for (const std::string& path : split_list(*files)) {
    try {
      traces::read_kineto(sim::parse_json(read_file(path)), rules, path, offset, profile);
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      throw std::invalid_argument(what.rfind(path, 0) == 0 ? what : path + ": " + what);
    }
    for (const auto& d : profile.devices) offset = std::max(offset, d.device + 1);
  }
  if (profile.devices.empty())
    throw std::invalid_argument(*files + ": no GPU kernel in the trace (events with \"cat\": \"kernel\"; profile with "
                                "ProfilerActivity.CUDA)");

  nlohmann::json stages = nlohmann::json::array(), costs = nlohmann::json::array();
  std::ostringstream t;
  t << std::fixed;
  t << "kineto: " << profile.kernels << " kernels on " << profile.devices.size() << " device(s), "
    << profile.annotations_used << " ops from " << (profile.gpu_annotations ? "GPU" : "CPU") << "-side annotations\n";
  for (std::size_t s = 0; s < profile.devices.size(); ++s) {
    const traces::KinetoDevice& d = profile.devices[s];
    nlohmann::json phases = nlohmann::json::object(), ops = nlohmann::json::object();
    t << "\nstage " << s << " (device " << d.device << "): kernels busy " << sim::format_duration(ns_of(d.busy_us))
      << " of " << sim::format_duration(ns_of(d.span_us)) << ", communication " << sim::format_duration(ns_of(d.comm_us))
      << " of which " << std::setprecision(0) << 100 * share(d.comm_overlapped_us, d.comm_us) << "% under compute\n";
    for (const std::string& phase : traces::kineto_phases()) {
      if (!d.phase_us.count(phase)) continue;
      phases[phase] = {{"us", d.phase_us.at(phase)}, {"kernels", d.phase_kernels.at(phase)}, {"example", d.examples.at(phase)}};
      t << "  " << std::left << std::setw(11) << phase << std::right << std::setw(12)
        << sim::format_duration(ns_of(d.phase_us.at(phase))) << std::setw(8) << d.phase_kernels.at(phase) << " kernels  e.g. "
        << d.examples.at(phase) << "\n";
    }
    for (const auto& [kind, list] : d.op_us) {
      ops[kind] = {{"count", list.size()}, {"median_us", median(list)}};
      t << "  op " << std::left << std::setw(3) << kind << std::right << list.size() << " x, median "
        << sim::format_duration(ns_of(median(list))) << "\n";
    }
    stages.push_back({{"stage", s}, {"device", d.device}, {"busy_us", d.busy_us}, {"span_us", d.span_us},
                      {"comm_us", d.comm_us}, {"comm_overlapped_us", d.comm_overlapped_us},
                      {"comm_overlapped_fraction", share(d.comm_overlapped_us, d.comm_us)}, {"phases", phases}, {"ops", ops}});
  }
  nlohmann::json doc = {{"devices", profile.devices.size()}, {"kernels", profile.kernels}, {"stages", stages},
                        {"op_annotations", profile.gpu_annotations ? "gpu" : "cpu"}};

  // The cost table: made only whole (every stage's F and B); without them it is refused when
  // --costs-out asks for it, else left out of the report.
  try {
    for (std::size_t s = 0; s < profile.devices.size(); ++s) costs.push_back(stage_costs(profile.devices[s], static_cast<int>(s)));
    doc["costs"] = {{"unit", "us"}, {"stages", costs}};
  } catch (const std::invalid_argument&) {
    if (a.has("costs-out")) throw;
    costs.clear();
  }

  // With --model: the efficiencies the measured kernel times imply, against the model's own
  // prediction of the same work per micro-batch (compute and the MoE all-to-all).
  if (scenario) {
    const model::StudyResult r = model::run_study(*scenario);
    double predicted_compute = 0, predicted_a2a = 0;
    for (std::size_t st = 0; st < r.compute.size(); ++st) {
      predicted_compute += r.compute[st].total();
      for (const model::CommSummary& c : r.comm[st])
        if (c.what == sim::CommKind::Dispatch || c.what == sim::CommKind::Combine) predicted_a2a += c.seconds;
    }
    predicted_compute /= static_cast<double>(std::max<std::size_t>(1, r.compute.size()));
    predicted_a2a /= static_cast<double>(std::max<std::size_t>(1, r.compute.size()));
    double measured_compute = 0, measured_a2a = 0;
    int counted = 0;
    for (const traces::KinetoDevice& d : profile.devices) {
      const double mbs = static_cast<double>((d.op_us.count("F") ? d.op_us.at("F").size() : 0) +
                                             (d.op_us.count("FB") ? d.op_us.at("FB").size() : 0));
      if (mbs == 0) continue;
      double compute = 0, a2a = 0;
      for (const auto& [phase, us] : d.phase_us) {
        if (phase == "dispatch" || phase == "combine") a2a += us;
        else if (phase != "p2p" && phase != "collective") compute += us;
      }
      measured_compute += compute * 1e-6 / mbs;
      measured_a2a += a2a * 1e-6 / mbs;
      ++counted;
    }
    if (counted == 0)
      throw std::invalid_argument("--model: the trace marks no forward op, so its work per micro-batch is unknown "
                                  "(record_function ranges named forward, or --rules with an 'ops' list)");
    measured_compute /= counted;
    measured_a2a /= counted;
    const model::Efficiencies& e = scenario->eff;
    nlohmann::json implied = {{"model", scenario->model.id},
                              {"predicted_compute_per_microbatch_seconds", predicted_compute},
                              {"measured_compute_per_microbatch_seconds", measured_compute},
                              {"in_training", e.in_training * predicted_compute / std::max(1e-12, measured_compute)}};
    std::string efficiency = "in_training=" + std::to_string(implied["in_training"].get<double>()).substr(0, 6);
    if (predicted_a2a > 0 && measured_a2a > 0) {
      implied["predicted_all_to_all_per_microbatch_seconds"] = predicted_a2a;
      implied["measured_all_to_all_per_microbatch_seconds"] = measured_a2a;
      implied["network"] = std::min(1.0, e.network * predicted_a2a / measured_a2a);
      efficiency += ",network=" + std::to_string(implied["network"].get<double>()).substr(0, 6);
    }
    const double in_training = implied["in_training"].get<double>();
    t << "\nagainst " << scenario->model.id << " (" << scenario->plan.pp << " stages): compute per micro-batch measured "
      << sim::format_duration(ns_of(measured_compute * 1e6)) << ", predicted "
      << sim::format_duration(ns_of(predicted_compute * 1e6)) << "\n";
    if (in_training > 0 && in_training <= 1) {
      implied["efficiency"] = efficiency;
      t << "  implies --efficiency " << efficiency << " (defaults in_training=" << std::setprecision(2) << e.in_training
        << ", network=" << e.network << ")\n";
    } else {
      // Not an efficiency: the trace's work per micro-batch is not this plan's.
      implied["warning"] = "the implied in_training is outside (0, 1]: the trace does not run this model and plan";
      t << "  implies in_training = " << std::setprecision(2) << in_training
        << ", outside (0, 1]: the trace does not run this model and plan (check --model, --pp, --microbatch-size)\n";
    }
    doc["implied"] = implied;
  }

  if (doc.contains("costs")) {
    t << "\ncost table (us" << (a.has("costs-out") ? ", in " + *a.get("costs-out") : std::string(", --costs-out FILE writes it"))
      << "):\n";
    for (std::size_t s = 0; s < costs.size(); ++s) t << "  stage " << s << ": " << costs[s].dump() << "\n";
  } else {
    t << "\nno cost table: the trace marks no forward and backward ops on every stage\n";
  }
  // The cost table and the report land together, or neither does.
  std::vector<std::pair<std::string, std::string>> outputs;
  if (auto path = a.get("costs-out")) outputs.emplace_back(*path, versioned(doc["costs"]).dump(1) + "\n");
  outputs.emplace_back("-", format == "json" ? versioned(doc).dump(1) + "\n" : t.str());
  write_outputs(outputs, out);
  return 0;
}

}  // namespace ppsim::cli
