#pragma once
// Schedule search: local search over per-rank op orders with the simulator as the oracle.
//
// It starts from known schedules (every kind that runs on the pipeline) at the best of them, and
// walks: a random move is taken when the schedule stays valid (complete, acyclic) and its
// evaluation is no worse (a shorter step, or equal with no more memory; over the memory limit
// is worse than any fit), so the walk crosses the plateaus most moves leave the step on. The
// best schedule seen is the answer. When no start fits the limit, the walk starts from the one
// needing the least memory and first repairs it (until it fits, less memory is better, then
// fewer positions holding the most activations): a fast schedule such as DualPipe squeezed under a
// limit it does not meet, rather than a slow one that does. The moves reach both families the known kinds come from:
//   - shift: an op moves up to 6 places on its rank (Zero Bubble's freedom: W fills bubbles);
//   - split / merge: a full backward B becomes Bi then W, or back;
//   - pair / unpair: an adjacent F and backward of other micro-batches become one overlapped
//     F&B op (DualPipe's), or an F&B op becomes its two halves.
// Random choices come from one seeded generator per walk and the evaluation budget is a count,
// so a seed gives the same schedule on every machine; a time limit stops early (and says so).
// Several walks (seeds seed, seed + 1, ...) may run on several threads; the best is kept.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "sim/time.hpp"

namespace ppsim::sim {

struct SearchEval {
  Time step = 0;
  double memory = 0;  // the fullest rank's: activations in flight, or GiB
  bool feasible = true;  // within the memory limit
  // The ops on the critical path (rank, op), when the evaluator knows them: half the moves
  // start at one of these, since only they can shorten the step.
  std::vector<std::pair<int, Op>> critical;
  // The ranks over the memory limit, when the evaluator knows them (GiB: each rank's own static
  // memory); empty: the ranks holding the most activations.
  std::vector<int> over_ranks{};
  // The program positions (rank, index) at which a rank over the limit holds its most
  // activations (set by the search; over the limit only): their count is a graded measure for a
  // walk repairing memory, where moving one F later lowers no peak on its own.
  std::vector<std::pair<int, int>> peak_positions{};
  // The pipeline's idle time, mean over the ranks, when the evaluator knows it: reported beside
  // the step, never used by the walk.
  Time bubble = 0;
};

struct SearchOptions {
  std::uint64_t seed = 1;
  long evaluations = 2000;  // moves tried after the starts, per walk
  // Independent walks from the same start, seeds seed, seed + 1, ...: the best is the answer.
  // `threads` of them run at once (the evaluator must allow that); the answer does not depend on
  // it, unless time_limit_s cuts the walks (then later walks get less of it).
  int walks = 1, threads = 1;
  double time_limit_s = 0;  // 0: none
  // Activation bytes per stage, for a walk repairing memory to find where a rank holds the most
  // (empty: every stage's count the same).
  std::vector<std::int64_t> activation_bytes;
  // Called now and then with (moves tried, moves in all, the reporting walk's best step), from
  // any walk's thread, one call at a time.
  std::function<void(long, long, Time)> progress;
};

struct SearchResult {
  Schedule best;
  SearchEval best_eval;
  std::string started_from;  // the kind the incumbent descends from
  std::vector<std::pair<std::string, SearchEval>> starts;  // every start, as evaluated
  long evaluations = 0, improvements = 0;  // over all walks
  int best_walk = 0;  // the walk that found it (its seed: SearchOptions::seed + best_walk)
  double seconds = 0;
  bool stopped_by_time = false;
};

// The compute ops on a simulation's critical path, as SearchEval::critical wants them.
std::vector<std::pair<int, Op>> critical_ops(const Metrics& metrics);

// `starts`: (name, schedule) pairs, all of one pipeline shape. Throws std::invalid_argument
// when no start is valid, or when the walk ends with no schedule within the memory limit.
SearchResult search_schedule(const std::vector<std::pair<std::string, Schedule>>& starts,
                             const std::function<SearchEval(const Schedule&)>& evaluate, const SearchOptions& options);

}  // namespace ppsim::sim
