#pragma once
// How fast one GPU runs the kernels a transformer step is made of, as a function of their
// shapes: GEMMs (tiles, waves over the SMs, small M, grouped GEMMs), the attention core by
// head dimension, and memory-bound kernels. The per-GPU figures come from public
// measurements and sit in the GPU catalog (model/presets/gpus.json, "kernels").
#include <string>
#include <vector>

namespace ppsim::model {

struct GpuSpec;

// Attention-kernel efficiency at one head dimension, of the BF16 dense peak.
struct AttentionPoint {
  int head_dim = 0;
  double forward = 0, backward = 0;
};

// What a GPU's libraries reach, from public measurements (each GPU's entry cites them).
struct KernelFigures {
  // Dense GEMM, of the precision's dense peak, on a large well-shaped problem (8192^3):
  // the "maximum achievable matmul FLOPS" kind of figure.
  double gemm_bf16 = 0.70, gemm_fp8 = 0.70;
  int tile_m = 128, tile_n = 128;  // the output tile one SM (CU) computes at a time
  std::vector<AttentionPoint> attention{{64, 0.50, 0.40}, {128, 0.60, 0.45}};  // sorted by head_dim
  double hbm = 0.80;        // of HBM bandwidth, streaming kernels
  double kernel_us = 4;     // shortest a kernel takes, launch to end
  bool measured = false;    // false: the generic figures above (a user's GPU without "kernels")
  std::string source;       // where each figure comes from
};

// One GEMM C[m x n] = A[m x k] B[k x n], or `groups` independent ones of that shape (a grouped
// GEMM, as MoE experts run: one launch, tiles of every group share the waves).
struct GemmShape {
  double m = 0, n = 0, k = 0;
  double groups = 1;
};

// A GPU's GEMM rates in one precision, ready to price shapes.
struct GemmRates {
  double peak = 0;         // FLOP/s, dense, this precision
  double efficiency = 0;   // of peak, on the reference shape (8192^3)
  int sms = 1, tile_m = 128, tile_n = 128;
  double hbm = 0;          // bytes/s reachable
  double in_bytes = 2;     // per input element (FP8: 1)
  double floor_s = 0;      // shortest kernel
  double sm_rate = 0;      // FLOP/s one SM sustains inside a tile (derived)
};

// The HBM bandwidth streaming kernels reach, bytes/s: `efficiency` > 0 (--efficiency
// memory=...) replaces the GPU's figure.
double hbm_bytes_per_second(const GpuSpec& gpu, double efficiency = 0);

// The problem the catalog's figure is the rate of: the GPU's tile in four whole waves
// (SMs x tile_m rows, 4 x tile_n columns), depth 8192. No shape runs faster.
GemmShape reference_shape(const GemmRates& r);
// `efficiency` > 0 replaces the catalog's large-GEMM figure (--efficiency gemm=...), else the
// figure is scaled by `in_training` (Efficiencies::in_training); `hbm_efficiency` > 0
// replaces the HBM figure.
GemmRates gemm_rates(const GpuSpec& gpu, bool fp8, double efficiency = 0, double hbm_efficiency = 0, double in_training = 1);
// How a shape runs: the tile chosen, its waves, and what bounds the time.
struct GemmPlan {
  double seconds = 0;
  int tile_m = 0, tile_n = 0;
  double tiles = 0, waves = 0;
  int split_k = 1;  // the depth split this many ways (split-K)
  const char* bound = "compute";  // compute | memory | floor
};
// Seconds: waves of tiles over the SMs (a partial last wave costs a full one; a partial tile
// a full tile), each tile's main loop plus a fixed fill, or the bytes at HBM speed if more,
// and never under the kernel floor.
GemmPlan gemm_plan(const GemmRates& r, const GemmShape& g);
double gemm_seconds(const GemmRates& r, const GemmShape& g);
// Useful FLOPs over (seconds x peak).
double gemm_efficiency(const GemmRates& r, const GemmShape& g);

// Attention efficiency at `head_dim`, linear between the catalog's points, flat past the ends.
double attention_efficiency(const KernelFigures& k, double head_dim, bool backward);

}  // namespace ppsim::model
