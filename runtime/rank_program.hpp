#pragma once
// One rank's walk through its ops, the same for every backend: which tensors an op waits for,
// where its outputs go, what it keeps for later ops (activations until W, gradients of stages
// on this same rank). A Backend supplies the tensors, the stage math and the clock:
//   Tensor, Stage, Saved                      types
//   Stage make_stage(int stage)              the parameters of a stage, gradients zeroed
//   Tensor input(int mb)                      stage 0's input of a micro-batch
//   Tensor forward(Stage&, Tensor x, Saved&)  (x is handed over: it is kept for the backward)
//   Tensor loss_grad(int mb, const Tensor& y) adds the loss up, returns dY of the last stage
//   Tensor input_grad(const Stage&, Tensor dy, Saved&)  (dY is kept for W)
//   void weight_grad(Stage&, Saved&)
//   void begin(const sim::Op&), end(const sim::Op&)   the measured interval of an op's compute
// CPU: executor.cpp (Eigen, threads). CUDA: cuda_executor.cpp (our kernels, cuBLAS, streams).
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/transport.hpp"
#include "sim/schedule.hpp"

namespace ppsim::runtime {

template <class Backend>
class RankProgram {
 public:
  using Tensor = typename Backend::Tensor;
  using Stage = typename Backend::Stage;
  using Saved = typename Backend::Saved;
  using CopyKey = std::pair<int, bool>;  // (stage, second direction of a bidirectional schedule)

  RankProgram(const sim::Schedule& s, int rank, Backend& backend, Transport<Tensor>& net, std::chrono::milliseconds timeout)
      : s_(s), rank_(rank), be_(backend), net_(net), timeout_(timeout) {}

  // Runs every op of this rank in order; throws with the rank, the op and the peer on a deadline.
  void run(const std::atomic<bool>& abort) {
    const auto& ops = s_.per_rank[rank_];
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const sim::Op& op = ops[i];
      if (abort.load()) throw Aborted();
      Tensor x{}, dy{};
      if (op.kind == sim::OpKind::F || op.kind == sim::OpKind::FB) x = forward_input(op, op.mb, op.stage);
      if (op.kind == sim::OpKind::B || op.kind == sim::OpKind::Bi) dy = backward_input(op, op.mb, op.stage);
      if (op.kind == sim::OpKind::FB) dy = backward_input(op, op.b_mb, op.b_stage);
      // Inputs first, then the measured compute: waiting shows as the bubble before the op.
      be_.begin(op);
      switch (op.kind) {
        case sim::OpKind::F: forward(op.mb, op.stage, std::move(x)); break;
        case sim::OpKind::B: backward(op.mb, op.stage, std::move(dy), true); break;
        case sim::OpKind::Bi: backward(op.mb, op.stage, std::move(dy), false); break;
        case sim::OpKind::W: weight(op.mb, op.stage); break;
        case sim::OpKind::FB:  // one op: the forward half, then the other micro-batch's backward half
          forward(op.mb, op.stage, std::move(x));
          backward(op.b_mb, op.b_stage, std::move(dy), op.b_kind == sim::OpKind::B);
          break;
      }
      be_.end(op);
      net_.end_op(rank_, i + 1 < ops.size() ? remote_inputs(ops[i + 1]) : std::vector<Expected>{});
    }
    net_.flush(rank_);
  }

  // The tensors `op` receives from other ranks (not the ones this rank made itself).
  std::vector<Expected> remote_inputs(const sim::Op& op) const {
    std::vector<Expected> out;
    auto need = [&](Tag tag, int from_stage) {
      const int peer = s_.rank_of(tag.mb, from_stage);
      if (peer != rank_) out.push_back({peer, tag});
    };
    if ((op.kind == sim::OpKind::F || op.kind == sim::OpKind::FB) && op.stage > 0) need(Tag{false, op.mb, op.stage - 1}, op.stage - 1);
    if ((op.kind == sim::OpKind::B || op.kind == sim::OpKind::Bi) && op.stage + 1 < s_.stages)
      need(Tag{true, op.mb, op.stage + 1}, op.stage + 1);
    if (op.kind == sim::OpKind::FB && op.b_stage + 1 < s_.stages) need(Tag{true, op.b_mb, op.b_stage + 1}, op.b_stage + 1);
    return out;
  }

  // This rank's copies of its stages (a DualPipe rank holds two, one per direction).
  std::map<CopyKey, Stage>& copies() { return copies_; }

 private:
  using Key = std::pair<int, int>;  // (micro-batch, stage)

  bool second(int mb) const { return s_.bidirectional() && mb >= s_.first_reverse_mb; }
  Stage& params(int mb, int stage) {
    auto it = copies_.find({stage, second(mb)});
    if (it == copies_.end()) it = copies_.emplace(CopyKey{stage, second(mb)}, be_.make_stage(stage)).first;
    return it->second;
  }

  Tensor receive(const sim::Op& op, Tag tag, int from_stage) {
    const int peer = s_.rank_of(tag.mb, from_stage);
    if (peer == rank_) {
      auto& store = tag.grad ? local_grad_ : local_out_;
      auto it = store.find({tag.mb, from_stage});
      if (it == store.end())
        throw std::runtime_error("rank " + std::to_string(rank_) + ": " + sim::to_string(op) + " needs the " +
                                 (tag.grad ? "gradient" : "activation") + " of stage " + std::to_string(from_stage) +
                                 " on this rank, which has not run yet");
      Tensor m = std::move(it->second);
      store.erase(it);
      return m;
    }
    try {
      return net_.recv(rank_, peer, tag);
    } catch (const TimedOut&) {
      throw std::runtime_error("rank " + std::to_string(rank_) + ": " + sim::to_string(op) + " waited " +
                               std::to_string(timeout_.count()) + " ms for the " + (tag.grad ? "gradient" : "activation") +
                               " of micro-batch " + std::to_string(tag.mb) + " from stage " + std::to_string(from_stage) +
                               " on rank " + std::to_string(peer) + ": deadline passed");
    }
  }

  void deliver(Tag tag, int to_stage, Tensor m) {
    const int peer = s_.rank_of(tag.mb, to_stage);
    if (peer == rank_) (tag.grad ? local_grad_ : local_out_)[{tag.mb, tag.stage}] = std::move(m);
    else net_.send(rank_, peer, tag, std::move(m));
  }

  Tensor forward_input(const sim::Op& op, int mb, int st) {
    return st == 0 ? be_.input(mb) : receive(op, Tag{false, mb, st - 1}, st - 1);
  }

  Tensor backward_input(const sim::Op& op, int mb, int st) {
    if (st + 1 < s_.stages) return receive(op, Tag{true, mb, st + 1}, st + 1);
    auto it = loss_grad_.find(mb);
    if (it == loss_grad_.end())
      throw std::runtime_error("rank " + std::to_string(rank_) + ": " + sim::to_string(op) + " runs before the forward of micro-batch " +
                               std::to_string(mb) + " on the last stage");
    Tensor dy = std::move(it->second);
    loss_grad_.erase(it);
    return dy;
  }

  void forward(int mb, int st, Tensor x) {
    Tensor y = be_.forward(params(mb, st), std::move(x), saved_[{mb, st}]);
    if (st + 1 == s_.stages) loss_grad_[mb] = be_.loss_grad(mb, y);
    else deliver(Tag{false, mb, st}, st + 1, std::move(y));
  }

  void backward(int mb, int st, Tensor dy, bool with_weights) {
    Tensor dx = be_.input_grad(params(mb, st), std::move(dy), saved_.at({mb, st}));
    if (with_weights) weight(mb, st);
    if (st > 0) deliver(Tag{true, mb, st}, st - 1, std::move(dx));
  }

  void weight(int mb, int st) {
    auto it = saved_.find({mb, st});
    if (it == saved_.end())
      throw std::runtime_error("rank " + std::to_string(rank_) + ": the weight grads of micro-batch " + std::to_string(mb) +
                               " on stage " + std::to_string(st) + " come before its backward");
    be_.weight_grad(params(mb, st), it->second);
    saved_.erase(it);  // the activations are freed once the weight grads are done
  }

  const sim::Schedule& s_;
  int rank_;
  Backend& be_;
  Transport<Tensor>& net_;
  std::chrono::milliseconds timeout_;
  std::map<CopyKey, Stage> copies_;
  std::map<Key, Saved> saved_;
  std::map<Key, Tensor> local_out_, local_grad_;  // tensors for a stage on this same rank
  std::map<int, Tensor> loss_grad_;              // dY of the last stage, per micro-batch
};

// The messages `src` sends to `dst`, in the order it sends them (its program order). A
// transport that cannot match by tag, such as NCCL, receives in this order and stashes.
inline std::vector<Tag> messages_between(const sim::Schedule& s, int src, int dst) {
  std::vector<Tag> out;
  auto forward = [&](int mb, int st) {
    if (st + 1 < s.stages && s.rank_of(mb, st + 1) == dst && dst != src) out.push_back(Tag{false, mb, st});
  };
  auto backward = [&](int mb, int st) {
    if (st > 0 && s.rank_of(mb, st - 1) == dst && dst != src) out.push_back(Tag{true, mb, st});
  };
  for (const sim::Op& op : s.per_rank[src]) {
    if (op.kind == sim::OpKind::F || op.kind == sim::OpKind::FB) forward(op.mb, op.stage);
    if (op.kind == sim::OpKind::B || op.kind == sim::OpKind::Bi) backward(op.mb, op.stage);
    if (op.kind == sim::OpKind::FB) backward(op.b_mb, op.b_stage);
  }
  return out;
}

// Runs fn(rank) on one thread per rank. The first failure sets `abort`, so the other ranks stop
// at their next wait, and is rethrown once every thread has joined.
inline void run_rank_threads(int ranks, std::atomic<bool>& abort, const std::function<void(int)>& fn) {
  std::mutex error_mutex;
  std::string first_error;
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      try {
        fn(r);
      } catch (const Aborted&) {
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        if (first_error.empty()) first_error = e.what();
        abort = true;
      }
    });
  for (auto& t : threads) t.join();
  if (!first_error.empty()) throw std::runtime_error(first_error);
}

}  // namespace ppsim::runtime
