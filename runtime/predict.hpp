#pragma once
// Predictions made before a run: ppsim's cost model of the runtime's stage (GEMM FLOPs,
// activation elements, bytes moved, per op kind) priced with this machine's rates, measured by
// short microbenchmarks of the same Eigen kernels at the stage's shapes. Nothing here looks at
// the run it predicts; calibrate.hpp is the other way round (fitted to the run).
#include <string>

#include "runtime/executor.hpp"
#include "sim/costs.hpp"

namespace ppsim::runtime {

// This machine's rates for the stage math: on the CPU single-threaded, as each rank runs; on a
// GPU on one rank's share of the SMs (measure_gpu_rates in cuda_rates.hpp).
struct KernelRates {
  double gemm_gflops = 0;         // GEMMs at the stage's shapes, the three orientations averaged
  double activation_ns = 0;       // per element: GELU forward
  double activation_grad_ns = 0;  // per element: GELU backward (its derivative and the product)
  double copy_gbps = 0;           // memory: copies, bias adds, sums
  double launch_ns = 0;           // GPU: the time of one small kernel in a stream (0 on the CPU)
  bool from_cache = false;
  // GPU: each pass's own two GEMMs (F: x*W1, a*W2; Bi: the transposed weights; W: the
  // transposed activations), whose kernels and rates differ; 0 (CPU): gemm_gflops for all.
  double gemm_gflops_f = 0, gemm_gflops_bi = 0, gemm_gflops_w = 0;
};

// Measures the rates (about a tenth of a second), or reads them from the cache file
// ($XDG_CACHE_HOME or ~/.cache, ppsim/cpu-rates.json, keyed by precision and shapes).
template <class Scalar>
KernelRates measure_cpu_rates(const ExecOptions& options);

// The work of one op of a stage, by kind (what the cost model prices).
struct StageWork {
  double gemm_flops = 0, activation_elements = 0, bytes = 0;
  double kernels = 0;  // launches on a GPU (each pays at least launch_ns)
};
struct OpWork {
  StageWork f, bi, w;
};
OpWork stage_work(const ExecOptions& options, int scalar_bytes);
// Rows one expert gets: the stage's tokens x top-k over the experts.
int expert_rows(const ExecOptions& options);

// F, B (= Bi + W), W and FB (= F + B: one thread runs both halves) of every stage, in ns,
// each stretched by `share`: ranks_on_this_machine / cores when ranks outnumber the cores
// (the ranks then take turns on them), else 1.
sim::StageCost predict_stage_cost(const ExecOptions& options, const KernelRates& rates, int scalar_bytes, double share = 1);
// The cores this process may run on (its CPU affinity), at least 1.
int available_cores();
// The stretch for `ranks` single-threaded ranks on this machine's cores: max(1, ranks / cores).
double core_share(int ranks);
// The cores `ranks` single-threaded ranks share on this machine when they outnumber them (for
// sim::SimOptions::shared_cores); 0 when each has a core of its own.
int shared_cores_for(int ranks);

}  // namespace ppsim::runtime
