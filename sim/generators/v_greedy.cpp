// V-Half and V-Min ("Pipeline Parallelism with Controllable Memory", Qi et al. 2024) as
// sail-sg/zero-bubble-pipeline-parallelism builds them (scheduler/zbv_greedy.py, what its
// runtime runs for --zero-bubble-v-schedule-mem-setup half|min): each rank starts from a
// stable repeating pattern of slots for its two forwards and two input-grad backwards (V
// placement: rank r holds stages r and 2P-1-r), weight grads fill the idle slots, and two
// greedy passes pull every op as early as its dependencies and the pattern's peak memory
// allow. The order follows the reference's rules step for step (tests/golden/zbv_greedy_orders.json).
#include <algorithm>
#include <limits>
#include <vector>

#include "sim/generators/builders.hpp"

namespace ppsim::sim::gen {

namespace {

using Slot = long long;
// Per rank: slot of each (type, micro-batch). Types: 0 F of the first leg, 1 F of the second,
// 2 B of the second leg (it comes back first), 3 B of the first, 4 (and 5) W.
using Lists = std::vector<std::vector<Slot>>;

constexpr Slot kNone = std::numeric_limits<Slot>::max();

Slot last_of(const Lists& lists) {
  Slot bound = -1;
  for (const auto& l : lists)
    if (!l.empty()) bound = std::max(bound, l.back());
  return bound;
}

// Weight grads into idle slots: one per backward seen so far, the earliest idle slot first
// (split: W of the second leg and W of the first kept apart), the rest after the last slot.
void put_w(Lists& s, bool split) {
  const Slot bound = last_of(s);
  s.resize(split ? 6 : 5);
  int pending[2] = {0, 0};
  std::size_t p[4] = {0, 0, 0, 0};
  Slot i = 0;
  for (; i <= bound; ++i) {
    Slot best = kNone;
    int type = -1;
    for (int t = 0; t < 4; ++t)
      if (p[t] < s[t].size() && s[t][p[t]] < best) best = s[t][p[t]], type = t;
    if (best == i) {
      ++p[type];
      if (type >= 2) ++pending[split ? type - 2 : 0];
    } else {
      for (int w = 0; w < 2; ++w)
        if (pending[w]) {
          s[4 + w].push_back(i);
          --pending[w];
          break;
        }
    }
  }
  --i;
  for (int w = 0; w < 2; ++w)
    while (pending[w] > 0) s[4 + w].push_back(++i), --pending[w];
}

// Peak activation count of one rank's slots (forwards +1, W -1; without W lists, a backward
// frees one at the next idle slot).
long long memory_of(const Lists& s) {
  static const int delta[5] = {1, 1, 0, 0, -1};
  const bool has_w = s.size() > 4;
  const Slot bound = last_of(s);
  std::vector<std::size_t> p(s.size(), 0);
  long long cur = 0, peak = 0;
  int pending = 0;
  for (Slot i = 0; i <= bound; ++i) {
    Slot best = kNone;
    int type = -1;
    for (std::size_t t = 0; t < s.size(); ++t)
      if (p[t] < s[t].size() && s[t][p[t]] < best) best = s[t][p[t]], type = static_cast<int>(t);
    if (best == i) {
      ++p[type];
      cur += delta[std::min(type, 4)];
      if (type == 2 || type == 3) ++pending;
    } else if (!has_w && pending) {
      cur += delta[4];
      --pending;
    }
    peak = std::max(peak, cur);
  }
  return peak;
}

// The next op over all ranks in slot order: (slot, rank, type, micro-batch), smallest first.
struct Next {
  Slot slot = kNone;
  int rank = 0, type = 0, mb = 0;
};

Next next_op(const std::vector<Lists>& all, const std::vector<std::vector<std::size_t>>& p) {
  Next n;
  for (int r = 0; r < static_cast<int>(all.size()); ++r)
    for (int t = 0; t < static_cast<int>(all[r].size()); ++t) {
      const std::size_t k = p[r][t];
      const Slot v = k < all[r][t].size() ? all[r][t][k] : kNone;
      if (v < n.slot) n = {v, r, t, static_cast<int>(k)};
    }
  return n;
}

// Runs every op as early as its inputs and its rank allow, with unit costs and free
// communication, in slot order; returns each op's start time (the "squeeze").
std::vector<Lists> eager_starts(const std::vector<Lists>& all) {
  const int ranks = static_cast<int>(all.size());
  std::vector<Lists> end(ranks), start(ranks);
  std::vector<std::vector<std::size_t>> p(ranks);
  std::vector<Slot> rank_free(ranks, 0);
  std::size_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    p[r].assign(all[r].size(), 0);
    end[r].resize(all[r].size());
    start[r].resize(all[r].size());
    for (std::size_t t = 0; t < all[r].size(); ++t) {
      end[r][t].assign(all[r][t].size(), 0);
      start[r][t].assign(all[r][t].size(), 0);
      total += all[r][t].size();
    }
  }
  for (std::size_t k = 0; k < total; ++k) {
    const Next n = next_op(all, p);
    ++p[n.rank][n.type];
    Slot dep = 0;
    if ((n.type == 0 || n.type == 2) && n.rank > 0) dep = std::max(dep, end[n.rank - 1][n.type][n.mb]);
    if ((n.type == 1 || n.type == 3) && n.rank + 1 < ranks) dep = std::max(dep, end[n.rank + 1][n.type][n.mb]);
    if (n.type > 0 && n.type < 4) dep = std::max(dep, end[n.rank][n.type - 1][n.mb]);
    if (n.mb > 0) dep = std::max(dep, end[n.rank][n.type][n.mb - 1]);
    dep = std::max(dep, rank_free[n.rank]);
    end[n.rank][n.type][n.mb] = dep + 1;
    start[n.rank][n.type][n.mb] = dep;
    rank_free[n.rank] = dep + 1;
  }
  return start;
}

// One greedy pass: in slot order, each op moves to the earliest free slot after its
// dependencies that keeps the rank within the pattern's peak memory. Without W lists, ops
// before the first rank's last backward of the first micro-batch... stay put (phase 0), as do
// those up to the last forward of the first leg on rank 0 (phase 1).
std::vector<Lists> reorder(std::vector<Lists> all, bool with_w) {
  const int ranks = static_cast<int>(all.size());
  if (with_w)
    for (Lists& s : all) put_w(s, false);
  long long peak = 0;
  for (const Lists& s : all) peak = std::max(peak, memory_of(s));
  std::vector<std::vector<std::size_t>> p(ranks);
  std::vector<std::vector<char>> taken(ranks);
  std::size_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    p[r].assign(all[r].size(), 0);
    taken[r].assign(static_cast<std::size_t>(all[r].back().back()) + 1, 0);
    for (const auto& l : all[r]) total += l.size();
  }
  auto take = [&](int r, Slot slot) {
    if (static_cast<std::size_t>(slot) >= taken[r].size()) taken[r].resize(static_cast<std::size_t>(slot) + 1, 0);
    taken[r][static_cast<std::size_t>(slot)] = 1;
  };
  const int last_first_leg_forward = static_cast<int>(all[0][0].size()) - 1;
  int phase = 0;
  for (std::size_t k = 0; k < total; ++k) {
    const Next n = next_op(all, p);
    ++p[n.rank][n.type];
    if (n.type == 3 && n.rank == 0 && phase == 0) phase = 1;
    if (phase == 1) {
      if (n.type == 0 && n.mb == last_first_leg_forward) phase = 2;
      take(n.rank, n.slot);
      continue;
    }
    if (phase == 0 && !with_w) {
      take(n.rank, n.slot);
      continue;
    }
    Lists& s = all[n.rank];
    Slot dep = -1;
    if ((n.type == 0 || n.type == 2) && n.rank > 0) dep = std::max(dep, all[n.rank - 1][n.type][n.mb]);
    if ((n.type == 1 || n.type == 3) && n.rank + 1 < ranks) dep = std::max(dep, all[n.rank + 1][n.type][n.mb]);
    if (n.type > 0 && n.type < 4) dep = std::max(dep, s[n.type - 1][n.mb]);
    if (n.type == 4) {  // a W after the mb-th backward of either leg
      std::vector<Slot> backs(s[2]);
      backs.insert(backs.end(), s[3].begin(), s[3].end());
      std::sort(backs.begin(), backs.end());
      dep = std::max(dep, backs[n.mb]);
    }
    if (n.mb > 0) dep = std::max(dep, s[n.type][n.mb - 1]);
    bool placed = false;
    for (Slot t = dep + 1; t < n.slot; ++t) {
      if (static_cast<std::size_t>(t) < taken[n.rank].size() && taken[n.rank][static_cast<std::size_t>(t)]) continue;
      s[n.type][n.mb] = t;
      if (memory_of(s) <= peak) {
        placed = true;
        break;
      }
    }
    if (!placed) s[n.type][n.mb] = n.slot;
    take(n.rank, s[n.type][n.mb]);
  }
  if (!with_w)
    for (Lists& s : all) put_w(s, false);
  return eager_starts(all);
}

}  // namespace

Schedule v_greedy(int ranks, int microbatches, bool half) {
  const int P = ranks, M = microbatches;
  std::vector<Lists> all(P);
  for (int i = 0; i < P; ++i) {
    Slot first[4];
    if (half) {
      const Slot gap = P % 2 == 0 ? 3 : 0;
      first[0] = 2 * i, first[1] = 3 * P - i - 2, first[2] = 3 * P + gap + 2 * i - 1, first[3] = 6 * P + gap - i - 2;
    } else {
      const Slot gap = P % 3 == 0 ? 2 : 0;
      first[0] = i, first[1] = 2 * P - i - 1, first[2] = 2 * P + gap + i, first[3] = 4 * P + gap - i - 1;
    }
    all[i].resize(4);
    for (int t = 0; t < 4; ++t)
      for (int mb = 0; mb < M; ++mb) all[i][t].push_back(first[t] + 6LL * mb);
  }
  std::vector<Lists> once = reorder(all, true);
  for (Lists& s : once) s.resize(4);
  std::vector<Lists> twice = reorder(once, false);
  for (Lists& s : twice) {
    s.resize(4);
    put_w(s, true);
  }
  Schedule out{half ? "v-half" : "v-min", P, 2 * P, M, v_placement(P), {}, M, {}};
  for (int r = 0; r < P; ++r) {
    const int near = r, far = 2 * P - 1 - r;  // the rank's stage on each leg of the V
    auto& ops = out.per_rank.emplace_back();
    std::vector<std::size_t> p(6, 0);
    const Lists& s = twice[r];
    for (;;) {  // the rank's ops in slot order (ties: the lower type first)
      Slot best = kNone;
      int type = -1;
      for (int t = 0; t < 6; ++t)
        if (p[t] < s[t].size() && s[t][p[t]] < best) best = s[t][p[t]], type = t;
      if (type < 0) break;
      const int mb = static_cast<int>(p[type]++);
      switch (type) {
        case 0: ops.push_back(Op::forward(mb, near)); break;
        case 1: ops.push_back(Op::forward(mb, far)); break;
        case 2: ops.push_back(Op::backward_input(mb, far)); break;
        case 3: ops.push_back(Op::backward_input(mb, near)); break;
        case 4: ops.push_back(Op::weight(mb, far)); break;
        default: ops.push_back(Op::weight(mb, near)); break;
      }
    }
  }
  return out;
}

}  // namespace ppsim::sim::gen
