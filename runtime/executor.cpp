#include "runtime/executor.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "runtime/transport.hpp"

namespace ppsim::runtime {

namespace {

template <class S>
using Matrix = typename MlpStage<S>::Matrix;

// Micro-batch data: inputs and targets, the same for the pipelined and the sequential runs.
template <class S>
Matrix<S> data(const ExecOptions& o, int mb, bool target) {
  std::mt19937_64 rng(o.seed * 1000003 + static_cast<std::uint64_t>(mb) * 2 + (target ? 1 : 0));
  std::normal_distribution<double> normal(0.0, 1.0);
  Matrix<S> m(o.rows, o.hidden);
  for (int i = 0; i < o.rows; ++i)
    for (int j = 0; j < o.hidden; ++j) m(i, j) = static_cast<S>(normal(rng));
  return m;
}

template <class S>
MlpStage<S> stage_params(const ExecOptions& o, int stage) {
  return MlpStage<S>::init(o.hidden, o.ffn, o.seed * 7919 + static_cast<std::uint64_t>(stage));
}

void check(const ExecOptions& o) {
  if (o.hidden < 1 || o.hidden > 1 << 14) throw std::invalid_argument("hidden = " + std::to_string(o.hidden) + ": allowed 1..16384");
  if (o.ffn < 1 || o.ffn > 1 << 15) throw std::invalid_argument("ffn = " + std::to_string(o.ffn) + ": allowed 1..32768");
  if (o.rows < 1 || o.rows > 1 << 14) throw std::invalid_argument("rows = " + std::to_string(o.rows) + ": allowed 1..16384");
}

// One rank's worker: its copies of the stages it holds, and what its ops leave for later ops.
template <class S>
struct Worker {
  using Key = std::pair<int, int>;  // (micro-batch, stage)
  const sim::Schedule& s;
  const ExecOptions& o;
  Transport<S>& net;
  int rank;
  std::map<std::pair<int, bool>, MlpStage<S>> copies;  // (stage, second direction) -> parameters
  std::map<Key, typename MlpStage<S>::Saved> saved;
  std::map<Key, Matrix<S>> local_out, local_grad;  // tensors for a stage on this same rank
  std::map<int, Matrix<S>> loss_grad;              // dY of the last stage, per micro-batch
  S loss = 0;
  std::vector<sim::Interval> intervals;

  bool second(int mb) const { return s.bidirectional() && mb >= s.first_reverse_mb; }
  MlpStage<S>& params(int mb, int stage) {
    auto it = copies.find({stage, second(mb)});
    if (it == copies.end()) it = copies.emplace(std::pair{stage, second(mb)}, stage_params<S>(o, stage)).first;
    return it->second;
  }

  Matrix<S> receive(const sim::Op& op, Tag tag, int from_stage) {
    const int peer = s.rank_of(tag.mb, from_stage);
    if (peer == rank) {
      auto& store = tag.grad ? local_grad : local_out;
      auto it = store.find({tag.mb, from_stage});
      if (it == store.end())
        throw std::runtime_error("rank " + std::to_string(rank) + ": " + sim::to_string(op) + " needs the " +
                                 (tag.grad ? "gradient" : "activation") + " of stage " + std::to_string(from_stage) +
                                 " on this rank, which has not run yet");
      Matrix<S> m = std::move(it->second);
      store.erase(it);
      return m;
    }
    try {
      return net.recv(rank, peer, tag);
    } catch (const TimedOut&) {
      throw std::runtime_error("rank " + std::to_string(rank) + ": " + sim::to_string(op) + " waited " +
                               std::to_string(o.timeout.count()) + " ms for the " + (tag.grad ? "gradient" : "activation") +
                               " of micro-batch " + std::to_string(tag.mb) + " from stage " + std::to_string(from_stage) +
                               " on rank " + std::to_string(peer) + ": deadline passed");
    }
  }

  void deliver(Tag tag, int to_stage, Matrix<S> m) {
    const int peer = s.rank_of(tag.mb, to_stage);
    if (peer == rank) (tag.grad ? local_grad : local_out)[{tag.mb, tag.stage}] = std::move(m);
    else net.send(rank, peer, tag, std::move(m));
  }

  // Inputs first (waiting on the transport), then the timed compute: a measured op is its
  // compute, as in the simulator, and the waiting shows as the bubble before it.
  Matrix<S> forward_input(const sim::Op& op, int mb, int st) {
    return st == 0 ? data<S>(o, mb, false) : receive(op, Tag{false, mb, st - 1}, st - 1);
  }

  Matrix<S> backward_input(const sim::Op& op, int mb, int st) {
    if (st + 1 < s.stages) return receive(op, Tag{true, mb, st + 1}, st + 1);
    Matrix<S> dy = std::move(loss_grad.at(mb));
    loss_grad.erase(mb);
    return dy;
  }

  void forward(int mb, int st, const Matrix<S>& x) {
    Matrix<S> y = params(mb, st).forward(x, saved[{mb, st}]);
    if (st + 1 == s.stages) {
      Matrix<S> dy;
      loss += loss_and_grad<S>(y, data<S>(o, mb, true), dy);
      loss_grad[mb] = std::move(dy);
    } else {
      deliver(Tag{false, mb, st}, st + 1, std::move(y));
    }
  }

  void backward(int mb, int st, const Matrix<S>& dy, bool with_weights) {
    auto& sv = saved.at({mb, st});
    Matrix<S> dx = params(mb, st).input_grad(dy, sv);
    if (with_weights) weight(mb, st);
    if (st > 0) deliver(Tag{true, mb, st}, st - 1, std::move(dx));
  }

  void weight(int mb, int st) {
    auto it = saved.find({mb, st});
    params(mb, st).weight_grad(it->second);
    saved.erase(it);  // the activations are freed once the weight grads are done
  }

  void run(const std::atomic<bool>& abort, std::chrono::steady_clock::time_point epoch) {
    for (const sim::Op& op : s.per_rank[rank]) {
      if (abort.load()) throw Aborted();
      Matrix<S> x, dy;
      if (op.kind == sim::OpKind::F || op.kind == sim::OpKind::FB) x = forward_input(op, op.mb, op.stage);
      if (op.kind == sim::OpKind::B || op.kind == sim::OpKind::Bi) dy = backward_input(op, op.mb, op.stage);
      if (op.kind == sim::OpKind::FB) dy = backward_input(op, op.b_mb, op.b_stage);
      const auto start = std::chrono::steady_clock::now();
      switch (op.kind) {
        case sim::OpKind::F: forward(op.mb, op.stage, x); break;
        case sim::OpKind::B: backward(op.mb, op.stage, dy, true); break;
        case sim::OpKind::Bi: backward(op.mb, op.stage, dy, false); break;
        case sim::OpKind::W: weight(op.mb, op.stage); break;
        case sim::OpKind::FB:  // one op: the forward half, then the backward half
          forward(op.mb, op.stage, x);
          backward(op.b_mb, op.b_stage, dy, op.b_kind == sim::OpKind::B);
          break;
      }
      const auto end = std::chrono::steady_clock::now();
      intervals.push_back({rank, sim::Lane::Compute, op,
                           std::chrono::duration_cast<std::chrono::nanoseconds>(start - epoch).count(),
                           std::chrono::duration_cast<std::chrono::nanoseconds>(end - epoch).count()});
    }
  }
};

}  // namespace

template <class S>
ExecResult<S> execute(const sim::Schedule& schedule, const ExecOptions& o) {
  check(o);
  std::atomic<bool> abort{false};
  InProcessTransport<S> net(schedule.ranks, o.mailbox_capacity, o.timeout, abort);
  std::vector<Worker<S>> workers;
  workers.reserve(schedule.ranks);
  for (int r = 0; r < schedule.ranks; ++r) workers.push_back(Worker<S>{schedule, o, net, r, {}, {}, {}, {}, {}, 0, {}});
  std::mutex error_mutex;
  std::string first_error;
  const auto epoch = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int r = 0; r < schedule.ranks; ++r)
    threads.emplace_back([&, r] {
      try {
        workers[r].run(abort, epoch);
      } catch (const Aborted&) {
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        if (first_error.empty()) first_error = e.what();
        abort = true;
      }
    });
  for (auto& t : threads) t.join();
  if (!first_error.empty()) throw std::runtime_error(first_error);

  ExecResult<S> result;
  result.timeline.kind = schedule.kind;
  result.timeline.ranks = schedule.ranks;
  for (int st = 0; st < schedule.stages; ++st) {
    MlpStage<S> sum = stage_params<S>(o, st);
    for (auto& w : workers)
      for (auto& [key, copy] : w.copies)
        if (key.first == st) {
          sum.gw1 += copy.gw1;
          sum.gw2 += copy.gw2;
          sum.gb1 += copy.gb1;
          sum.gb2 += copy.gb2;
        }
    result.stages.push_back(std::move(sum));
  }
  for (auto& w : workers) {
    result.loss += w.loss;
    for (auto& iv : w.intervals) result.timeline.intervals.push_back(iv);
  }
  return result;
}

template <class S>
ExecResult<S> run_sequential(int stages, int microbatches, const ExecOptions& o) {
  check(o);
  ExecResult<S> r;
  for (int st = 0; st < stages; ++st) r.stages.push_back(stage_params<S>(o, st));
  std::vector<typename MlpStage<S>::Saved> saved(stages);
  for (int mb = 0; mb < microbatches; ++mb) {
    Matrix<S> x = data<S>(o, mb, false);
    for (int st = 0; st < stages; ++st) x = r.stages[st].forward(x, saved[st]);
    Matrix<S> dy;
    r.loss += loss_and_grad<S>(x, data<S>(o, mb, true), dy);
    for (int st = stages - 1; st >= 0; --st) {
      dy = r.stages[st].input_grad(dy, saved[st]);
      r.stages[st].weight_grad(saved[st]);
    }
  }
  return r;
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

template ExecResult<float> execute<float>(const sim::Schedule&, const ExecOptions&);
template ExecResult<double> execute<double>(const sim::Schedule&, const ExecOptions&);
template ExecResult<float> run_sequential<float>(int, int, const ExecOptions&);
template ExecResult<double> run_sequential<double>(int, int, const ExecOptions&);
template double max_relative_error<float>(const ExecResult<float>&, const ExecResult<float>&);
template double max_relative_error<double>(const ExecResult<double>&, const ExecResult<double>&);

}  // namespace ppsim::runtime
