// A whole DeepSeek-V3 step (PP16, 120 micro-batches per pipeline, phases on) through the
// engine, the cost model and GEMM model on their own (what the compute model costs per
// simulated step), the validation table, and the comparison the default job runs.
#include <benchmark/benchmark.h>

#include "model/cost_model.hpp"
#include "model/kernels.hpp"
#include "model/validation.hpp"
#include "model/sizing.hpp"
#include "model/study.hpp"

using namespace ppsim;

namespace {

void BM_DeepSeekV3Step(benchmark::State& state) {
  model::Overrides o;
  o.kind = state.range(0) ? "dualpipe" : "1f1b";
  const model::Scenario s = model::make_scenario("deepseek-v3", o);
  std::uint64_t events = 0;
  double loop = 0;
  for (auto _ : state) {
    model::StudyOptions opt;
    opt.phases = opt.network = state.range(1) != 0;
    const model::StudyResult r = model::run_study(s, opt);
    events += r.sim.metrics.events;
    loop += r.sim.event_loop_seconds;
    benchmark::DoNotOptimize(r.run.step_seconds);
  }
  // The event loop's share: the rest is the cost model, the schedule, the network's routes.
  state.counters["loop ms"] = 1e3 * loop / static_cast<double>(state.iterations());
  state.SetLabel(std::string(o.kind.value()) + (state.range(1) ? ", phases + fabric" : ", simple"));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

// The cost model alone for DeepSeek-V3's published plan: per-unit counts, group shapes,
// collectives and every stage's phases -- what a sweep pays per plan before it simulates.
void BM_DeepSeekV3CostModel(benchmark::State& state) {
  const model::Scenario s = model::make_scenario("deepseek-v3");
  for (auto _ : state) {
    const model::RooflineCostModel costs(s);
    benchmark::DoNotOptimize(costs.stage(0).forward.compute);
  }
}

// The GEMM model alone: one shape priced (tile candidates, split-K, bounds), what each of a
// step's GEMMs costs to price; the cost model above prices about 30 per unit.
void BM_GemmSeconds(benchmark::State& state) {
  const model::GemmRates r = model::gemm_rates(model::find_gpu("h800"), true, 0, 0, 0.84);
  double m = 4096;
  for (auto _ : state) {
    benchmark::DoNotOptimize(model::gemm_seconds(r, {m, 7168, 2048, 4}));
    m = m == 4096 ? 4097 : 4096;
  }
}

// The validation table end to end: 17 published runs simulated with phases and the fabric.
void BM_Accuracy(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(model::run_validation().mean_abs_error);
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

// ppsim size on the DeepSeek-V3 sweep over H800 and H100 (512-8192 GPUs, every TP/PP/EP,
// micro-batch size and schedule), priced as simulate prices (phases + fabric), screened by
// lower bounds for a 15-row answer as the table does (arg 1) or every plan in full (arg 0, on
// 2048-4096 H800 only: minutes otherwise): configurations per second, infeasible ones included,
// on all cores.
void BM_SizeDeepSeekV3(benchmark::State& state) {
  model::SizingRequest q;
  q.model = "deepseek-v3";
  const bool screen = state.range(0) != 0;
  q.gpus = screen ? std::vector<std::string>{"h800", "h100"} : std::vector<std::string>{"h800"};
  q.min_gpus = screen ? 512 : 2048;
  q.max_gpus = screen ? 8192 : 4096;
  q.screen_top = screen ? 15 : 0;
  std::int64_t configs = 0, simulated = 0;
  for (auto _ : state) {
    const model::SizingResult r = model::run_sizing(q, model::Catalog::builtin());
    configs += r.configurations;
    simulated += r.simulated;
  }
  state.SetLabel(screen ? "h800+h100 512-8192, screened" : "h800 2048-4096, exhaustive");
  state.counters["configs/s"] = benchmark::Counter(static_cast<double>(configs), benchmark::Counter::kIsRate);
  state.counters["simulated in full/s"] = benchmark::Counter(static_cast<double>(simulated), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_SizeDeepSeekV3)->Arg(1)->Arg(0)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_DeepSeekV3Step)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeepSeekV3CostModel)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GemmSeconds)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_Accuracy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeepSeekV3CompareAll)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
