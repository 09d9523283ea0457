#pragma once
// One scenario end to end: generate its schedule, simulate it with the roofline cost model on
// the cluster's links, add the end-of-step data-parallel gradient sync and optimizer step,
// find the peak memory per GPU, and price the whole training run.
#include <memory>
#include <vector>

#include "model/collectives.hpp"
#include "model/cost_model.hpp"
#include "model/memory.hpp"
#include "model/scenario.hpp"
#include "sim/engine.hpp"

namespace ppsim::model {

struct RunEstimate {
  double step_seconds = 0, steps = 0, tokens_per_second = 0;
  // Utilization, each labelled by its convention (flops_per_token in work.hpp): model FLOPs
  // with causal attention, or with attention over the whole sequence; hardware FLOPs with
  // recomputation; against the run precision's dense peak or the BF16 dense peak.
  double mfu = 0, mfu_bf16 = 0, mfu_noncausal = 0, mfu_noncausal_bf16 = 0, hfu = 0, hfu_bf16 = 0;
  double model_tflops_per_gpu = 0, hardware_tflops_per_gpu = 0;  // achieved, causal
  double gpu_hours = 0, days = 0, dollars = 0, kwh = 0;
  // Per trillion tokens.
  double gpu_hours_per_t = 0, days_per_t = 0, dollars_per_t = 0, kwh_per_t = 0;
};

// The step, mean over the pipeline ranks, in parts that add up to it: compute kernels,
// communication nothing hides, idle pipeline time, the data-parallel tail beyond the last op,
// and the optimizer.
struct StepBreakdown {
  double compute = 0, exposed_comm = 0, bubble = 0, dp_tail = 0, optimizer = 0;  // seconds
  double total() const { return compute + exposed_comm + bubble + dp_tail + optimizer; }
};

struct StudyResult {
  sim::Schedule schedule;
  sim::SimResult sim;
  sim::Time pipeline = 0;   // the simulated pipeline part of the step
  sim::Time dp_sync = 0;    // gradient reduce-scatter + parameter all-gather across data parallel
  sim::Time optimizer = 0;  // the optimizer step (memory-bound)
  std::vector<sim::Time> exposed_comm;  // per rank: all-to-all / TP time not hidden + P2P waits
  std::vector<MemoryBreakdown> memory;  // per pipeline rank
  MemoryBreakdown peak_memory;          // the fullest rank
  bool fits = true;                     // peak memory within the GPU's HBM
  RunEstimate run;
  StepBreakdown breakdown;
  // Per micro-batch, per stage: each kind of communication (bytes per GPU, algorithm, link).
  std::vector<std::vector<CommSummary>> comm;
  std::vector<ComputeSummary> compute;  // per stage, per micro-batch: compute by kernel class
  // The end-of-step sync of the fullest rank (each half: the reduce-scatter; the all-gather
  // moves the same again), dense and routed experts.
  CollectiveCost dense_sync, expert_sync;
  std::vector<int> stage_layers;  // transformer layers per schedule stage
};

struct StudyOptions {
  bool record_timeline = false;
  // Ops as phase programs (sim/phases.hpp); off: each op takes the cost model's duration()
  // ("max of compute and communication" for F&B pairs).
  bool phases = true;
  // Transfers and communication phases as max-min flows on the cluster's fat tree
  // (model/topology.hpp, model/placement.hpp); off: private per-rank channels and links.
  bool network = true;
  // The scenario's schedule, made already (a sweep reuses one per pipeline shape); null: make it.
  // Only for kinds whose order does not depend on the costs (not sim::plans_for_costs).
  std::shared_ptr<const sim::Schedule> schedule;
  bool own_schedule = false;  // `schedule` is the user's (a file): used whatever the scenario's kind
  // A lower bound instead (sim/bound_costs.hpp): a step no longer than the one simulated with
  // these options, and the exact peak memory. Simulated: each op at its bound, simply simulated;
  // Busy: the busiest rank's ops back to back, no simulation (cruder, far cheaper).
  enum class Bound { None, Simulated, Busy } bound = Bound::None;
  // Shares simulations with equal inputs between calls (a sweep's plans); null: none.
  class SimulationCache* cache = nullptr;
};

StudyResult run_study(const Scenario& s, const StudyOptions& options = {});

}  // namespace ppsim::model
