// The greedy zero-bubble scheduler (see zb_greedy.hpp), rule for rule as the reference
// applies them, so its orders match op for op (tests/golden/zb_orders.json).
#include "sim/generators/zb_greedy.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <sstream>
#include <string>

#include "sim/costs.hpp"
#include "sim/generators/builders.hpp"

namespace ppsim::sim {

ZbGreedyOptions zb_options_for(const StageCost& c, double comm_ns, double pending) {
  ZbGreedyOptions o;
  o.f = static_cast<double>(c.f);
  o.b = static_cast<double>(c.b - c.w);  // the scheduler's B is the input-grad backward
  o.w = static_cast<double>(c.w);
  o.comm = comm_ns;
  o.pending = pending;
  return o;
}

}  // namespace ppsim::sim

namespace ppsim::sim::gen {

namespace {

enum Type { kF = 0, kB = 1, kW = 2 };

// One pass of the greedy rules with one choice of its three switches.
class Greedy {
 public:
  Greedy(int stages, int microbatches, const ZbGreedyOptions& o)
      : P_(stages), M_(microbatches), o_(o), done_(3, std::vector<int>(stages, 0)),
        end_(3 * static_cast<std::size_t>(stages) * microbatches, 0), e_(stages, 0), m_(stages, 0), bubble_(stages, 0),
        limit_((o.pending >= 0 ? o.pending : 2 * stages) * o.mem_f) {}

  // Returns the longest stage span (first F's start to last W's end); throws when memory
  // cannot be freed for the next op.
  double run(bool bubble_before_first_b, bool prioritize_b, bool greedy_when_bubble_allowed) {
    for (int i = 0; i < M_; ++i) {
      if (i == 0) {
        first_microbatch(bubble_before_first_b);
        continue;
      }
      std::vector<int> want(P_, 0);
      for (int j = 0; j < P_; ++j) {
        if (done_[kF][j] >= M_) continue;
        if (j + 1 < P_ && done_[kF][j] >= done_[kF][j + 1] + 2 && prioritize_b) {
          const double next = e_[j + 1] + cost(kF) + cost(kB) + o_.comm;  // stage j+1's next F and B
          if (e_[j] >= next) continue;
          double w_cost = 0, mem = m_[j] + mem_of(kF);
          for (int k = 0; mem > limit_ && done_[kW][j] + k < done_[kB][j]; ++k) w_cost += cost(kW), mem += mem_of(kW);
          if (e_[j] + cost(kF) + w_cost <= next) {
            want[j] = 1;
            continue;
          }
          if (next - e_[j] <= max_bubble() - bubble_[j]) continue;
        }
        want[j] = 1;
      }
      for (int j = P_ - 2; j >= 0; --j) want[j] = std::min(want[j], want[j + 1]);
      for (int j = 0; j < P_; ++j) {
        if (!want[j]) continue;
        free_memory_for(j, kF);
        if (j > 0) fill_with_w(j, at(kF, j - 1, done_[kF][j]) + o_.comm, greedy_when_bubble_allowed);
        put(j, kF);
      }
      for (int j = P_ - 1; j >= 0; --j) {
        free_memory_for(j, kB);
        if (j + 1 < P_) fill_with_w(j, at(kB, j + 1, i) + o_.comm, greedy_when_bubble_allowed);
        if (j == 0 && done_[kF][j] == M_)
          while (done_[kW][j] < done_[kB][j]) put(j, kW);
        put(j, kB);
      }
    }
    for (int j = 0; j < P_; ++j)
      while (done_[kW][j] < M_) put(j, kW);
    double span = 0;
    for (int j = 0; j < P_; ++j) span = std::max(span, at(kW, j, M_ - 1) - at(kF, j, 0) + cost(kF));
    return span;
  }

  // Each stage's ops by completion time; ties keep the order F (by micro-batch), B, W.
  std::vector<std::vector<Op>> orders() const {
    std::vector<std::vector<Op>> out(P_);
    for (int j = 0; j < P_; ++j) {
      std::vector<std::pair<double, Op>> ops;
      for (int type : {kF, kB, kW})
        for (int mb = 0; mb < M_; ++mb)
          ops.emplace_back(at(type, j, mb), type == kF   ? Op::forward(mb, j)
                                            : type == kB ? Op::backward_input(mb, j)
                                                         : Op::weight(mb, j));
      std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (const auto& [t, op] : ops) out[j].push_back(op);
    }
    return out;
  }

 private:
  double cost(int type) const { return type == kF ? o_.f : type == kB ? o_.b : o_.w; }
  double mem_of(int type) const { return type == kF ? o_.mem_f : type == kB ? o_.mem_b : o_.mem_w; }
  std::size_t id(int type, int stage, int mb) const {
    return (static_cast<std::size_t>(type) * P_ + stage) * static_cast<std::size_t>(M_) + mb;
  }
  double at(int type, int stage, int mb) const { return end_[id(type, stage, mb)]; }
  double max_bubble() const { return *std::max_element(bubble_.begin(), bubble_.end()); }

  // Runs the next op of `type` on stage j as early as its stage and its input allow.
  void put(int j, int type) {
    const int mb = done_[type][j];
    const double free_at = e_[j] + cost(type);
    double end = free_at;
    if (type == kF && j > 0) end = std::max(end, at(kF, j - 1, mb) + o_.comm + cost(type));
    if (type == kB && j + 1 < P_) end = std::max(end, at(kB, j + 1, mb) + o_.comm + cost(type));
    if (done_[kF][j] > 0) bubble_[j] += end - free_at;
    e_[j] = end;
    end_[id(type, j, mb)] = end;
    m_[j] += mem_of(type);
    ++done_[type][j];
  }

  std::string limit_text() const {
    std::ostringstream t;
    t << (o_.pending >= 0 ? o_.pending : 2.0 * P_);
    return t.str();
  }

  // Weight grads until the next op of `type` fits the memory limit.
  void free_memory_for(int j, int type) {
    while (m_[j] + mem_of(type) > limit_) {
      if (done_[kW][j] >= done_[kB][j])
        throw std::invalid_argument("zb2p: cannot fit memory: stage " + std::to_string(j) + " needs more than " +
                                    limit_text() +
                                    " forwards' activations with no weight grad left to free any");
      put(j, kW);
    }
  }

  // While the stage waits for its input (ready at `ready`), weight grads that fit the gap; a
  // last one into a smaller gap unless the gap is a bubble the stage can afford.
  void fill_with_w(int j, double ready, bool greedy) {
    while (done_[kW][j] < done_[kB][j] && e_[j] + cost(kW) <= ready) put(j, kW);
    if (done_[kW][j] < done_[kB][j] && e_[j] < ready) {
      if (ready - e_[j] <= max_bubble() - bubble_[j]) {
        if (greedy) put(j, kW);
      } else {
        put(j, kW);
      }
    }
  }

  // Micro-batch 0: its F everywhere, as many extra warm-up forwards per stage as fit before
  // its B comes back (within memory), trimmed so no stage runs more than the one before it,
  // then B0 from the last stage back.
  void first_microbatch(bool bubble_before_first_b) {
    for (int j = 0; j < P_; ++j) put(j, kF);
    std::vector<int> extra(P_, 0);
    double last = 0;
    for (int j = P_ - 1; j >= 0; --j) {
      if (j == P_ - 1) {
        last = at(kF, j, 0) + cost(kB);
        continue;
      }
      double mem = m_[j], t = e_[j];
      while (done_[kF][j] + extra[j] < M_ && mem + mem_of(kF) <= limit_) {
        if (bubble_before_first_b ? t + cost(kF) > last + o_.comm : t >= last + o_.comm) break;
        mem += mem_of(kF);
        t += cost(kF);
        ++extra[j];
      }
      last = std::max(t, last + o_.comm) + cost(kB);
    }
    for (int j = 1; j < P_; ++j)
      while (extra[j] > 0 && extra[j] >= extra[j - 1] && done_[kF][j] + extra[j] < M_) --extra[j];
    for (int j = 0; j < P_; ++j)
      for (int k = 0; k < extra[j]; ++k) put(j, kF);
    for (int j = P_ - 1; j >= 0; --j) put(j, kB);
  }

  int P_, M_;
  ZbGreedyOptions o_;
  std::vector<std::vector<int>> done_;  // [type][stage]: ops placed
  std::vector<double> end_;             // completion time of every op
  std::vector<double> e_, m_, bubble_;  // per stage: free at, memory held, idle time after its first F
  double limit_;
};

}  // namespace

Schedule zb_greedy(int ranks, int microbatches, const ZbGreedyOptions& o) {
  double best = std::numeric_limits<double>::infinity();
  std::vector<std::vector<Op>> order;
  for (bool bubble_before_first_b : {true, false})
    for (bool prioritize_b : {true, false})
      for (bool greedy : {true, false}) {
        Greedy g(ranks, microbatches, o);  // a variant that cannot fit refuses the request, as in the reference
        const double span = g.run(bubble_before_first_b, prioritize_b, greedy);
        if (span < best) best = span, order = g.orders();
      }
  Schedule s{"zb2p", ranks, ranks, microbatches, identity_placement(ranks), {}, microbatches, {}};
  s.per_rank = std::move(order);
  return s;
}

}  // namespace ppsim::sim::gen
