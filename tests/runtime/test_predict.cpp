// Predictions made before a run: the stage's work counted by hand, priced at measured rates
// (cached), stretched when ranks outnumber cores; a fit completed for kinds its run lacked;
// a run on shared cores turned into each op's work on a core of its own.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "runtime/calibrate.hpp"
#include "runtime/predict.hpp"
#include "sim/engine.hpp"
#include "sim/generators.hpp"

using namespace ppsim;
using namespace ppsim::runtime;

TEST_CASE("the stage's work by hand: two GEMMs a pass, the activation, the bytes") {
  ExecOptions o;
  o.hidden = 32;
  o.ffn = 64;
  o.rows = 8;
  const OpWork w = stage_work(o, 8);
  // Dense: m = 8 rows; each pass 2 GEMMs of 2 x 8 x 32 x 64 FLOPs.
  CHECK(w.f.gemm_flops == 2 * (2.0 * 8 * 32 * 64));
  CHECK(w.bi.gemm_flops == w.f.gemm_flops);
  CHECK(w.w.gemm_flops == w.f.gemm_flops);
  CHECK(w.f.activation_elements == 8 * 64);
  CHECK(w.w.activation_elements == 0);
  CHECK(w.f.bytes == 8.0 * (3 * 8 * 64 + 4 * 8 * 32));
  // MoE: 4 experts, top-2: each expert gets 8 x 2 / 4 = 4 rows, and the slots are dispatched
  // and combined (4 x 8 x 2 x 32 x 8 bytes more in F and in Bi).
  o.experts = 4;
  o.top_k = 2;
  const OpWork m = stage_work(o, 8);
  CHECK(m.f.gemm_flops == 4 * 2 * (2.0 * 4 * 32 * 64));
  CHECK(m.f.bytes == 8.0 * 4 * (3 * 4 * 64 + 4 * 4 * 32) + 4.0 * 8 * 2 * 32 * 8);
  // Launches: two GEMMs per expert and pass; F's two bias kernels, Bi's GELU', W's two bias
  // sums over all experts at once; dispatch and combine in F and Bi.
  CHECK(m.f.kernels == 2 * 4 + 2 + 2);
  CHECK(m.bi.kernels == 2 * 4 + 1 + 2);
  CHECK(m.w.kernels == 2 * 4 + 2);
}

TEST_CASE("op costs are the work at the rates, stretched by the ranks' share of the cores") {
  ExecOptions o;
  o.hidden = 16;
  o.ffn = 32;
  o.rows = 4;
  const KernelRates r{2.0, 10.0, 20.0, 4.0};  // GFLOP/s = FLOP/ns; GB/s = bytes/ns
  const OpWork w = stage_work(o, 4);
  const sim::StageCost c = predict_stage_cost(o, r, 4);
  CHECK(c.f == static_cast<sim::Time>(w.f.gemm_flops / 2 + w.f.activation_elements * 10 + w.f.bytes / 4));
  CHECK(c.w == static_cast<sim::Time>(w.w.gemm_flops / 2 + w.w.bytes / 4));
  CHECK(c.b == static_cast<sim::Time>(w.bi.gemm_flops / 2 + w.bi.activation_elements * 20 + w.bi.bytes / 4) + c.w);
  CHECK(c.fb == c.f + c.b);
  const sim::StageCost shared = predict_stage_cost(o, r, 4, 2.0);
  CHECK(shared.f == doctest::Approx(2.0 * static_cast<double>(c.f)).epsilon(1e-6));
  // A GPU's rates: each pass's GEMMs at their own rate, and every kernel at least a launch.
  KernelRates g = r;
  g.launch_ns = 3000;
  g.gemm_gflops_f = 1.0;
  g.gemm_gflops_bi = 4.0;
  g.gemm_gflops_w = 8.0;
  const sim::StageCost gc = predict_stage_cost(o, g, 4);
  CHECK(w.f.kernels == 4);
  CHECK(w.bi.kernels == 3);
  CHECK(w.w.kernels == 4);
  CHECK(gc.f == static_cast<sim::Time>(w.f.gemm_flops / 1 + w.f.activation_elements * 10 + w.f.bytes / 4 + 4 * 3000));
  CHECK(gc.w == static_cast<sim::Time>(w.w.gemm_flops / 8 + w.w.bytes / 4 + 4 * 3000));
  CHECK(gc.b == static_cast<sim::Time>(w.bi.gemm_flops / 4 + w.bi.activation_elements * 20 + w.bi.bytes / 4 + 3 * 3000) + gc.w);
  CHECK(core_share(1) == 1.0);
  CHECK(core_share(4 * available_cores()) == doctest::Approx(4.0));
}

TEST_CASE("the rates are measured once and then read from the cache") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("ppsim-cache-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  setenv("XDG_CACHE_HOME", dir.c_str(), 1);
  ExecOptions o;
  o.hidden = 16;
  o.ffn = 24;
  o.rows = 4;
  const KernelRates first = measure_cpu_rates<double>(o);
  CHECK(!first.from_cache);
  CHECK(first.gemm_gflops > 0);
  CHECK(first.copy_gbps > 0);
  const KernelRates again = measure_cpu_rates<double>(o);
  CHECK(again.from_cache);
  CHECK(again.gemm_gflops == doctest::Approx(first.gemm_gflops));
  // Another shape is another key.
  o.hidden = 17;
  CHECK(!measure_cpu_rates<double>(o).from_cache);
  unsetenv("XDG_CACHE_HOME");
  std::filesystem::remove_all(dir);
}

TEST_CASE("a fit from a kind without W takes W's share of B from the cost model") {
  const sim::StageCost fitted{1000, 3000, 0, 4000};
  const sim::StageCost model{500, 1200, 400, 1700};
  const sim::StageCost c = complete_fit(fitted, model);
  CHECK(c.f == 1000);
  CHECK(c.b == 3000);
  CHECK(c.w == 1000);  // 3000 x 400 / 1200
  CHECK(c.fb == 4000);
  CHECK(complete_fit({1000, 3000, 0, 0}, model).fb == 4000);
}

TEST_CASE("shared cores: a run's ops, each on a core of its own") {
  // By hand: two ranks on one core. Rank 0 computes over [0, 100], rank 1 over [50, 150]; in
  // [50, 100] each has half the core: 75 ns of work each. On two cores nothing changes.
  sim::Timeline t;
  t.ranks = 2;
  const sim::Op f0{sim::OpKind::F, 0, 0}, f1{sim::OpKind::F, 0, 1};
  t.intervals.push_back({0, sim::Lane::Compute, f0, 0, 100});
  t.intervals.push_back({1, sim::Lane::Compute, f1, 50, 150});
  const sim::Timeline one = on_own_cores(t, 1);
  CHECK(one.intervals[0].end - one.intervals[0].start == 75);
  CHECK(one.intervals[1].end - one.intervals[1].start == 75);
  const sim::Timeline two = on_own_cores(t, 2);
  CHECK(two.intervals[1].end - two.intervals[1].start == 100);

  // The engine's own shared-core runs give back the costs they were simulated with, within a
  // ns per op of rounding, for every kind.
  const sim::CostTable costs(sim::StageCost{3000, 5000, 2000, 7500});
  for (sim::ScheduleKind kind : sim::all_schedule_kinds()) {
    const sim::ScheduleRequest req(kind, 4, 8, sim::is_interleaved(kind) ? 2 : 0);
    if (!sim::check_request(req).empty()) continue;
    const sim::Schedule s = sim::make_schedule(req);
    sim::SimOptions opt;
    opt.shared_cores = 2;
    const sim::Timeline own = on_own_cores(sim::simulate(s, costs, opt).timeline, 2);
    CAPTURE(s.kind);
    for (const auto& iv : own.intervals)
      if (iv.lane == sim::Lane::Compute) CHECK(std::abs((iv.end - iv.start) - costs.duration(iv.op)) <= 2);
  }
}
