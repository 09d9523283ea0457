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
#include "runtime/world.hpp"

namespace ppsim::runtime {

struct CudaOptions {
  enum class Mode { SingleGpu, Nccl };
  enum class Partition { Auto, Green, None };  // Auto: green contexts, or none when they fail
  Mode mode = Mode::SingleGpu;
  Partition partition = Partition::Auto;
  int comm_sms = 0;  // 0: P2P copies on the copy engines; N: the SM-limited copy kernel on N SMs
  int device = 0;    // single-GPU mode
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
};

bool cuda_backend_built();

// Throws std::invalid_argument for options that cannot run (naming the field), and
// std::runtime_error when no GPU is usable or a wait passes its deadline (naming rank and op).
ExecResult<float> execute_cuda(const sim::Schedule& schedule, const ExecOptions& options, const CudaOptions& cuda,
                               CudaRunInfo* info = nullptr);

// One process per rank (the mpi or env launcher), one GPU each (the node-local rank's), NCCL
// communicators from ncclCommInitRank with rank 0's unique id broadcast through the world.
// Clocks are aligned to rank 0's by the world's ping-pong, as on the CPU; rank 0 gathers the
// loss, the gradients and the timeline. Compiled everywhere CUDA is; not yet run on a GPU.
struct CudaDistributedResult {
  bool root = false;
  ExecResult<float> run;    // rank 0: every rank's results, on rank 0's clock
  ClockSync before, after;  // rank 0
  CudaRunInfo info;
};
CudaDistributedResult execute_cuda_distributed(const sim::Schedule& schedule, const ExecOptions& options,
                                               const CudaOptions& cuda, World& world);

}  // namespace ppsim::runtime
