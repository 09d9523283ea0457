#include "cli/compare.hpp"

#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/report.hpp"

namespace ppsim::cli {

std::vector<CompareRow> compare(const std::vector<sim::ScheduleKind>& kinds, int ranks, int microbatches,
                                int stages_per_rank, const CostChoice& costs, const sim::LinkSpec& link,
                                const std::function<void(int, int)>& progress) {
  std::vector<CompareRow> rows;
  for (sim::ScheduleKind kind : kinds) {
    CompareRow row{kind, {}, {}, {}};
    sim::ScheduleRequest req(kind, ranks, microbatches, sim::is_interleaved(kind) ? stages_per_rank : 0);
    // zb2p and zbv-greedy plan for the costs they are given (the first stage's, with the link's latency).
    if (sim::plans_for_costs(kind)) req.zb = sim::zb_options_for(costs.table.at(0), static_cast<double>(link.latency));
    row.not_available = sim::check_request(req);
    if (row.not_available.empty()) {
      try {
        row.schedule = sim::make_schedule(req);
      } catch (const std::invalid_argument& e) {  // its scheduler found no order within its memory limit
        row.not_available = e.what();
        rows.push_back(std::move(row));
        continue;
      }
      if (costs.table.stages() != 0 && costs.table.stages() != row.schedule.stages) {
        row.not_available = "the costs describe " + std::to_string(costs.table.stages()) + " stages, " +
                            std::string(sim::to_string(kind)) + " has " + std::to_string(row.schedule.stages);
      } else {
        sim::SimOptions opt;
        opt.p2p = link;
        opt.record_timeline = false;
        row.result = sim::simulate(row.schedule, costs.table, opt);
      }
    }
    rows.push_back(std::move(row));
    if (progress) progress(static_cast<int>(rows.size()), static_cast<int>(kinds.size()));
  }
  return rows;
}

std::string compare_table(const std::vector<CompareRow>& rows) {
  std::ostringstream out;
  // One unit for the table, the one that fits its longest step (s, ms or us).
  sim::Time longest = 0;
  for (const CompareRow& row : rows)
    if (row.not_available.empty()) longest = std::max(longest, row.result.metrics.makespan);
  const sim::TimeUnit u = sim::unit_for(longest);
  const std::string unit = std::string(" ") + u.name;
  out << std::left << std::setw(18) << "schedule" << std::right << std::setw(7) << "stages" << std::setw(14)
      << "step time" + unit << std::setw(16) << "max bubble" + unit << std::setw(9) << "bubble" << std::setw(15)
      << "exposed" + unit << std::setw(11) << "peak act." << "\n";
  for (const CompareRow& row : rows) {
    out << std::left << std::setw(18) << sim::to_string(row.kind) << std::right;
    if (!row.not_available.empty()) {
      out << "  not available: " << row.not_available << "\n";
      continue;
    }
    const sim::Metrics& m = row.result.metrics;
    sim::Time exposed = 0;
    int peak = 0;
    for (const sim::RankMetrics& r : m.per_rank) {
      exposed = std::max(exposed, r.exposed_comm);
      peak = std::max(peak, r.peak_activations);
    }
    std::ostringstream pct;
    pct << std::fixed << std::setprecision(1)
        << (m.makespan ? 100.0 * static_cast<double>(m.max_bubble()) / static_cast<double>(m.makespan) : 0.0) << "%";
    out << std::setw(7) << row.schedule.stages << std::setw(14) << sim::format_in(m.makespan, u) << std::setw(16)
        << sim::format_in(m.max_bubble(), u) << std::setw(9) << pct.str() << std::setw(15) << sim::format_in(exposed, u)
        << std::setw(11) << peak << "\n";
  }
  return out.str();
}

nlohmann::json compare_json(const std::vector<CompareRow>& rows, const CostChoice& costs, const sim::LinkSpec& link) {
  nlohmann::json out = nlohmann::json::array();
  for (const CompareRow& row : rows) {
    if (!row.not_available.empty()) {
      out.push_back({{"kind", sim::to_string(row.kind)}, {"not_available", row.not_available}});
      continue;
    }
    const RunInfo run{&row.schedule, &row.result, costs.description, describe(link),
                      closed_form_for(row.schedule, costs, link)};
    out.push_back(json_report(run));
  }
  return out;
}

}  // namespace ppsim::cli
