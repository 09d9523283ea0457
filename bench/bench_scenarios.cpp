// A whole DeepSeek-V3 step (PP16, 120 micro-batches per pipeline, phases on) through the
// engine, and the comparison the default job runs.
#include <benchmark/benchmark.h>

#include "model/study.hpp"

using namespace ppsim;

namespace {

void BM_DeepSeekV3Step(benchmark::State& state) {
  model::Overrides o;
  o.kind = state.range(0) ? "dualpipe" : "1f1b";
  const model::Scenario s = model::make_scenario("deepseek-v3", o);
  std::uint64_t events = 0;
  for (auto _ : state) {
    model::StudyOptions opt;
    opt.phases = opt.network = state.range(1) != 0;
    const model::StudyResult r = model::run_study(s, opt);
    events += r.sim.metrics.events;
    benchmark::DoNotOptimize(r.run.step_seconds);
  }
  state.SetLabel(std::string(o.kind.value()) + (state.range(1) ? ", phases + fabric" : ", simple"));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void BM_DeepSeekV3CompareAll(benchmark::State& state) {
  for (auto _ : state) {
    for (sim::ScheduleKind k : sim::all_schedule_kinds()) {
      model::Overrides o;
      o.kind = std::string(sim::to_string(k));
      try {
        benchmark::DoNotOptimize(model::run_study(model::make_scenario("deepseek-v3", o)).run.step_seconds);
      } catch (const std::invalid_argument&) {
      }
    }
  }
}

}  // namespace

BENCHMARK(BM_DeepSeekV3Step)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeepSeekV3CompareAll)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
