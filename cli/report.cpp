#include "cli/report.hpp"

#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "sim/json_parse.hpp"

namespace ppsim::cli {

using sim::to_us;

namespace {

std::string percent(double fraction) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << 100.0 * fraction << "%";
  return s.str();
}

// One step of the critical path, its interval in the report's unit.
std::string step_text(const sim::CriticalStep& c, sim::TimeUnit u) {
  const std::string when = " [" + sim::format_in(c.start, u) + ", " + sim::format_in(c.end, u) + "] " + u.name;
  if (c.lane == sim::Lane::Send)
    return "transfer rank " + std::to_string(c.rank) + "->" + std::to_string(c.peer) + when;
  return sim::to_string(c.op) + " (rank " + std::to_string(c.rank) + ")" + when;
}

}  // namespace

std::optional<sim::ClosedForm> closed_form_for(const sim::Schedule& s, const CostChoice& costs, const sim::LinkSpec& link) {
  if (!costs.uniform || link.latency != 0 || link.bytes_per_second != 0) return std::nullopt;
  try {
    return sim::closed_form_bubble(sim::parse_schedule_kind(s.kind), s.ranks, costs.table.at(0));
  } catch (const std::invalid_argument&) {
    return std::nullopt;  // a schedule read from a file has no known kind
  }
}

std::string text_report(const RunInfo& run) {
  const sim::Schedule& s = *run.schedule;
  const sim::Metrics& m = run.result->metrics;
  std::ostringstream out;
  out << s.kind << ": " << s.ranks << " ranks, " << s.stages << " stages, " << s.microbatches << " micro-batches; costs "
      << run.costs << "; " << run.link << "\n";
  // Times in the unit that fits the step (s, ms or us), the table's columns included.
  const sim::TimeUnit u = sim::unit_for(m.makespan);
  const std::string unit = std::string(" ") + u.name;
  out << "step time (makespan): " << sim::format_duration(m.makespan) << ", most idle rank: "
      << sim::format_duration(m.max_bubble()) << " (" << percent(m.makespan ? static_cast<double>(m.max_bubble()) / static_cast<double>(m.makespan) : 0.0)
      << ")\n\n";
  out << std::left << std::setw(6) << "rank" << std::right << std::setw(12) << "busy" + unit << std::setw(12) << "bubble" + unit
      << std::setw(9) << "bubble" << std::setw(14) << "exposed" + unit << std::setw(11) << "peak act." << std::setw(16)
      << "peak act. bytes" << "\n";
  for (std::size_t r = 0; r < m.per_rank.size(); ++r) {
    const sim::RankMetrics& rm = m.per_rank[r];
    out << std::left << std::setw(6) << r << std::right << std::setw(12) << sim::format_in(rm.busy, u) << std::setw(12)
        << sim::format_in(rm.bubble, u) << std::setw(9) << percent(rm.bubble_fraction) << std::setw(14)
        << sim::format_in(rm.exposed_comm, u) << std::setw(11) << rm.peak_activations << std::setw(16)
        << rm.peak_activation_bytes << "\n";
  }
  if (run.closed_form) {
    const sim::ClosedForm& cf = *run.closed_form;
    out << "\nclosed form " << cf.formula << " = " << sim::format_duration(cf.bubble) << " ("
        << (cf.max_over_ranks ? "most idle rank" : "every rank") << "); its conditions (" << cf.conditions << ") "
        << (cf.conditions_hold ? "hold" : "do not hold") << "\n";
  }
  const auto& path = m.critical_path;
  out << "\ncritical path: " << path.size() << " steps";
  const std::size_t shown = 4;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (i == shown && path.size() > 2 * shown) {
      out << "\n  ... " << path.size() - 2 * shown << " more ...";
      i = path.size() - shown;
    }
    out << "\n  " << step_text(path[i], u);
  }
  out << "\n";
  return out.str();
}

nlohmann::json per_rank_json(const sim::Metrics& m) {
  nlohmann::json per_rank = nlohmann::json::array();
  for (std::size_t r = 0; r < m.per_rank.size(); ++r) {
    const sim::RankMetrics& rm = m.per_rank[r];
    per_rank.push_back({{"rank", r},
                        {"busy", to_us(rm.busy)},
                        {"bubble", to_us(rm.bubble)},
                        {"bubble_fraction", rm.bubble_fraction},
                        {"exposed_comm", to_us(rm.exposed_comm)},
                        {"peak_activations", rm.peak_activations},
                        {"peak_activation_bytes", rm.peak_activation_bytes}});
  }
  return per_rank;
}

nlohmann::json critical_path_json(const sim::Metrics& m) {
  nlohmann::json path = nlohmann::json::array();
  for (const sim::CriticalStep& c : m.critical_path) {
    nlohmann::json step = {{"rank", c.rank}, {"start", to_us(c.start)}, {"end", to_us(c.end)}};
    if (c.lane == sim::Lane::Send) {
      step["transfer_to"] = c.peer;
    } else {
      step["op"] = sim::to_string(c.op);
    }
    path.push_back(std::move(step));
  }
  return path;
}

nlohmann::json versioned(nlohmann::json doc) {
  doc["schema_version"] = sim::kSchemaVersion;
  return doc;
}

nlohmann::json json_report(const RunInfo& run) {
  const sim::Schedule& s = *run.schedule;
  const sim::Metrics& m = run.result->metrics;
  // The step in parts as --model reports them (mean over ranks, of the step): idle that is not
  // waiting for a transfer, and waiting for one. Here the step is the pipeline.
  double idle = 0, waiting = 0;
  for (const sim::RankMetrics& rm : m.per_rank) {
    idle += static_cast<double>(rm.bubble - rm.exposed_comm);
    waiting += static_cast<double>(rm.exposed_comm);
  }
  const double span = std::max<double>(1, static_cast<double>(m.makespan)) * static_cast<double>(std::max<std::size_t>(1, m.per_rank.size()));
  nlohmann::json doc = {{"mode", "unit-costs"},
                        {"kind", s.kind},
                        {"ranks", s.ranks},
                        {"stages", s.stages},
                        {"microbatches", s.microbatches},
                        {"unit", "us"},
                        {"costs", run.costs},
                        {"link", run.link},
                        {"makespan", to_us(m.makespan)},
                        {"max_bubble", to_us(m.max_bubble())},
                        {"step_seconds", static_cast<double>(m.makespan) * 1e-9},
                        {"pipeline_seconds", static_cast<double>(m.makespan) * 1e-9},
                        {"bubble_fraction", idle / span},
                        {"exposed_comm_fraction", waiting / span},
                        {"events", m.events},
                        {"per_rank", per_rank_json(m)},
                        {"critical_path", critical_path_json(m)}};
  if (run.closed_form)
    doc["closed_form"] = {{"formula", run.closed_form->formula},
                          {"bubble", to_us(run.closed_form->bubble)},
                          {"conditions", run.closed_form->conditions},
                          {"conditions_hold", run.closed_form->conditions_hold},
                          {"over", run.closed_form->max_over_ranks ? "most idle rank" : "every rank"}};
  return doc;
}

}  // namespace ppsim::cli
