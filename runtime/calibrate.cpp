#include "runtime/calibrate.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

#include "sim/engine.hpp"

namespace ppsim::runtime {

namespace {
int column(sim::OpKind k) { return static_cast<int>(k); }  // F, B, Bi, W, FB -> 0..4
}  // namespace

Calibration calibrate(const sim::Timeline& measured) {
  std::vector<const sim::Interval*> ops;
  for (const auto& iv : measured.intervals)
    if (iv.lane == sim::Lane::Compute) ops.push_back(&iv);
  Calibration c;
  c.samples = static_cast<int>(ops.size());
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(ops.size()), 5);
  Eigen::VectorXd t(static_cast<Eigen::Index>(ops.size()));
  for (std::size_t i = 0; i < ops.size(); ++i) {
    a(static_cast<Eigen::Index>(i), column(ops[i]->op.kind)) = 1;
    t(static_cast<Eigen::Index>(i)) = static_cast<double>(ops[i]->end - ops[i]->start);
  }
  // Kinds the schedule never runs get no column (and no cost from the fit).
  std::vector<int> used;
  for (int k = 0; k < 5; ++k)
    if (a.col(k).sum() > 0) used.push_back(k);
  Eigen::MatrixXd au(a.rows(), static_cast<Eigen::Index>(used.size()));
  for (std::size_t j = 0; j < used.size(); ++j) au.col(static_cast<Eigen::Index>(j)) = a.col(used[j]);
  const Eigen::VectorXd x = au.colPivHouseholderQr().solve(t);
  double fit[5] = {0, 0, 0, 0, 0};
  for (std::size_t j = 0; j < used.size(); ++j) fit[used[j]] = std::max(1.0, x(static_cast<Eigen::Index>(j)));
  if (ops.size() > 0) c.rms_error_ns = std::sqrt((au * x - t).squaredNorm() / static_cast<double>(ops.size()));

  const double f = fit[column(sim::OpKind::F)];
  const double w = fit[column(sim::OpKind::W)];
  double b = fit[column(sim::OpKind::B)];
  if (b == 0) b = fit[column(sim::OpKind::Bi)] + w;  // split backwards only: B = Bi + W
  double fb = fit[column(sim::OpKind::FB)];
  if (fb == 0) fb = f + b;
  // Keep the table valid: W < B, and a pair no shorter than either half.
  b = std::max(b, w + 1);
  fb = std::max({fb, f, b});
  c.cost = {static_cast<sim::Time>(std::llround(f)), static_cast<sim::Time>(std::llround(b)),
            static_cast<sim::Time>(std::llround(w)), static_cast<sim::Time>(std::llround(fb))};
  return c;
}

sim::Timeline on_own_cores(const sim::Timeline& measured, int cores) {
  if (cores < 1) throw std::invalid_argument("on_own_cores: cores = " + std::to_string(cores) + "; allowed >= 1");
  // The number of ranks computing changes only at interval ends: between two such times each
  // computing rank runs at min(1, cores / k). `done[i]`: a rank's work on its own core from the
  // first change to time `at[i]`, so an interval's work is a difference of two lookups.
  std::vector<std::pair<sim::Time, int>> changes;
  for (const auto& iv : measured.intervals)
    if (iv.lane == sim::Lane::Compute) changes.push_back({iv.start, +1}), changes.push_back({iv.end, -1});
  std::sort(changes.begin(), changes.end());
  std::vector<sim::Time> at;
  std::vector<double> done;
  int running = 0;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (at.empty()) at.push_back(changes[i].first), done.push_back(0);
    else if (changes[i].first != at.back()) {
      const double speed = running > cores ? static_cast<double>(cores) / running : 1.0;
      done.push_back(done.back() + speed * static_cast<double>(changes[i].first - at.back()));
      at.push_back(changes[i].first);
    }
    running += changes[i].second;
  }
  auto work_until = [&](sim::Time t) {
    return done[static_cast<std::size_t>(std::lower_bound(at.begin(), at.end(), t) - at.begin())];
  };
  sim::Timeline out = measured;
  for (auto& iv : out.intervals)
    if (iv.lane == sim::Lane::Compute) iv.end = iv.start + std::llround(work_until(iv.end) - work_until(iv.start));
  return out;
}

Comparison compare_with_simulation(const sim::Schedule& schedule, const sim::Timeline& measured, const Calibration& fit,
                                   int shared_cores) {
  Comparison out;
  sim::SimOptions options;
  options.shared_cores = shared_cores;
  const sim::SimResult predicted = sim::simulate(schedule, sim::CostTable(fit.cost), options);
  out.predicted_step = predicted.metrics.makespan;
  const sim::ComputeSpan span = sim::compute_span(measured, schedule.ranks);
  out.measured_step = span.span();  // from the first op's start
  for (int r = 0; r < schedule.ranks; ++r) {
    out.measured_bubble.push_back(out.measured_step - span.busy[r]);
    out.predicted_bubble.push_back(predicted.metrics.per_rank[r].bubble);
  }
  // Op by op: where each op starts in the prediction against where it started for real.
  std::map<std::pair<int, std::string>, sim::Time> predicted_start;
  const sim::Time predicted_first = sim::compute_span(predicted.timeline, schedule.ranks).start;
  for (const auto& iv : predicted.timeline.intervals)
    if (iv.lane == sim::Lane::Compute) predicted_start[{iv.rank, sim::to_string(iv.op)}] = iv.start - predicted_first;
  double error_sum = 0;
  for (const auto& iv : measured.intervals) {
    if (iv.lane != sim::Lane::Compute) continue;
    auto it = predicted_start.find({iv.rank, sim::to_string(iv.op)});
    if (it == predicted_start.end()) continue;
    const sim::Time error = std::abs(it->second - (iv.start - span.start));
    error_sum += static_cast<double>(error);
    out.max_start_error = std::max(out.max_start_error, error);
    ++out.ops_compared;
  }
  if (out.ops_compared > 0) out.mean_start_error = static_cast<sim::Time>(error_sum / out.ops_compared);
  out.predicted = predicted.timeline;
  out.step_error = out.measured_step > 0
                       ? static_cast<double>(out.predicted_step - out.measured_step) / static_cast<double>(out.measured_step)
                       : 0.0;
  return out;
}

sim::StageCost complete_fit(const sim::StageCost& fitted, const sim::StageCost& model) {
  sim::StageCost c = fitted;
  if (c.w <= 0 && model.b > 0)
    c.w = static_cast<sim::Time>(std::llround(static_cast<double>(c.b) * static_cast<double>(model.w) / static_cast<double>(model.b)));
  c.b = std::max(c.b, c.w + 1);
  if (c.fb <= 0) c.fb = c.f + c.b;
  return c;
}

}  // namespace ppsim::runtime
