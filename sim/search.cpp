#include "sim/search.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "sim/validate.hpp"

namespace ppsim::sim {

namespace {

// Within the limit: the shorter step, then less memory. Over it (a start that does not fit, on
// its way in): less memory first, so the walk repairs the schedule, then the step.
bool better(const SearchEval& a, const SearchEval& b) {
  if (a.feasible != b.feasible) return a.feasible;
  if (!a.feasible && a.memory != b.memory) return a.memory < b.memory;
  if (!a.feasible && a.peak_positions.size() != b.peak_positions.size()) return a.peak_positions.size() < b.peak_positions.size();
  if (a.step != b.step) return a.step < b.step;
  return a.memory < b.memory;
}

bool is_backward(OpKind k) { return k == OpKind::B || k == OpKind::Bi; }

bool releases(const Op& op) {
  const OpKind k = op.kind == OpKind::FB ? op.b_kind : op.kind;
  return k == OpKind::B || k == OpKind::W;
}

// The program positions at which each rank of `ranks` (empty: every rank reaching the most)
// holds its most activation bytes (`bytes` per stage; empty: one each; activations_held counts
// them during each op, as peak_in_flight and the engine do). Each such
// position an F moves past, or an F&B unpaired there, lowers the count, and at 0 that rank's
// peak drops.
std::vector<std::pair<int, int>> peak_positions(const Schedule& s, const std::vector<int>& ranks, const std::vector<std::int64_t>& bytes) {
  const std::vector<std::vector<std::int64_t>> held = activations_held(s, bytes);
  auto most_of = [](const std::vector<std::int64_t>& v) { return v.empty() ? std::int64_t{0} : *std::max_element(v.begin(), v.end()); };
  std::int64_t most = 0;
  for (const auto& rank : held) most = std::max(most, most_of(rank));
  std::vector<std::pair<int, int>> at;
  for (std::size_t r = 0; r < held.size(); ++r) {
    const bool over = ranks.empty() ? most_of(held[r]) == most : std::find(ranks.begin(), ranks.end(), static_cast<int>(r)) != ranks.end();
    if (!over) continue;
    const std::int64_t level = most_of(held[r]);
    for (std::size_t i = 0; i < held[r].size(); ++i)
      if (held[r][i] == level) at.emplace_back(static_cast<int>(r), static_cast<int>(i));
  }
  return at;
}

SearchEval evaluated(const std::function<SearchEval(const Schedule&)>& evaluate, const Schedule& s,
                     const std::vector<std::int64_t>& bytes) {
  SearchEval e = evaluate(s);
  if (!e.feasible) e.peak_positions = peak_positions(s, e.over_ranks, bytes);  // only a walk repairing memory looks at them
  return e;
}

// A number in [lo, hi] from the generator, drawn by hand: the generator's sequence is fixed by
// the standard but the distributions' algorithms are not, so this keeps a seed's answer the
// same with every standard library.
long draw(std::mt19937_64& rng, long lo, long hi) { return lo + static_cast<long>(rng() % static_cast<std::uint64_t>(hi - lo + 1)); }

// Lowers rank's activations held at position i: an F&B there whose backward frees is unpaired
// (the backward first); otherwise the last F at or before i moves to just after the next
// op that frees activations. The moves a walk repairing memory needs, whatever the distance.
bool deflate(Schedule& s, int rank, int i) {
  std::vector<Op>& ops = s.per_rank[static_cast<std::size_t>(rank)];
  if (ops[static_cast<std::size_t>(i)].kind == OpKind::FB && releases(ops[static_cast<std::size_t>(i)])) {
    const Op fb = ops[static_cast<std::size_t>(i)];
    ops[static_cast<std::size_t>(i)] = fb.backward_half();
    ops.insert(ops.begin() + i + 1, fb.forward_half());
    return true;
  }
  int f = i;
  while (f >= 0 && ops[static_cast<std::size_t>(f)].kind != OpKind::F) --f;
  if (f < 0) return false;
  int j = std::max(i, f + 1);
  while (j < static_cast<int>(ops.size()) && !releases(ops[static_cast<std::size_t>(j)])) ++j;
  if (j >= static_cast<int>(ops.size())) return false;
  const Op op = ops[static_cast<std::size_t>(f)];
  ops.erase(ops.begin() + f);
  ops.insert(ops.begin() + j, op);  // j - 1 after the erase is the releasing op: the F lands after it
  return true;
}

// One random move on `s` (in place); false when the chosen spot allows none. Half the moves
// start at an op of the critical path when there is one, or, while the schedule is over the
// memory limit, at a position where its fullest rank holds the most.
bool random_move(Schedule& s, const SearchEval& now, std::mt19937_64& rng) {
  const std::vector<std::pair<int, Op>>& critical = now.critical;
  int rank = static_cast<int>(draw(rng, 0, s.ranks - 1));
  int i = -1;
  if (!now.peak_positions.empty() && draw(rng, 0, 1) == 0) {
    const auto& [r, at] = now.peak_positions[static_cast<std::size_t>(draw(rng, 0, static_cast<long>(now.peak_positions.size()) - 1))];
    if (at >= static_cast<int>(s.per_rank[static_cast<std::size_t>(r)].size())) return false;
    if (draw(rng, 0, 1) == 0) return deflate(s, r, at);
    rank = r, i = at;
  } else if (!critical.empty() && draw(rng, 0, 1) == 0) {
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

namespace {

// One walk from `start` with its own seed (SearchResult's best, counts and stop flag filled).
// Moves tried over all walks, for the progress lines (any walk reports, one at a time).
struct SharedProgress {
  std::atomic<long> done{0};
  long total = 0;
  std::mutex report;
};

SearchResult walk(const Schedule& start, const SearchEval& start_eval, const std::function<SearchEval(const Schedule&)>& evaluate,
                  const SearchOptions& o, std::uint64_t seed, SharedProgress& shared,
                  const std::chrono::steady_clock::time_point t0) {
  const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  SearchResult r;
  r.best = start;
  r.best_eval = start_eval;
  std::mt19937_64 rng(seed);
  // The walk moves on plateaus too (a move no worse than the current schedule is taken): the
  // step of a pipeline is flat under most single moves, and improvements lie across them.
  Schedule current = start, candidate;
  SearchEval current_eval = start_eval;
  for (long k = 0; k < o.evaluations; ++k) {
    if (o.time_limit_s > 0 && seconds() > o.time_limit_s) {
      r.stopped_by_time = true;
      break;
    }
    if (const long done = ++shared.done; o.progress && done % 100 == 0) {
      const std::lock_guard lock(shared.report);
      o.progress(done, shared.total, r.best_eval.step);
    }
    candidate = current;
    // One to three moves at once: single moves get stuck where two are needed together.
    const int moves = static_cast<int>(draw(rng, 1, 3));
    bool moved = false;
    for (int m = 0; m < moves; ++m) moved = random_move(candidate, current_eval, rng) || moved;
    if (!moved) continue;
    ++r.evaluations;
    if (!validate(candidate).ok()) continue;
    const SearchEval e = evaluated(evaluate, candidate, o.activation_bytes);
    if (better(current_eval, e)) continue;  // worse: not taken
    if (better(e, r.best_eval)) {
      r.best = candidate;
      r.best_eval = e;
      ++r.improvements;
    }
    current = std::move(candidate);
    current_eval = e;
  }
  return r;
}

}  // namespace

SearchResult search_schedule(const std::vector<std::pair<std::string, Schedule>>& starts,
                             const std::function<SearchEval(const Schedule&)>& evaluate, const SearchOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  SearchResult r;
  bool have = false;
  for (const auto& [name, s] : starts) {
    if (!validate(s).ok()) continue;
    const SearchEval e = evaluated(evaluate, s, o.activation_bytes);
    r.starts.emplace_back(name, e);
    if (!have || better(e, r.best_eval)) {
      r.best = s;
      r.best_eval = e;
      r.started_from = name;
      have = true;
    }
  }
  if (!have) throw std::invalid_argument("search: no known schedule runs on this pipeline to start from");
  // Walks w = 0..walks-1 from the same start with seeds seed + w, on up to `threads` threads at
  // once; the best wins, the lowest w among equals: the same answer however many threads ran.
  const int walks = std::max(1, o.walks);
  std::vector<SearchResult> done(static_cast<std::size_t>(walks));
  std::vector<std::exception_ptr> failed(done.size());
  std::atomic<int> next{0};
  SharedProgress shared;
  shared.total = o.evaluations * walks;
  auto worker = [&] {
    for (int w = next++; w < walks; w = next++) {
      try {
        done[static_cast<std::size_t>(w)] = walk(r.best, r.best_eval, evaluate, o, o.seed + static_cast<std::uint64_t>(w), shared, t0);
      } catch (...) {
        failed[static_cast<std::size_t>(w)] = std::current_exception();
      }
    }
  };
  const int threads = std::clamp(o.threads, 1, walks);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(worker);
    } catch (const std::system_error&) {  // no more threads: the ones running take the rest
      break;
    }
  }
  worker();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : failed)
    if (e) std::rethrow_exception(e);
  SearchResult* best = &done.front();
  for (SearchResult& w : done) {
    r.evaluations += w.evaluations;
    r.improvements += w.improvements;
    r.stopped_by_time = r.stopped_by_time || w.stopped_by_time;
    if (better(w.best_eval, best->best_eval)) best = &w;
  }
  r.best = std::move(best->best);
  r.best_eval = std::move(best->best_eval);
  r.best_walk = static_cast<int>(best - done.data());
  r.best.kind = "search";
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.best_eval.feasible)
    throw std::invalid_argument("search: no known schedule fits the memory limit, and " + std::to_string(r.evaluations) +
                                " moves from " + r.started_from + " found none that does (the least memory reached: " +
                                std::to_string(r.best_eval.memory) + "); raise the limit or --evaluations");
  return r;
}

}  // namespace ppsim::sim
