#pragma once
// This GPU's rates for the runtime's stage math, measured before a run on one rank's share of
// the SMs (its green context's stream): cuBLAS FP32 GEMMs at the stage's own shapes, the GELU
// kernels per element, the memory bandwidth of an SM kernel, and the time of one small kernel.
// predict_stage_cost (predict.hpp) prices the ops with them: the prediction made before the run.
#include <cuda_runtime_api.h>

#include "runtime/predict.hpp"

namespace ppsim::runtime {

KernelRates measure_gpu_rates(const ExecOptions& options, cudaStream_t stream, int sm_count);

}  // namespace ppsim::runtime
