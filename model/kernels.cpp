#include "model/kernels.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "model/catalog.hpp"

namespace ppsim::model {

namespace {

// The catalog's GEMM figures are the best a brute-force shape search found (MAMF): ppsim
// reads them as the rate of a problem whose tiles fill whole waves exactly, at depth 8192.
// And the main-loop fill a tile pays whatever its depth (prologue loads and the epilogue,
// about two 64-deep k-blocks).
constexpr double kReferenceDepth = 8192;
constexpr double kTileFillK = 128;

// Libraries pick a tile per problem; ppsim lets a GEMM choose among the GPU's tile, its
// transpose and its half, whichever finishes first. A smaller tile reuses each loaded operand
// less (intensity tm tn / (tm + tn)), so its SMs run slower: by the cube root of the ratio
// (0.91 for a 128x128 tile against 128x256), a stated assumption.
struct Tile {
  double m = 0, n = 0, rate = 1;  // rate: of the GPU tile's per-SM rate
};

std::array<Tile, 4> candidate_tiles(const GemmRates& r) {
  const double m = r.tile_m, n = r.tile_n, base = m * n / (m + n);
  auto tile = [&](double tm, double tn) { return Tile{tm, tn, std::cbrt(std::min(1.0, tm * tn / (tm + tn) / base))}; };
  return {tile(m, n), tile(n, m), tile(m, n / 2), tile(m / 2, n)};
}

struct TileRun {
  Tile tile;
  double tiles = 0, waves = 0, seconds = 0;
  int split_k = 1;
};

// The tiles of one tile shape, the depth split `split` ways (split-K), at `sm_rate` per SM:
// waves of tiles over the SMs; a split adds its FP32 partial sums' trip through HBM.
TileRun run_tiles(const GemmRates& r, const GemmShape& g, const Tile& t, int split, double sm_rate) {
  TileRun run{t, g.groups * std::ceil(g.m / t.m) * std::ceil(g.n / t.n) * split, 0, 0, split};
  run.waves = std::ceil(run.tiles / r.sms);
  run.seconds = run.waves * 2.0 * t.m * t.n * (g.k / split + kTileFillK) / (sm_rate * t.rate);
  if (split > 1) run.seconds += 2.0 * split * g.groups * g.m * g.n * 4 / r.hbm;
  return run;
}

// Libraries also split the depth when the tiles alone leave SMs idle (cuBLAS split-K,
// CUTLASS stream-K): up to 16 ways, only while the split tiles still fit in one wave.
TileRun best_tiles(const GemmRates& r, const GemmShape& g, double sm_rate) {
  TileRun best;
  for (const Tile& t : candidate_tiles(r))
    for (int split = 1; split <= 16; split *= 2) {
      const TileRun run = run_tiles(r, g, t, split, sm_rate);
      if (split > 1 && (g.k / split < 2 * kTileFillK || run.tiles > r.sms)) break;
      if (best.seconds == 0 || run.seconds < best.seconds) best = run;
    }
  return best;
}

}  // namespace

double hbm_bytes_per_second(const GpuSpec& gpu, double efficiency) {
  return gpu.hbm_tbps * 1e12 * (efficiency > 0 ? efficiency : gpu.kernels.hbm);
}

GemmShape reference_shape(const GemmRates& r) {
  return {static_cast<double>(r.tile_m) * r.sms, 4.0 * r.tile_n, kReferenceDepth, 1};
}

GemmRates gemm_rates(const GpuSpec& gpu, bool fp8, double efficiency, double hbm_efficiency, double in_training) {
  const KernelFigures& k = gpu.kernels;
  GemmRates r;
  r.peak = (fp8 ? gpu.fp8_tflops : gpu.bf16_tflops) * 1e12;
  if (r.peak <= 0) throw std::invalid_argument("precision fp8: " + gpu.id + " has no FP8 peak in the catalog; allowed: bf16");
  r.efficiency = efficiency > 0 ? efficiency : (fp8 ? k.gemm_fp8 : k.gemm_bf16) * in_training;
  r.sms = std::max(1, gpu.sms);
  r.tile_m = k.tile_m;
  r.tile_n = k.tile_n;
  r.hbm = hbm_bytes_per_second(gpu, hbm_efficiency);
  r.in_bytes = fp8 ? 1 : 2;
  r.floor_s = k.kernel_us * 1e-6;
  // The per-SM rate that makes the reference problem land exactly on the catalog's figure:
  // four whole waves of the GPU's tile, so no shape can beat the best one measured.
  const GemmShape ref = reference_shape(r);
  const double ref_flops = 2.0 * ref.m * ref.n * ref.k;
  const double ref_seconds = ref_flops / (r.peak * r.efficiency);
  r.sm_rate = best_tiles(r, ref, 1.0).seconds / ref_seconds;
  return r;
}

GemmPlan gemm_plan(const GemmRates& r, const GemmShape& g) {
  GemmPlan p;
  if (g.m <= 0 || g.n <= 0 || g.k <= 0 || g.groups <= 0) return p;
  const TileRun run = best_tiles(r, g, r.sm_rate);
  p.tile_m = static_cast<int>(run.tile.m);
  p.tile_n = static_cast<int>(run.tile.n);
  p.tiles = run.tiles;
  p.waves = run.waves;
  p.split_k = run.split_k;
  p.seconds = run.seconds;
  const double bytes = g.groups * ((g.m * g.k + g.k * g.n) * r.in_bytes + g.m * g.n * 2.0);
  if (bytes / r.hbm > p.seconds) p.seconds = bytes / r.hbm, p.bound = "memory";
  if (r.floor_s > p.seconds) p.seconds = r.floor_s, p.bound = "floor";
  return p;
}

double gemm_seconds(const GemmRates& r, const GemmShape& g) { return gemm_plan(r, g).seconds; }

double gemm_efficiency(const GemmRates& r, const GemmShape& g) {
  const double seconds = gemm_seconds(r, g);
  return seconds > 0 ? 2.0 * g.m * g.n * g.k * g.groups / (seconds * r.peak) : 0;
}

double attention_efficiency(const KernelFigures& k, double head_dim, bool backward) {
  const auto& pts = k.attention;
  auto at = [&](const AttentionPoint& p) { return backward ? p.backward : p.forward; };
  if (pts.empty()) return 0.5;
  if (head_dim <= pts.front().head_dim) return at(pts.front());
  for (std::size_t i = 1; i < pts.size(); ++i)
    if (head_dim <= pts[i].head_dim) {
      const double f = (head_dim - pts[i - 1].head_dim) / (pts[i].head_dim - pts[i - 1].head_dim);
      return at(pts[i - 1]) + f * (at(pts[i]) - at(pts[i - 1]));
    }
  return at(pts.back());
}

}  // namespace ppsim::model
