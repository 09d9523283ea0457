// The CUDA backend on a real GPU: every schedule kind in single-GPU mode reproduces the
// sequential run (CPU, double) to FP32 rounding, SM partitions hold, waits have deadlines,
// and NCCL mode runs where there are GPUs for it (and refuses clearly where not).
#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include <set>
#include <string>

#include "runtime/cuda_executor.hpp"
#include "sim/generators.hpp"

using namespace ppsim;
using namespace ppsim::runtime;

namespace {

double error_vs_sequential(const ExecResult<float>& run, const sim::Schedule& s, const ExecOptions& o) {
  return max_relative_error(to_double(run), run_sequential<double>(s.stages, s.microbatches, o));
}

ExecOptions small() {
  ExecOptions o;
  o.hidden = 64;
  o.ffn = 128;
  o.rows = 16;
  return o;
}

}  // namespace

TEST_CASE("single GPU: every kind reproduces the sequential run's loss and gradients") {
  const ExecOptions o = small();
  int runs = 0;
  for (sim::ScheduleKind kind : sim::all_schedule_kinds())
    for (int P : {2, 4})
      for (int M : {P, 2 * P + 2}) {
        const sim::ScheduleRequest req{kind, P, M, 0};
        if (!sim::check_request(req).empty()) continue;
        const sim::Schedule s = sim::make_schedule(req);
        INFO(sim::to_string(kind), " P=", P, " M=", M);
        CudaRunInfo info;
        const auto run = execute_cuda(s, o, CudaOptions{}, &info);
        CHECK(error_vs_sequential(run, s, o) <= 1e-4);
        CHECK(run.timeline.intervals.size() == s.op_count());
        CHECK(info.mode == "single-gpu");
        ++runs;
      }
  CHECK(runs >= 20);
}

TEST_CASE("single GPU: green contexts split the SMs; the SM-limited copy and no partition also match") {
  const ExecOptions o = small();
  const sim::Schedule s = sim::make_schedule({sim::ScheduleKind::DualPipe, 4, 8, 0});
  CudaRunInfo info;
  CudaOptions green;
  green.partition = CudaOptions::Partition::Green;
  const auto run = execute_cuda(s, o, green, &info);
  CHECK(error_vs_sequential(run, s, o) <= 1e-4);
  CHECK(info.partition.rfind("green contexts:", 0) == 0);
  int sms = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  CHECK(info.sms_per_rank >= 8);
  CHECK(info.sms_per_rank * 4 <= sms);
  CHECK(info.one_clock);

  CudaOptions copy_kernel;
  copy_kernel.comm_sms = 4;
  CHECK(error_vs_sequential(execute_cuda(s, o, copy_kernel, &info), s, o) <= 1e-4);
  CudaOptions shared;
  shared.partition = CudaOptions::Partition::None;
  CHECK(error_vs_sequential(execute_cuda(s, o, shared, &info), s, o) <= 1e-4);
  CHECK(info.partition == "none: asked for");
  CHECK(info.sms_per_rank == 0);
}

TEST_CASE("single GPU: MoE stages route through moe_route/dispatch/combine and match") {
  ExecOptions o = small();
  o.experts = 8;
  o.top_k = 2;
  for (sim::ScheduleKind kind : {sim::ScheduleKind::OneFOneB, sim::ScheduleKind::ZB1P, sim::ScheduleKind::DualPipe}) {
    const sim::Schedule s = sim::make_schedule({kind, 4, 8, 0});
    INFO(sim::to_string(kind));
    const auto run = execute_cuda(s, o, CudaOptions{});
    CHECK(run.stages.size() == static_cast<std::size_t>(s.stages * 8));
    CHECK(error_vs_sequential(run, s, o) <= 1e-4);
  }
}

TEST_CASE("the GPU's sequential reference equals the CPU's, dense and MoE") {
  for (int experts : {1, 4}) {
    ExecOptions o = small();
    o.experts = experts;
    o.top_k = experts > 1 ? 2 : 1;
    INFO("experts ", experts);
    const ExecResult<float> gpu = run_sequential_cuda(3, 5, o, 0);
    CHECK(gpu.stages.size() == static_cast<std::size_t>(3 * experts));
    CHECK(max_relative_error(to_double(gpu), run_sequential<double>(3, 5, o)) <= 1e-5);
    CHECK(gpu.loss > 0);
  }
}

TEST_CASE("rates measured before the run price the ops; without a partition they are the whole GPU's") {
  ExecOptions o = small();
  o.hidden = 512;
  o.ffn = 1024;
  o.rows = 512;
  const sim::Schedule s = sim::make_schedule({sim::ScheduleKind::OneFOneB, 4, 8, 0});
  for (auto partition : {CudaOptions::Partition::Green, CudaOptions::Partition::None}) {
    CudaOptions c;
    c.partition = partition;
    c.measure_rates = true;
    CudaRunInfo info;
    const auto run = execute_cuda(s, o, c, &info);
    // The GPU's sequential run as the reference at this size (the CPU's takes seconds).
    CHECK(max_relative_error(to_double(run), to_double(run_sequential_cuda(s.stages, s.microbatches, o, 0))) <= 1e-4);
    const KernelRates& r = info.rates;
    INFO(info.partition, ": GEMM ", r.gemm_gflops, " GFLOP/s, memory ", r.copy_gbps, " GB/s, launch ", r.launch_ns, " ns");
    CHECK(r.gemm_gflops > 100);      // an H100-class GPU does tens of thousands; any GPU more than this
    CHECK(r.gemm_gflops < 200000);   // and none does FP32 at 200 TFLOP/s
    CHECK(r.copy_gbps > 10);
    CHECK(r.launch_ns > 100);
    CHECK(r.launch_ns < 1e6);
    CHECK(r.activation_ns > 0);
    CHECK(r.activation_grad_ns > 0);
    for (double pass : {r.gemm_gflops_f, r.gemm_gflops_bi, r.gemm_gflops_w}) CHECK((pass > 100 && pass < 200000));
    CHECK(info.ops == static_cast<int>(s.op_count()));
    CHECK(info.ops_issued_ahead <= info.ops);
    CHECK(info.issue_us > 0);
    const sim::StageCost cost = predict_stage_cost(o, r, 4);
    CHECK(cost.f > 0);
    CHECK(cost.b > cost.w);
  }
  CudaRunInfo none;
  execute_cuda(s, o, CudaOptions{}, &none);
  CHECK(none.rates.gemm_gflops == 0);  // not asked for
}

TEST_CASE("a broken schedule fails by its deadline, naming rank, op and peer") {
  ExecOptions o = small();
  o.timeout = std::chrono::milliseconds(2000);
  sim::Schedule missing{"custom", 2, 2, 2, {0, 1}, {}, 2, {}};
  missing.per_rank = {{sim::Op::forward(0, 0), sim::Op::backward(0, 0)},
                      {sim::Op::forward(0, 1), sim::Op::backward(0, 1), sim::Op::forward(1, 1), sim::Op::backward(1, 1)}};
  CHECK_THROWS_WITH(execute_cuda(missing, o, CudaOptions{}),
                    "rank 1: F mb1 s1 waited 2000 ms for the activation of micro-batch 1 from stage 0 on rank 0: deadline passed");
}

TEST_CASE("NCCL: one GPU per rank where there are enough, a clear refusal where not") {
  int devices = 0;
  cudaGetDeviceCount(&devices);
  const ExecOptions o = small();
  CudaOptions nccl;
  nccl.mode = CudaOptions::Mode::Nccl;
  if (devices < 2) {
    const sim::Schedule s = sim::make_schedule({sim::ScheduleKind::OneFOneB, 2, 4, 0});
    CHECK_THROWS_WITH(execute_cuda(s, o, nccl), doctest::Contains("NCCL mode runs one rank per GPU: 2 ranks, 1 GPU(s)"));
    return;
  }
  const int P = devices >= 4 ? 4 : 2;
  for (sim::ScheduleKind kind : sim::all_schedule_kinds()) {
    const sim::ScheduleRequest req{kind, P, 2 * P, 0};
    if (!sim::check_request(req).empty()) continue;
    const sim::Schedule s = sim::make_schedule(req);
    INFO(sim::to_string(kind), " P=", P);
    CudaRunInfo info;
    const auto run = execute_cuda(s, o, nccl, &info);
    CHECK(error_vs_sequential(run, s, o) <= 1e-4);
    CHECK(info.mode == "nccl");
  }
}
