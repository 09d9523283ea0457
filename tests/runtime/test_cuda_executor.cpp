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
