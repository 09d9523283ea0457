#pragma once
// This GPU's rates for the runtime's stage math, measured before a run on one rank's share of
// the SMs (its green context's stream): cuBLAS FP32 GEMMs at the stage's own shapes, the GELU
// kernels per element, the memory bandwidth of an SM kernel, and the time of one small kernel.
// predict_stage_cost (predict.hpp) prices the ops with them: the prediction made before the run.
#include <cuda_runtime_api.h>

#include "runtime/predict.hpp"

namespace ppsim::runtime {

class GreenContexts;

KernelRates measure_gpu_rates(const ExecOptions& options, cudaStream_t stream, int sm_count);

// Rank 0's rates twice: alone, and while every other rank's partition runs the stage's F GEMMs,
// as in a run where all ranks compute at once (the partitions split the SMs, not the memory or
// the L2). `green` null: the ranks share every SM, and only `alone` is measured.
struct GpuRates {
  KernelRates alone, loaded;
  int busy_partitions = 0;  // the partitions kept busy for `loaded`; 0: loaded = alone
};
GpuRates measure_gpu_rates(const ExecOptions& options, GreenContexts* green, int ranks, int sms_per_rank);

}  // namespace ppsim::runtime
