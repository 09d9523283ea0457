#pragma once
// From a measured run back to the simulator: fit one cost per op kind to the measured op
// durations (least squares, Eigen), simulate the same schedule with those costs, and compare
// step time and per-rank bubbles both ways.
#include <vector>

#include "sim/costs.hpp"
#include "sim/schedule.hpp"
#include "sim/timeline.hpp"

namespace ppsim::runtime {

struct Calibration {
  sim::StageCost cost;  // fitted F, B, W, FB (Bi = B - W), the same for every stage
  int samples = 0;
  double rms_error_ns = 0;  // of the fit, over the measured ops
};

// Every compute interval of `measured` is one equation: duration = cost of its op kind.
Calibration calibrate(const sim::Timeline& measured);

// The measured run with each compute interval's length replaced by its work on a core of its
// own: while k ranks computed at once on `cores` < k cores, each got cores / k of one. What a
// fit then gives is the cost the engine's shared cores (sim::SimOptions::shared_cores) take.
sim::Timeline on_own_cores(const sim::Timeline& measured, int cores);

struct Comparison {
  sim::Time measured_step = 0, predicted_step = 0;
  std::vector<sim::Time> measured_bubble, predicted_bubble;  // per rank
  double step_error = 0;  // (predicted - measured) / measured
  sim::Timeline predicted;  // the simulated run with the fitted costs
  // Op by op: |predicted start - measured start| (both from the first op's start), over the
  // ops found in both timelines.
  int ops_compared = 0;
  sim::Time mean_start_error = 0, max_start_error = 0;
};

// `shared_cores` > 0: the ranks share that many cores in the simulation (sim::SimOptions), the
// costs being each op's time on a core of its own.
Comparison compare_with_simulation(const sim::Schedule& schedule, const sim::Timeline& measured, const Calibration& fit,
                                   int shared_cores = 0);

// A fit used on another kind (held out): the kinds the fitted run never ran take the
// proportions of `model` (W as its share of B; an F&B pair as F + B on one thread).
sim::StageCost complete_fit(const sim::StageCost& fitted, const sim::StageCost& model);

}  // namespace ppsim::runtime
