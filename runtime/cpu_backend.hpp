#pragma once
// The CPU backend of RankProgram (rank_program.hpp): Eigen matrices, the MoeBlock/MlpStage
// math, a steady clock. One per rank, in threads (executor.cpp) or one per process
// (distributed.cpp).
#include <chrono>
#include <vector>

#include "runtime/executor.hpp"
#include "sim/timeline.hpp"

namespace ppsim::runtime {

template <class S>
struct CpuBackend {
  using Tensor = typename MlpStage<S>::Matrix;
  using Stage = MoeBlock<S>;
  using Saved = typename MoeBlock<S>::Saved;
  const ExecOptions& o;
  int rank;
  std::chrono::steady_clock::time_point epoch;
  S loss = 0;
  std::vector<sim::Interval> intervals;
  std::chrono::steady_clock::time_point started{};

  Stage make_stage(int stage) const { return initial_block<S>(o, stage); }
  Tensor input(int mb) const { return microbatch_data<S>(o, mb, false); }
  Tensor forward(const Stage& p, const Tensor& x, Saved& sv) const { return p.forward(x, sv); }  // keeps a copy of x
  Tensor loss_grad(int mb, const Tensor& y) {
    Tensor dy;
    loss += loss_and_grad<S>(y, microbatch_data<S>(o, mb, true), dy);
    return dy;
  }
  Tensor input_grad(const Stage& p, const Tensor& dy, Saved& sv) const { return p.input_grad(dy, sv); }  // keeps dY
  void weight_grad(Stage& p, const Saved& sv) const { p.weight_grad(sv); }
  void begin(const sim::Op&) { started = std::chrono::steady_clock::now(); }
  void end(const sim::Op& op) {
    const auto ns = [&](auto t) { return std::chrono::duration_cast<std::chrono::nanoseconds>(t - epoch).count(); };
    intervals.push_back({rank, sim::Lane::Compute, op, ns(started), ns(std::chrono::steady_clock::now())});
  }
};

}  // namespace ppsim::runtime
