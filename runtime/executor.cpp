#include "runtime/executor.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "runtime/cpu_backend.hpp"
#include "runtime/rank_program.hpp"

namespace ppsim::runtime {

template <class S>
typename MlpStage<S>::Matrix microbatch_data(const ExecOptions& o, int mb, bool target) {
  std::mt19937_64 rng(o.seed * 1000003 + static_cast<std::uint64_t>(mb) * 2 + (target ? 1 : 0));
  std::normal_distribution<double> normal(0.0, 1.0);
  typename MlpStage<S>::Matrix m(o.rows, o.hidden);
  for (int i = 0; i < o.rows; ++i)
    for (int j = 0; j < o.hidden; ++j) m(i, j) = static_cast<S>(normal(rng));
  return m;
}

template <class S>
MlpStage<S> initial_expert(const ExecOptions& o, int stage, int expert) {
  return MlpStage<S>::init(o.hidden, o.ffn,
                           o.seed * 7919 + static_cast<std::uint64_t>(stage) + 104729 * static_cast<std::uint64_t>(expert));
}

template <class S>
MoeBlock<S> initial_block(const ExecOptions& o, int stage) {
  MoeBlock<S> b;
  for (int e = 0; e < o.experts; ++e) b.experts.push_back(initial_expert<S>(o, stage, e));
  b.routing = fixed_routing(o.rows, o.experts, o.top_k, stage);
  return b;
}

void check_options(const ExecOptions& o) {
  if (o.hidden < 1 || o.hidden > 1 << 14) throw std::invalid_argument("hidden = " + std::to_string(o.hidden) + ": allowed 1..16384");
  if (o.ffn < 1 || o.ffn > 1 << 15) throw std::invalid_argument("ffn = " + std::to_string(o.ffn) + ": allowed 1..32768");
  if (o.rows < 1 || o.rows > 1 << 14) throw std::invalid_argument("rows = " + std::to_string(o.rows) + ": allowed 1..16384");
  if (o.experts < 1 || o.experts > 64) throw std::invalid_argument("experts = " + std::to_string(o.experts) + ": allowed 1..64");
  if (o.top_k < 1 || o.top_k > o.experts)
    throw std::invalid_argument("top_k = " + std::to_string(o.top_k) + ": allowed 1.." + std::to_string(o.experts) + " (the experts)");
}

template <class S>
std::vector<MlpStage<S>> sum_stage_copies(const ExecOptions& o, int stages,
                                          const std::vector<std::pair<int, const MlpStage<S>*>>& copies) {
  std::vector<MlpStage<S>> sum;
  for (int st = 0; st < stages; ++st)
    for (int e = 0; e < o.experts; ++e) sum.push_back(initial_expert<S>(o, st, e));
  for (const auto& [st, copy] : copies) {
    sum.at(st).gw1 += copy->gw1;
    sum.at(st).gw2 += copy->gw2;
    sum.at(st).gb1 += copy->gb1;
    sum.at(st).gb2 += copy->gb2;
  }
  return sum;
}

template <class S>
using Matrix = typename MlpStage<S>::Matrix;

template <class S>
ExecResult<S> execute(const sim::Schedule& schedule, const ExecOptions& o) {
  std::atomic<bool> abort{false};  // the options are checked by the overload below
  InProcessTransport<Matrix<S>> net(schedule.ranks, o.mailbox_capacity, o.timeout, abort);
  return execute<S>(schedule, o, net, abort);
}

template <class S>
ExecResult<S> execute(const sim::Schedule& schedule, const ExecOptions& o, Transport<Matrix<S>>& net, std::atomic<bool>& abort) {
  check_options(o);
  const auto epoch = std::chrono::steady_clock::now();
  std::vector<CpuBackend<S>> backends;
  std::vector<RankProgram<CpuBackend<S>>> programs;
  backends.reserve(schedule.ranks);
  programs.reserve(schedule.ranks);
  for (int r = 0; r < schedule.ranks; ++r) {
    backends.push_back(CpuBackend<S>{o, r, epoch, 0, {}, {}});
    programs.emplace_back(schedule, r, backends.back(), net, o.timeout);
  }
  run_rank_threads(schedule.ranks, abort, [&](int r) { programs[r].run(abort); });

  ExecResult<S> result;
  result.timeline.kind = schedule.kind;
  result.timeline.ranks = schedule.ranks;
  std::vector<std::pair<int, const MlpStage<S>*>> copies;
  for (auto& program : programs)
    for (auto& [key, block] : program.copies())
      for (int e = 0; e < o.experts; ++e) copies.emplace_back(key.first * o.experts + e, &block.experts[e]);
  result.stages = sum_stage_copies<S>(o, schedule.stages, copies);
  for (auto& b : backends) {
    result.loss += b.loss;
    for (auto& iv : b.intervals) result.timeline.intervals.push_back(iv);
  }
  return result;
}

template <class S>
ExecResult<S> run_sequential(int stages, int microbatches, const ExecOptions& o) {
  check_options(o);
  ExecResult<S> r;
  std::vector<MoeBlock<S>> blocks;
  for (int st = 0; st < stages; ++st) blocks.push_back(initial_block<S>(o, st));
  std::vector<typename MoeBlock<S>::Saved> saved(stages);
  for (int mb = 0; mb < microbatches; ++mb) {
    Matrix<S> x = microbatch_data<S>(o, mb, false);
    for (int st = 0; st < stages; ++st) x = blocks[st].forward(x, saved[st]);
    Matrix<S> dy;
    r.loss += loss_and_grad<S>(x, microbatch_data<S>(o, mb, true), dy);
    for (int st = stages - 1; st >= 0; --st) {
      dy = blocks[st].input_grad(dy, saved[st]);
      blocks[st].weight_grad(saved[st]);
    }
  }
  for (auto& b : blocks)
    for (auto& e : b.experts) r.stages.push_back(std::move(e));
  return r;
}

ExecResult<double> to_double(const ExecResult<float>& f) {
  ExecResult<double> d;
  d.loss = f.loss;
  for (const auto& st : f.stages) {
    MlpStage<double> w;
    w.w1 = st.w1.cast<double>();
    w.w2 = st.w2.cast<double>();
    w.b1 = st.b1.cast<double>();
    w.b2 = st.b2.cast<double>();
    w.gw1 = st.gw1.cast<double>();
    w.gw2 = st.gw2.cast<double>();
    w.gb1 = st.gb1.cast<double>();
    w.gb2 = st.gb2.cast<double>();
    d.stages.push_back(std::move(w));
  }
  d.timeline = f.timeline;
  return d;
}

template <class S>
double max_relative_error(const ExecResult<S>& a, const ExecResult<S>& b) {
  auto rel = [](const auto& x, const auto& y) {
    const double scale = std::max(static_cast<double>(y.cwiseAbs().maxCoeff()), 1e-300);
    return static_cast<double>((x - y).cwiseAbs().maxCoeff()) / scale;
  };
  double worst = std::abs(static_cast<double>(a.loss - b.loss)) / std::max(std::abs(static_cast<double>(b.loss)), 1e-300);
  if (a.stages.size() != b.stages.size()) return INFINITY;
  for (std::size_t st = 0; st < a.stages.size(); ++st) {
    worst = std::max({worst, rel(a.stages[st].gw1, b.stages[st].gw1), rel(a.stages[st].gw2, b.stages[st].gw2),
                      rel(a.stages[st].gb1, b.stages[st].gb1), rel(a.stages[st].gb2, b.stages[st].gb2)});
  }
  return worst;
}

template MlpStage<float>::Matrix microbatch_data<float>(const ExecOptions&, int, bool);
template MlpStage<double>::Matrix microbatch_data<double>(const ExecOptions&, int, bool);
template MlpStage<float> initial_expert<float>(const ExecOptions&, int, int);
template MlpStage<double> initial_expert<double>(const ExecOptions&, int, int);
template MoeBlock<float> initial_block<float>(const ExecOptions&, int);
template MoeBlock<double> initial_block<double>(const ExecOptions&, int);
template std::vector<MlpStage<float>> sum_stage_copies<float>(const ExecOptions&, int,
                                                              const std::vector<std::pair<int, const MlpStage<float>*>>&);
template std::vector<MlpStage<double>> sum_stage_copies<double>(const ExecOptions&, int,
                                                                const std::vector<std::pair<int, const MlpStage<double>*>>&);
template ExecResult<float> execute<float>(const sim::Schedule&, const ExecOptions&);
template ExecResult<double> execute<double>(const sim::Schedule&, const ExecOptions&);
template ExecResult<float> execute<float>(const sim::Schedule&, const ExecOptions&, Transport<Matrix<float>>&, std::atomic<bool>&);
template ExecResult<double> execute<double>(const sim::Schedule&, const ExecOptions&, Transport<Matrix<double>>&,
                                            std::atomic<bool>&);
template ExecResult<float> run_sequential<float>(int, int, const ExecOptions&);
template ExecResult<double> run_sequential<double>(int, int, const ExecOptions&);
template double max_relative_error<float>(const ExecResult<float>&, const ExecResult<float>&);
template double max_relative_error<double>(const ExecResult<double>&, const ExecResult<double>&);

}  // namespace ppsim::runtime
