#include "sim/search.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>

#include "sim/validate.hpp"

namespace ppsim::sim {

namespace {

bool better(const SearchEval& a, const SearchEval& b) {
  if (a.feasible != b.feasible) return a.feasible;
  if (a.step != b.step) return a.step < b.step;
  return a.memory < b.memory;
}

bool is_backward(OpKind k) { return k == OpKind::B || k == OpKind::Bi; }

// A number in [lo, hi] from the generator, drawn by hand: the generator's sequence is fixed by
// the standard but the distributions' algorithms are not, so this keeps a seed's answer the
// same with every standard library.
long draw(std::mt19937_64& rng, long lo, long hi) { return lo + static_cast<long>(rng() % static_cast<std::uint64_t>(hi - lo + 1)); }

// One random move on `s` (in place); false when the chosen spot allows none. Half the moves
// start at an op of the critical path, when there is one.
bool random_move(Schedule& s, const std::vector<std::pair<int, Op>>& critical, std::mt19937_64& rng) {
  int rank = static_cast<int>(draw(rng, 0, s.ranks - 1));
  int i = -1;
  if (!critical.empty() && draw(rng, 0, 1) == 0) {
    const auto& [r, op] = critical[static_cast<std::size_t>(draw(rng, 0, static_cast<long>(critical.size()) - 1))];
    const auto& list = s.per_rank[static_cast<std::size_t>(r)];
    const auto it = std::find(list.begin(), list.end(), op);
    if (it != list.end()) rank = r, i = static_cast<int>(it - list.begin());
  }
  std::vector<Op>& ops = s.per_rank[static_cast<std::size_t>(rank)];
  if (ops.size() < 2) return false;
  const int n = static_cast<int>(ops.size());
  if (i < 0) i = static_cast<int>(draw(rng, 0, n - 1));
  switch (draw(rng, 0, 9)) {
    case 0: {  // split a full backward into Bi and W
      if (ops[i].kind != OpKind::B) return false;
      ops[i].kind = OpKind::Bi;
      ops.insert(ops.begin() + i + 1, Op::weight(ops[i].mb, ops[i].stage));
      return true;
    }
    case 1: {  // merge a Bi and the W right after it
      if (i + 1 >= n || ops[i].kind != OpKind::Bi || ops[i + 1].kind != OpKind::W || ops[i + 1].mb != ops[i].mb ||
          ops[i + 1].stage != ops[i].stage)
        return false;
      ops[i].kind = OpKind::B;
      ops.erase(ops.begin() + i + 1);
      return true;
    }
    case 2: {  // pair an F with the backward right after or before it
      if (i + 1 >= n) return false;
      const Op a = ops[i], b = ops[i + 1];
      const Op* f = a.kind == OpKind::F ? &a : b.kind == OpKind::F ? &b : nullptr;
      const Op* g = is_backward(a.kind) ? &a : is_backward(b.kind) ? &b : nullptr;
      if (!f || !g || f == g || f->mb == g->mb) return false;
      ops[i] = Op::overlapped(f->mb, f->stage, g->kind, g->mb, g->stage);
      ops.erase(ops.begin() + i + 1);
      return true;
    }
    case 3: {  // unpair an F&B op into its halves, the backward first
      if (ops[i].kind != OpKind::FB) return false;
      const Op fb = ops[i];
      ops[i] = fb.backward_half();
      ops.insert(ops.begin() + i + 1, fb.forward_half());
      return true;
    }
    default: {  // shift an op by up to 6 places
      int d = static_cast<int>(draw(rng, -6, 5));
      if (d >= 0) ++d;
      const int j = i + d;
      if (j < 0 || j >= n) return false;
      const Op op = ops[i];
      ops.erase(ops.begin() + i);
      ops.insert(ops.begin() + j, op);
      return true;
    }
  }
}

}  // namespace

std::vector<std::pair<int, Op>> critical_ops(const Metrics& metrics) {
  std::vector<std::pair<int, Op>> ops;
  for (const CriticalStep& c : metrics.critical_path)
    if (c.lane == Lane::Compute) ops.emplace_back(c.rank, c.op);
  return ops;
}

SearchResult search_schedule(const std::vector<std::pair<std::string, Schedule>>& starts,
                             const std::function<SearchEval(const Schedule&)>& evaluate, const SearchOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  SearchResult r;
  bool have = false;
  for (const auto& [name, s] : starts) {
    if (!validate(s).ok()) continue;
    const SearchEval e = evaluate(s);
    r.starts.emplace_back(name, e);
    if (!have || better(e, r.best_eval)) {
      r.best = s;
      r.best_eval = e;
      r.started_from = name;
      have = true;
    }
  }
  if (!have) throw std::invalid_argument("search: no known schedule runs on this pipeline to start from");
  if (!r.best_eval.feasible) throw std::invalid_argument("search: no known schedule fits the memory limit to start from");
  std::mt19937_64 rng(o.seed);
  // The walk moves on plateaus too (a move no worse than the current schedule is taken): the
  // step of a pipeline is flat under most single moves, and improvements lie across them.
  Schedule current = r.best, candidate;
  SearchEval current_eval = r.best_eval;
  for (long k = 0; k < o.evaluations; ++k) {
    if (o.time_limit_s > 0 && seconds() > o.time_limit_s) {
      r.stopped_by_time = true;
      break;
    }
    if (o.progress && k % 100 == 0) o.progress(k, o.evaluations, r.best_eval.step);
    candidate = current;
    // One to three moves at once: single moves get stuck where two are needed together.
    const int moves = static_cast<int>(draw(rng, 1, 3));
    bool moved = false;
    for (int m = 0; m < moves; ++m) moved = random_move(candidate, current_eval.critical, rng) || moved;
    if (!moved) continue;
    ++r.evaluations;
    if (!validate(candidate).ok()) continue;
    const SearchEval e = evaluate(candidate);
    if (better(current_eval, e)) continue;  // worse: not taken
    if (better(e, r.best_eval)) {
      r.best = candidate;
      r.best_eval = e;
      ++r.improvements;
    }
    current = std::move(candidate);
    current_eval = e;
  }
  r.best.kind = "search";
  r.seconds = seconds();
  return r;
}

}  // namespace ppsim::sim
