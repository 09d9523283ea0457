// How fast schedules are generated, validated and exported: every kind at 64 ranks x 512
// micro-batches (the size of a DeepSeek-V3-class pipeline sweep point). Reports ops/s.
#include <benchmark/benchmark.h>

#include "sim/generators.hpp"
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
BENCHMARK_MAIN();
