#pragma once
// Predictions made before a run: ppsim's cost model of the runtime's stage (GEMM FLOPs,
// activation elements, bytes moved, per op kind) priced with this machine's rates, measured by
// short microbenchmarks of the same Eigen kernels at the stage's shapes. Nothing here looks at
// the run it predicts; calibrate.hpp is the other way round (fitted to the run).
#include <string>

#include "runtime/executor.hpp"
#include "sim/costs.hpp"

namespace ppsim::runtime {

// This machine's rates for the stage math (single-threaded, as each rank runs).
struct CpuRates {
  double gemm_gflops = 0;         // Eigen GEMMs at the stage's shapes, the three orientations averaged
  double activation_ns = 0;       // per element: GELU forward
  double activation_grad_ns = 0;  // per element: GELU backward (its derivative and the product)
  double copy_gbps = 0;           // memory: copies, bias adds, sums
  bool from_cache = false;
};

// Measures the rates (about a tenth of a second), or reads them from the cache file
// ($XDG_CACHE_HOME or ~/.cache, ppsim/cpu-rates.json, keyed by precision and shapes).
template <class Scalar>
CpuRates measure_cpu_rates(const ExecOptions& options);

// The work of one op of a stage, by kind (what the cost model prices).
struct StageWork {
  double gemm_flops = 0, activation_elements = 0, bytes = 0;
};
struct OpWork {
  StageWork f, bi, w;
};
OpWork stage_work(const ExecOptions& options, int scalar_bytes);

// F, B (= Bi + W), W and FB (= F + B: one thread runs both halves) of every stage, in ns,
// each stretched by `share`: ranks_on_this_machine / cores when ranks outnumber the cores
// (the ranks then take turns on them), else 1.
sim::StageCost predict_stage_cost(const ExecOptions& options, const CpuRates& rates, int scalar_bytes, double share = 1);
// The cores this process may run on (its CPU affinity), at least 1.
int available_cores();
// The stretch for `ranks` single-threaded ranks on this machine's cores: max(1, ranks / cores).
double core_share(int ranks);

}  // namespace ppsim::runtime
