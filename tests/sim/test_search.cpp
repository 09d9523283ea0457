// Schedule search: never worse than the best start, always valid and within the memory limit,
// the same schedule for the same seed, and better than every known kind where they leave room.
#include <doctest/doctest.h>

#include <algorithm>

#include "sim/engine.hpp"
#include "sim/generators.hpp"
#include "sim/search.hpp"
#include "sim/validate.hpp"

using namespace ppsim::sim;

namespace {

std::vector<std::pair<std::string, Schedule>> starts(int P, int M) {
  std::vector<std::pair<std::string, Schedule>> s;
  for (ScheduleKind k : {ScheduleKind::GPipe, ScheduleKind::OneFOneB, ScheduleKind::ZB1P, ScheduleKind::DualPipe})
    s.emplace_back(std::string(to_string(k)), make_schedule({k, P, M, 0}));
  return s;
}

struct UnitEval {
  CostTable costs;
  SimOptions options;
  int max_in_flight = 0;
  SearchEval operator()(const Schedule& s) const {
    const auto peak = peak_in_flight(s);
    const int most = *std::max_element(peak.begin(), peak.end());
    const SimResult r = simulate(s, costs, options);
    return SearchEval{r.metrics.makespan, static_cast<double>(most), max_in_flight == 0 || most <= max_in_flight, critical_ops(r.metrics)};
  }
};

}  // namespace

TEST_CASE("search: valid, within memory, never worse than the best start, the same for a seed") {
  SimOptions opt;
  opt.record_timeline = false;
  opt.p2p.latency = 500;  // 0.5 us hand-offs: the known kinds leave room
  const UnitEval eval{parse_unit_costs("F=1,B=2,W=1,FB=2.5"), opt, 0};
  SearchOptions o;
  o.evaluations = 1500;
  const SearchResult a = search_schedule(starts(4, 8), eval, o);
  CHECK(validate(a.best).ok());
  CHECK(a.best.kind == "search");
  // The answer's step is its own (evaluated again), and no start is shorter.
  CHECK(a.best_eval.step == eval(a.best).step);
  for (const auto& [name, e] : a.starts) CHECK(eval(make_schedule({parse_schedule_kind(name), 4, 8, 0})).step >= a.best_eval.step);
  const SearchResult b = search_schedule(starts(4, 8), eval, o);
  CHECK(b.best.per_rank == a.best.per_rank);  // deterministic
  o.seed = 7;
  const SearchResult c = search_schedule(starts(4, 8), eval, o);
  CHECK(validate(c.best).ok());
  // A memory limit the walk must respect: at most 4 activations in flight per rank.
  const UnitEval tight{parse_unit_costs("F=1,B=2,W=1"), opt, 4};
  const SearchResult d = search_schedule(starts(4, 8), tight, o);
  CHECK(d.best_eval.feasible);
  const auto peak = peak_in_flight(d.best);
  CHECK(*std::max_element(peak.begin(), peak.end()) <= 4);
}

TEST_CASE("search: strictly better than every known kind where they are not optimal") {
  // Unequal F, B, W with 0.5 us hand-offs on 8 ranks: ZB2P is the best known kind (58.5 us).
  SimOptions opt;
  opt.record_timeline = false;
  opt.p2p.latency = 500;
  const UnitEval eval{parse_unit_costs("F=1,B=2,W=1,FB=2.5"), opt, 0};
  auto s = starts(8, 16);
  s.emplace_back("zb2p", make_schedule({ScheduleKind::ZB2P, 8, 16, 0, zb_options_for(eval.costs.at(0), 500)}));
  SearchOptions o;
  o.evaluations = 4000;
  const SearchResult r = search_schedule(s, eval, o);
  Time best_start = r.starts.front().second.step;
  for (const auto& [name, e] : r.starts) best_start = std::min(best_start, e.step);
  CHECK(r.best_eval.step < best_start);
}

TEST_CASE("search: several walks, on any number of threads, give the same answer, never worse than one walk") {
  SimOptions opt;
  opt.record_timeline = false;
  opt.p2p.latency = 500;
  const UnitEval eval{parse_unit_costs("F=1,B=2,W=1,FB=2.5"), opt, 0};
  SearchOptions o;
  o.evaluations = 800;
  const SearchResult one = search_schedule(starts(4, 8), eval, o);
  o.walks = 3;
  o.threads = 1;
  const SearchResult serial = search_schedule(starts(4, 8), eval, o);
  o.threads = 3;
  const SearchResult parallel = search_schedule(starts(4, 8), eval, o);
  CHECK(parallel.best.per_rank == serial.best.per_rank);
  CHECK(parallel.best_walk == serial.best_walk);
  CHECK(parallel.evaluations == serial.evaluations);
  CHECK(serial.best_eval.step <= one.best_eval.step);  // walk 0 is the single walk
  CHECK(validate(parallel.best).ok());
}

TEST_CASE("search: a limit no known kind meets is repaired into a schedule that fits") {
  // Three activations per rank on 4 ranks: 1F1B, ZB1P and DualPipe need 4 or more on rank 0.
  SimOptions opt;
  opt.record_timeline = false;
  const UnitEval three{parse_unit_costs("F=1,B=2,W=1"), opt, 3};
  for (const auto& [name, e] : search_schedule(starts(4, 8), UnitEval{three.costs, opt, 0}, {}).starts) CHECK(e.memory > 3);
  SearchOptions o;
  o.evaluations = 4000;
  const SearchResult r = search_schedule(starts(4, 8), three, o);
  CHECK(validate(r.best).ok());
  CHECK(r.best_eval.feasible);
  const auto peak = peak_in_flight(r.best);
  CHECK(*std::max_element(peak.begin(), peak.end()) <= 3);
  CHECK(search_schedule(starts(4, 8), three, o).best.per_rank == r.best.per_rank);  // deterministic
}

TEST_CASE("search: a limit the walk cannot reach is one clear line") {
  const UnitEval none{parse_unit_costs("F=1,B=2,W=1"), {}, 1};
  SearchOptions o;
  o.evaluations = 200;
  CHECK_THROWS_WITH_AS(search_schedule(starts(4, 8), none, o),
                       doctest::Contains("search: no known schedule fits the memory limit, and"), std::invalid_argument);
}
