#pragma once
// Runs a Schedule on GPUs with RankProgram (the same walk as the CPU executor): per rank a
// compute stream and a communication stream, the stage math in cuBLAS and our kernels, and a
// timeline measured with CUDA events. Two modes:
//  - single GPU: P virtual ranks on one GPU, each in a green context holding its own share of
//    the SMs, P2P as device-to-device copies on the communication streams;
//  - NCCL: one GPU per rank, P2P through NCCL.
// Built everywhere; without CUDA, execute_cuda says so.
#include <string>

#include "runtime/executor.hpp"
#include "runtime/predict.hpp"
#include "runtime/world.hpp"

namespace ppsim::runtime {

struct CudaOptions {
  enum class Mode { SingleGpu, Nccl };
  enum class Partition { Auto, Green, None };  // Auto: green contexts, or none when they fail
  Mode mode = Mode::SingleGpu;
  Partition partition = Partition::Auto;
  int comm_sms = 0;  // 0: P2P copies on the copy engines; N: the SM-limited copy kernel on N SMs
  int device = 0;    // single-GPU mode
  // Before the ranks start: this GPU's kernel rates on one rank's SMs (CudaRunInfo::rates), for
  // the prediction made before the run; with green contexts, also under the other ranks' load.
  bool measure_rates = false;
};

struct CudaRunInfo {
  std::string gpu;        // "NVIDIA H200 (132 SMs)"
  std::string mode;       // "single-gpu" | "nccl"
  std::string partition;  // "green contexts: 32 of 132 SMs per rank" | "none: <why>"
  int sms_per_rank = 0;   // 0 when the ranks share every SM
  // True when every rank's times are on one clock (one GPU: CUDA events compared across the
  // ranks' contexts, or the GPU's global timer where CUDA refuses that). With NCCL each rank's
  // epoch is its own, recorded as all ranks left the start line.
  bool one_clock = false;
  // With CudaOptions::measure_rates, on rank 0's SMs: `rates` while the other
  // `rates_busy_partitions` ranks' partitions run GEMMs (as in the run), `rates_alone` without.
  KernelRates rates, rates_alone;
  int rates_busy_partitions = 0;
  // Launch cost off the critical path: the ops whose kernels were all issued before the GPU
  // began them (single process), of `ops`, and the host's mean time issuing one op.
  int ops_issued_ahead = 0, ops = 0;
  double issue_us = 0;
  std::string p2p;  // how hand-offs between ranks were copied
};

bool cuda_backend_built();

// Throws std::invalid_argument for options that cannot run (naming the field), and
// std::runtime_error when no GPU is usable or a wait passes its deadline (naming rank and op).
ExecResult<float> execute_cuda(const sim::Schedule& schedule, const ExecOptions& options, const CudaOptions& cuda,
                               CudaRunInfo* info = nullptr);

// The sequential reference on one GPU: the same model and data as run_sequential, in FP32 on
// one stream with the runtime's kernels. For stages too large for the CPU's double reference
// in seconds; it checks the schedule (order, hand-offs, accumulation), while the GPU suites
// check the kernels against the CPU.
ExecResult<float> run_sequential_cuda(int stages, int microbatches, const ExecOptions& options, int device);

// One process per rank (the mpi or env launcher), one GPU each (the node-local rank's), NCCL
// communicators from ncclCommInitRank with rank 0's unique id broadcast through the world.
// Clocks are aligned to rank 0's by the world's ping-pong, as on the CPU; rank 0 gathers the
// loss, the gradients and the timeline; with CudaOptions::measure_rates each process measures its
// GPU's rates first. Ran on one H200 with one process; the rates here have not run on a GPU yet.
struct CudaDistributedResult {
  bool root = false;
  ExecResult<float> run;    // rank 0: every rank's results, on rank 0's clock
  ClockSync before, after;  // rank 0
  CudaRunInfo info;
};
CudaDistributedResult execute_cuda_distributed(const sim::Schedule& schedule, const ExecOptions& options,
                                               const CudaOptions& cuda, World& world);

}  // namespace ppsim::runtime
