// How fast schedules are generated, validated and exported: every kind at 64 ranks x 512
// micro-batches (the size of a DeepSeek-V3-class pipeline sweep point). Reports ops/s.
#include <benchmark/benchmark.h>

#include <algorithm>

#include "sim/engine.hpp"
#include "sim/generators.hpp"
#include "sim/search.hpp"
#include "sim/schedule_csv.hpp"
#include "sim/validate.hpp"

using namespace ppsim::sim;

namespace {

constexpr int kRanks = 64;
constexpr int kMicrobatches = 512;

ScheduleRequest request(benchmark::State& state) {
  return {all_schedule_kinds().at(static_cast<std::size_t>(state.range(0))), kRanks, kMicrobatches, 0};
}

void label(benchmark::State& state, const Schedule& s, std::size_t iterations_ops) {
  state.SetLabel(s.kind);
  state.SetItemsProcessed(static_cast<int64_t>(iterations_ops));
}

void BM_Generate(benchmark::State& state) {
  const ScheduleRequest req = request(state);
  std::size_t ops = 0;
  Schedule last;
  for (auto _ : state) {
    last = make_schedule(req);
    ops += last.op_count();
    benchmark::DoNotOptimize(last.per_rank.data());
  }
  label(state, last, ops);
}

void BM_Validate(benchmark::State& state) {
  const Schedule s = make_schedule(request(state));
  std::size_t ops = 0;
  for (auto _ : state) {
    const ValidationReport r = validate(s);
    if (!r.ok()) state.SkipWithError(r.errors[0].c_str());
    ops += s.op_count();
  }
  label(state, s, ops);
}

void BM_CsvRoundTrip(benchmark::State& state) {
  const Schedule s = make_schedule(request(state));
  std::size_t ops = 0;
  for (auto _ : state) {
    const Schedule back = schedule_from_csv(to_csv(s));
    benchmark::DoNotOptimize(back.per_rank.data());
    ops += s.op_count();
  }
  label(state, s, ops);
}

}  // namespace

BENCHMARK(BM_Generate)->DenseRange(0, 6)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Validate)->DenseRange(0, 6)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvRoundTrip)->DenseRange(0, 6)->Unit(benchmark::kMillisecond);
// Schedule search on unit costs (F=1, B=2, W=1, an F&B pair 2.5, 0.5 us hand-offs), P ranks x
// 2P micro-batches, 3,000 moves: moves per second, and how much shorter than the best known kind.
static void BM_Search(benchmark::State& state) {
  using namespace ppsim::sim;
  const int P = static_cast<int>(state.range(0));
  SimOptions opt;
  opt.record_timeline = false;
  opt.p2p.latency = 500;
  const CostTable costs = parse_unit_costs("F=1,B=2,W=1,FB=2.5");
  std::vector<std::pair<std::string, Schedule>> starts;
  for (ScheduleKind k : {ScheduleKind::OneFOneB, ScheduleKind::ZB1P, ScheduleKind::ZB2P, ScheduleKind::DualPipe}) {
    ScheduleRequest req(k, P, 2 * P, 0);
    if (plans_for_costs(k)) req.zb = zb_options_for(costs.at(0), 500);
    starts.emplace_back(std::string(to_string(k)), make_schedule(req));
  }
  auto evaluate = [&](const Schedule& s) {
    const SimResult r = simulate(s, costs, opt);
    return SearchEval{r.metrics.makespan, 0, true, critical_ops(r.metrics)};
  };
  SearchOptions o;
  o.evaluations = 3000;
  SearchResult r;
  for (auto _ : state) r = search_schedule(starts, evaluate, o);
  Time best_start = r.starts.front().second.step;
  for (const auto& start : r.starts) best_start = std::min(best_start, start.second.step);
  state.counters["gain %"] = 100.0 * (1.0 - static_cast<double>(r.best_eval.step) / static_cast<double>(best_start));
  state.counters["moves/s"] = benchmark::Counter(static_cast<double>(r.evaluations), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Search)->Arg(4)->Arg(8)->Arg(12)->Arg(16)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
