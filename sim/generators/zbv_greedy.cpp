// ZB-V as sail-sg/zero-bubble-pipeline-parallelism's runtime builds it for given costs
// (scheduler/zbv.py, PipelineGraph.create_schedule): V placement (rank r holds stages r and
// 2P-1-r), a warm-up of forwards that fits before the first backward comes back, then rounds
// of backwards and forwards per rank, weight grads filling the gaps a rank would otherwise
// idle in; four fill variants, each retried while its largest stage bubble shrinks. Where
// the reference's own assertions fail (no memory left and no W to free it), the request is
// refused. Checked op for op against tests/golden/zbv_cost_orders.json.
#include <algorithm>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/generators/builders.hpp"
#include "sim/generators/zb_greedy.hpp"

namespace ppsim::sim::gen {

namespace {

struct Placed {
  int cat, chunk, mb;  // cat: 0 F, 1 B, 2 W; chunk: 0 and 1 as the scheduler numbers them
};

struct Result {
  std::vector<std::vector<Placed>> order;
  double max_bubble = 0;
};

[[noreturn]] void refuse(const std::string& why) {
  throw std::invalid_argument("zbv-greedy: the scheduler cannot place this request: " + why);
}

class VGreedy {
 public:
  VGreedy(int stages, int microbatches, const ZbGreedyOptions& o)
      : P_(stages), M_(microbatches), o_(o), cost_{o.f, o.b, o.w}, mem_{o.mem_f, o.mem_b, o.mem_w},
        max_mem_((o.pending >= 0 ? o.pending : 2.0 * stages) * o.mem_f) {}

  Result run(bool fill_f, bool fill_b, const std::vector<double>* approved) {
    reset();
    approved_ = approved;
    max_approved_ = -1;
    if (approved)
      for (double a : *approved) max_approved_ = std::max(max_approved_, a);
    warm_up();
    for (int round = 0; round < 2 * M_; ++round) {
      for (int i = 0; i < P_; ++i)
        while (mem_now_[i] + mem_[1] > max_mem_) put_w(i);
      std::vector<int> b0, b1;
      for (int i = 0; i < P_; ++i) {
        if (count_[i][3] >= count_[i][2]) b0.push_back(i);
        else if (i == P_ - 1) b1.push_back(i);
        else if (end(id(1, 1, i + 1, count_[i][3])) >= 0 || count_[i][2] >= M_) b1.push_back(i);
        else b0.push_back(i);
      }
      std::vector<std::pair<int, int>> order;
      for (auto it = b1.rbegin(); it != b1.rend(); ++it) order.emplace_back(*it, 1);
      for (int i : b0) order.emplace_back(i, 0);
      for (const auto& [i, chunk] : order) {
        long long fa = -1;
        if (chunk == 1 && i < P_ - 1) fa = id(1, 1, i + 1, count_[i][3]);
        if (chunk == 0 && i > 0) fa = id(1, 0, i - 1, count_[i][2]);
        fill(i, fa, chunk == 1 || fill_b);
        put(1, chunk, i);
      }
      for (int i = 0; i < P_; ++i) {
        if (count_[i][1] >= M_) continue;
        int item = -1;
        if (count_[i][1] >= count_[i][0]) item = 0;
        else if (i == P_ - 1) item = 1;
        else if (end(id(0, 1, i + 1, count_[i][1])) >= 0) item = 1;
        else if (count_[i][0] < M_ && (i == 0 || end(id(0, 0, i - 1, count_[i][0])) >= 0)) item = 0;
        if (item < 0) continue;
        while (mem_now_[i] + mem_[0] > max_mem_) put_w(i);
        long long fa = -1;
        if (item == 0 && i > 0) fa = id(0, 0, i - 1, count_[i][0]);
        if (item == 1 && i < P_ - 1) fa = id(0, 1, i + 1, count_[i][1]);
        fill(i, fa, fill_f);
        put(0, item, i);
      }
    }
    for (int i = 0; i < P_; ++i)
      while (!pending_[i].empty()) put_w(i);
    Result r{order_, max_bubble(-1)};
    // Retry with this run's bubbles as the approved ones while that lowers the largest.
    if (max_approved_ < 0 || r.max_bubble < max_approved_) {
      const std::vector<double> bubbles = bubble_;
      VGreedy again(P_, M_, o_);
      Result better = again.run(fill_f, fill_b, &bubbles);
      if (better.max_bubble < r.max_bubble) return better;
    }
    return r;
  }

 private:
  void reset() {
    count_.assign(P_, std::vector<int>(6, 0));
    end_.assign(static_cast<std::size_t>(6) * P_ * M_, -1);
    cur_.assign(P_, 0);
    mem_now_.assign(P_, 0);
    bubble_.assign(P_, 0);
    pending_.assign(P_, {});
    order_.assign(P_, {});
  }

  long long id(int cat, int chunk, int stage, int mb) const {
    return ((static_cast<long long>(cat) * 2 + chunk) * P_ + stage) * M_ + mb;
  }
  // The reference indexes a flat list: -1 is its last entry, and an id past the end fails.
  double end(long long i) const {
    const long long n = static_cast<long long>(end_.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) refuse("it looks up an op that does not exist");
    return end_[static_cast<std::size_t>(i)];
  }

  double max_bubble(int stage) const {
    double m = 0;
    for (double b : bubble_) m = std::max(m, b);
    // Without approved bubbles the reference's are all -1, which adds -1 - (-1) = 0.
    if (stage >= 0 && approved_) m = std::max(m, max_approved_ - (*approved_)[stage]);
    return m;
  }

  void put(int cat, int chunk, int stage) {
    const double free_at = cur_[stage] + cost_[cat];
    double t = free_at;
    const int mb = count_[stage][cat * 2 + chunk];
    if (mb >= M_) refuse("stage " + std::to_string(stage) + " has no micro-batch left for the op it chose");
    if (mem_now_[stage] + mem_[cat] > max_mem_) refuse("stage " + std::to_string(stage) + " exceeds its memory limit");
    if (cat > 0 || chunk > 0) {
      const int last = cat * 2 + chunk - 1;
      const long long need = cat < 2 ? id(last / 2, last % 2, stage, mb) : id(1, chunk, stage, mb);
      if (end(need) < 0) refuse("an op would run before its input");
    }
    if (cat < 2 && chunk == 1 && stage < P_ - 1) {
      const double e = end(id(cat, 1, stage + 1, mb));
      if (e < 0) refuse("an op would run before its input");
      t = std::max(t, e + o_.comm + cost_[cat]);
    }
    if (cat < 2 && chunk == 0 && stage > 0) {
      const double e = end(id(cat, 0, stage - 1, mb));
      if (e < 0) refuse("an op would run before its input");
      t = std::max(t, e + o_.comm + cost_[cat]);
    }
    if (count_[stage][0] > 0) bubble_[stage] += t - free_at;
    end_[static_cast<std::size_t>(id(cat, chunk, stage, mb))] = t;
    cur_[stage] = t;
    mem_now_[stage] += mem_[cat];
    order_[stage].push_back({cat, chunk, mb});
    if (cat == 1) pending_[stage].push_back(chunk);
    ++count_[stage][cat * 2 + chunk];
  }

  void put_w(int stage) {
    if (pending_[stage].empty()) refuse("stage " + std::to_string(stage) + " needs memory and has no W to free it");
    const int chunk = pending_[stage].front();
    pending_[stage].pop_front();
    put(2, chunk, stage);
  }

  // Before the op whose input is `fa`: weight grads while they fit the wait; one more when the
  // wait is a bubble the stage cannot afford (and `also` allows it).
  void fill(int i, long long fa, bool also) {
    while (!pending_[i].empty() && fa >= 0 && end(fa) + o_.comm >= cur_[i] + cost_[2]) put_w(i);
    if (!pending_[i].empty() && end(fa) + o_.comm - cur_[i] > max_bubble(i) - bubble_[i] && also) put_w(i);
  }

  void warm_up() {
    for (int i = 0; i < P_; ++i) put(0, 0, i);
    for (int i = P_ - 1; i >= 0; --i) {
      if (i == P_ - 1) {
        put(0, 1, i);
        continue;
      }
      const double back = end(id(0, 1, i + 1, 0)) + o_.comm;
      while (mem_now_[i] + mem_[0] * (2 + i * 2) <= max_mem_ && cur_[i] + cost_[0] <= back && count_[i][0] < M_)
        for (int j = 0; j <= i; ++j) put(0, 0, j);
      put(0, 1, i);
    }
    int chunk = 0;
    for (int i = 1; i < P_; ++i) {
      auto behind = [&] {
        const auto& c = count_[i];
        const auto& prev = count_[i - 1];
        return c[0] + c[1] < prev[0] + prev[1] || (c[1] <= prev[1] && prev[1] < M_);
      };
      for (int guard = 0; behind(); ++guard) {
        if (guard > 4 * M_ + 4) refuse("its warm-up does not converge");
        for (int j = P_ - 1; j >= i; --j)
          if (count_[j][chunk] < M_) put(0, chunk, j);
        chunk = 1 - chunk;
      }
    }
  }

  int P_, M_;
  ZbGreedyOptions o_;
  double cost_[3], mem_[3], max_mem_;
  std::vector<std::vector<int>> count_;
  std::vector<double> end_, cur_, mem_now_, bubble_;
  std::vector<std::deque<int>> pending_;
  std::vector<std::vector<Placed>> order_;
  const std::vector<double>* approved_ = nullptr;
  double max_approved_ = -1;
};

}  // namespace

Schedule zbv_greedy(int ranks, int microbatches, const ZbGreedyOptions& options) {
  Result best;
  bool have = false;
  for (bool fill_b : {true, false})
    for (bool fill_f : {true, false}) {
      Result r = VGreedy(ranks, microbatches, options).run(fill_f, fill_b, nullptr);
      if (!have || r.max_bubble < best.max_bubble) best = std::move(r), have = true;
    }
  Schedule s{"zbv-greedy", ranks, 2 * ranks, microbatches, v_placement(ranks), {}, microbatches, {}};
  for (int r = 0; r < ranks; ++r) {
    const int near = r, far = 2 * ranks - 1 - r;
    auto& ops = s.per_rank.emplace_back();
    for (const Placed& p : best.order[r]) {
      // Forwards: chunk 0 is the first leg; backward and W chunks count the other way.
      const int stage = p.cat == 0 ? (p.chunk == 0 ? near : far) : (p.chunk == 1 ? near : far);
      ops.push_back(p.cat == 0 ? Op::forward(p.mb, stage) : p.cat == 1 ? Op::backward_input(p.mb, stage)
                                                                       : Op::weight(p.mb, stage));
    }
  }
  return s;
}

}  // namespace ppsim::sim::gen
