#pragma once
// How large a validate run's ops are: a stage sized from a model preset (its width, tokens per
// micro-batch, experts and top-k), scaled down only as far as a rank's share of GPU memory and
// an op budget require, so that a GPU op is milliseconds of work and a run takes seconds.
#include <string>
#include <vector>

#include "model/catalog.hpp"
#include "runtime/executor.hpp"
#include "sim/schedule.hpp"

namespace ppsim::cli {

struct StageSize {
  runtime::ExecOptions options;  // hidden, ffn (2 x hidden, the runtime's MLP), rows, experts, top_k
  std::string model;             // the preset it came from; empty: the flags as given
  std::vector<std::string> scaled;  // each change from the model, with its reason
  double f_gflop = 0;            // one F of one stage (its GEMMs)
  double rank_gib = 0;           // a rank's weights, gradients and peak activations, FP32
};

// The FP32 bytes one rank holds: its stage copies' weights and gradients, and its peak
// in-flight micro-batches' activations.
double rank_bytes(const runtime::ExecOptions& options, int copies_per_rank, int peak_in_flight);
double f_gflop(const runtime::ExecOptions& options);
// Stage copies and peak in-flight activations of the busiest rank of `schedule`.
int copies_per_rank(const sim::Schedule& schedule);
int max_peak_in_flight(const sim::Schedule& schedule);

// From the model: experts kept at most 16 (top-k at most half of them), width and tokens halved
// into the runtime's limits (4,096 each), then halved in turn (width first) until a rank fits
// `rank_budget_bytes` and one F is at most `max_f_gflop`. Throws
// std::invalid_argument naming the flag when even the smallest stage does not fit.
StageSize size_from_model(const model::ModelSpec& model, const sim::Schedule& schedule, double rank_budget_bytes,
                          double max_f_gflop);
// The flags' stage, measured the same way.
StageSize size_of(const runtime::ExecOptions& options, const sim::Schedule& schedule);
// Before a run on CPU threads (or a GPU run checked by the CPU's reference): refuses, naming the
// flags, when its threads, memory or arithmetic exceed what this machine class does in minutes
// (sim/work_limit.hpp). `runs`: schedules run (held-out runs every kind); `scalar_bytes`: 4 or
// 8; `cpu_pipeline`: the pipelined run itself is on the CPU (else only the reference is).
void check_cpu_work(const runtime::ExecOptions& options, const sim::Schedule& schedule, int scalar_bytes, int runs,
                    bool cpu_pipeline);
// "width 896, 512 tokens per micro-batch, 16 experts top-8: one F is 26.3 GFLOP, a rank holds 1.2 GiB"
std::string describe(const StageSize& size);

}  // namespace ppsim::cli
