#pragma once
// What-if cluster sizing: enumerate parallel plans for a model over candidate GPUs and GPU
// counts, drop the infeasible ones (counted by reason), evaluate the survivors with the
// discrete-event simulator on all cores, priced as simulate prices them (phases and the
// fabric), rank them and find the time-vs-cost Pareto front.
//
// Screening (on when `screen_top` > 0): every plan first gets a lower bound on its step and its
// exact memory from a simple simulation (sim/bound_costs.hpp); then plans are simulated in full
// in the order of their bounds, a fixed batch at a time, until every plan left provably stays
// out of the answer: out of the top `screen_top` (that many plans are already faster than its
// bound), off the Pareto front (a plan is already faster and no dearer than its bound) and
// neither the fastest nor the cheapest of its GPU. Those keep their bounds, marked as such.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/study.hpp"

namespace ppsim::model {

struct SizingRequest {
  std::string model;
  std::string tokens;                 // "" = the model's plan
  std::vector<std::string> gpus;      // "" = the model's published GPU
  int min_gpus = 512, max_gpus = 8192;  // powers of two in between (and the bounds)
  std::vector<std::string> kinds;     // empty = every schedule kind
  std::vector<int> tps = {1, 2, 4, 8}, pps = {1, 2, 4, 8, 16, 32}, microbatch_sizes = {1, 2};
  std::vector<int> eps = {1, 8, 16, 32, 64, 128};  // MoE models only
  std::vector<int> cps = {1};              // context-parallel sizes to try
  std::vector<int> comm_sms = {-1};        // SMs for communication; -1: the scenario's default
  std::vector<int> stages_per_rank = {2};  // interleaved-1f1b only
  double max_days = 0, max_usd = 0;   // 0: no limit
  double memory_headroom = 0;         // keep this fraction of HBM free
  StudyOptions study;                 // as simulate: phases and the fabric
  int screen_top = 0;                 // > 0: screen by lower bounds for an answer of this many rows
  int threads = 0;                    // 0: all cores
  int shard = 0, shards = 1;          // evaluate configurations with id % shards == shard
  // Refuse a plan whose memory without activations (weights, gradients, optimizer states,
  // workspace) already exceeds the usable HBM, before simulating it: activations only add,
  // so this never drops a plan that fits (a test compares with the sweep that simulates all).
  bool prune_static_memory = true;
  Overrides base;                     // plan flags applied to every candidate (e.g. --sp, --zero 3)
};

struct SizingConfig {
  int id = 0;  // position in the enumeration (the same on every machine)
  std::string gpu, kind;
  int gpus = 0, tp = 1, pp = 1, ep = 1, microbatch_size = 1;
  int comm_sms = -1, stages_per_rank = 0;
  int cp = 1;
};

struct SizingRow {
  SizingConfig config;
  double days = 0, gpu_hours = 0, dollars = 0, mfu = 0, memory_gib = 0, bubble = 0, step_seconds = 0;
  int dp = 0, microbatches = 0;
  // Priced by its lower bound only (screened out of the answer): days, GPU-hours, dollars and
  // the step are at most the real ones, MFU at least; memory is exact.
  bool bound = false;
};

struct SizingResult {
  std::vector<SizingRow> evaluated;       // in id order
  std::map<std::string, long> infeasible;  // reason -> count
  int configurations = 0;                 // enumerated in this shard
  int simulated = 0;                      // plans simulated in full (the rest of `evaluated` are bounds)
  long shared = 0;                        // simulations (full or bound) taken from an equal plan's
};

std::vector<SizingConfig> enumerate_configs(const SizingRequest& request, const Catalog& catalog);

// The sweep's work, from the option lists alone (nothing enumerated): the plans, and the ops of
// the largest plan's schedule (few GPUs mean many micro-batches per step), to refuse a sweep
// too big for the machine before it starts.
struct SizingWork {
  double plans = 0;
  double max_plan_ops = 0;
};
SizingWork estimate_sizing(const SizingRequest& request, const Catalog& catalog);
// Calls progress(done, total) now and then from the calling thread.
SizingResult run_sizing(const SizingRequest& request, const Catalog& catalog,
                        const std::function<void(int, int)>& progress = {});
// Rows of `evaluated` no other row beats on both days and dollars, fastest first.
std::vector<SizingRow> pareto_front(const std::vector<SizingRow>& evaluated);
// Best first: shortest time to train, then lowest cost, then id.
std::vector<SizingRow> ranked(std::vector<SizingRow> evaluated);
// The reason class of a broken rule, for the infeasible counts.
std::string reason_of(const std::string& error);

}  // namespace ppsim::model
