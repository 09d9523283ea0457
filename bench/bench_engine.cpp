// Engine speed: events per second and how the time per event scales with ranks x micro-batches.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "sim/engine.hpp"
#include "sim/flow_network.hpp"
#include "sim/generators.hpp"

using namespace ppsim::sim;

namespace {

void run(benchmark::State& state, const Schedule& s, const SimOptions& opt) {
  const CostTable costs(StageCost{1000, 2000, 1000, 2500, 64 << 20, 256 << 20});
  std::uint64_t events = 0;
  double loop_seconds = 0;
  for (auto _ : state) {
    const SimResult r = simulate(s, costs, opt);
    events += r.metrics.events;
    loop_seconds += r.event_loop_seconds;
    benchmark::DoNotOptimize(r.metrics.makespan);
  }
  // events/s: end to end (set-up, validation if on, loop, metrics); loop_events/s: the event loop alone.
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["loop_events/s"] = static_cast<double>(events) / loop_seconds;
  state.counters["ops"] = static_cast<double>(s.op_count());
  state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
}

// DualPipe, 16 ranks x 512 micro-batches: free communication, metrics only or full timeline.
void BM_DualPipe16x512(benchmark::State& state) {
  SimOptions opt;
  opt.record_timeline = state.range(0) != 0;
  run(state, make_schedule({ScheduleKind::DualPipe, 16, 512, 0}), opt);
}

// The same with 5 us latency and 50 GB/s shared links: every transfer is an event.
void BM_DualPipe16x512Links(benchmark::State& state) {
  SimOptions opt;
  opt.record_timeline = state.range(0) != 0;
  opt.p2p = {5000, 50'000'000'000};
  run(state, make_schedule({ScheduleKind::DualPipe, 16, 512, 0}), opt);
}

// Scaling: ranks x micro-batches from 4 x 32 to 64 x 2048, metrics only.
void BM_DualPipeScaling(benchmark::State& state) {
  SimOptions opt;
  opt.record_timeline = false;
  opt.validate = state.range(1) != 0;
  const int P = static_cast<int>(state.range(0));
  run(state, make_schedule({ScheduleKind::DualPipe, P, 32 * P, 0}), opt);
}

// Large inputs stay bounded: DualPipe on 64 ranks x 4,096 micro-batches (~280K ops), with the
// full timeline; reports the process's peak resident memory.
void BM_DualPipe64x4096Memory(benchmark::State& state) {
  const Schedule s = make_schedule({ScheduleKind::DualPipe, 64, 4096, 0});
  run(state, s, SimOptions{});
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_MiB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace

// The flow network alone: `active` flows kept running (each end starts a new one), each on its
// own NIC and one of the shared uplinks of its group of `group` flows, so a change rebalances
// one group, not every flow. Events per second against the number of active flows.
void BM_FlowNetworkChurn(benchmark::State& state) {
  const int active = static_cast<int>(state.range(0)), group = static_cast<int>(state.range(1));
  const int groups = active / group;
  std::vector<double> capacity(static_cast<std::size_t>(active + groups), 50.0);
  for (int g = 0; g < groups; ++g) capacity[static_cast<std::size_t>(active + g)] = 25.0 * group / 2;  // oversubscribed uplink
  std::uint64_t events = 0, rebalanced = 0;
  for (auto _ : state) {
    EventQueue queue;
    FlowNetwork net(capacity, queue);
    std::uint64_t bytes = 1 << 20;
    for (int f = 0; f < active; ++f) net.start({f, active + f / group}, static_cast<std::int64_t>(bytes + 4096 * f), 0, f);
    for (int done = 0; done < 20 * active;) {
      const Event e = queue.pop();
      const std::int64_t tag = net.on_event(e, e.time);
      ++events;
      ++done;
      rebalanced += static_cast<std::uint64_t>(net.last_rebalanced());
      const int f = static_cast<int>(tag);
      net.start({f, active + f / group}, static_cast<std::int64_t>(bytes + 4096 * ((done * 7919) % 997)), e.time, tag);
      rebalanced += static_cast<std::uint64_t>(net.last_rebalanced());
    }
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["flows rebalanced per change"] = static_cast<double>(rebalanced) / std::max<double>(1, 2.0 * 20 * active * static_cast<double>(state.iterations()));
}

BENCHMARK(BM_DualPipe64x4096Memory)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_FlowNetworkChurn)->Args({64, 8})->Args({256, 8})->Args({1024, 8})->Args({4096, 8})->Args({64, 64})->Args({1024, 1024})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DualPipe16x512)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DualPipe16x512Links)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DualPipeScaling)
    ->ArgsProduct({{4, 8, 16, 32, 64}, {0, 1}})
    ->ArgNames({"ranks", "validate"})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
