// GPU figures for the GPU check: cuBLAS GEMM throughput (BF16 and FP32, TFLOP/s), the
// SM-limited copy's bandwidth per SM budget and the MoE permutation's (GB/s), timed with CUDA
// events. Without a GPU each
// benchmark reports why it was skipped.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "kernels/gemm.hpp"
#include "kernels/kernels.hpp"

namespace {

using ppsim::kernels::check_cuda;

bool have_gpu(benchmark::State& state) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err == cudaSuccess && n > 0) return true;
  state.SkipWithError(("no usable GPU: " + std::string(err != cudaSuccess ? cudaGetErrorString(err) : "none")).c_str());
  return false;
}

// Times `work` with events around it on the default stream; returns seconds.
template <class Work>
double timed(Work work) {
  cudaEvent_t start, stop;
  check_cuda(cudaEventCreate(&start), "cudaEventCreate");
  check_cuda(cudaEventCreate(&stop), "cudaEventCreate");
  check_cuda(cudaEventRecord(start, nullptr), "cudaEventRecord");
  work();
  check_cuda(cudaEventRecord(stop, nullptr), "cudaEventRecord");
  check_cuda(cudaEventSynchronize(stop), "cudaEventSynchronize");
  float ms = 0;
  check_cuda(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return ms / 1e3;
}

void BM_Gemm(benchmark::State& state, bool bf16) {
  if (!have_gpu(state)) return;
  const int n = static_cast<int>(state.range(0));
  const std::size_t elems = static_cast<std::size_t>(n) * n;
  void *a, *b;
  float* c;
  const std::size_t in_bytes = elems * (bf16 ? 2 : 4);
  check_cuda(cudaMalloc(&a, in_bytes), "cudaMalloc");
  check_cuda(cudaMalloc(&b, in_bytes), "cudaMalloc");
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&c), elems * 4), "cudaMalloc");
  check_cuda(cudaMemset(a, 0x3c, in_bytes), "cudaMemset");  // small, finite values
  check_cuda(cudaMemset(b, 0x3c, in_bytes), "cudaMemset");
  ppsim::kernels::Blas blas(nullptr);
  auto gemm = [&] {
    if (bf16)
      blas.gemm_bf16(false, false, n, n, n, 1, static_cast<std::uint16_t*>(a), static_cast<std::uint16_t*>(b), 0, c);
    else
      blas.gemm(false, false, n, n, n, 1, static_cast<float*>(a), static_cast<float*>(b), 0, c);
  };
  timed(gemm);  // warm-up: cuBLAS picks its kernel
  for (auto _ : state) state.SetIterationTime(timed(gemm));
  state.counters["TFLOP/s"] =
      benchmark::Counter(2.0 * n * n * static_cast<double>(n) * static_cast<double>(state.iterations()) / 1e12,
                         benchmark::Counter::kIsRate);
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
}
BENCHMARK_CAPTURE(BM_Gemm, bf16, true)->Arg(4096)->Arg(8192)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, fp32, false)->Arg(4096)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_SmCopy(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const int sms = static_cast<int>(state.range(0));
  if (sms > ppsim::kernels::current_device_limits().sm_count) {
    state.SkipWithError("the GPU has fewer SMs than that");
    return;
  }
  const std::size_t bytes = 256u << 20;
  void *src, *dst;
  check_cuda(cudaMalloc(&src, bytes), "cudaMalloc");
  check_cuda(cudaMalloc(&dst, bytes), "cudaMalloc");
  auto copy = [&] { ppsim::kernels::sm_copy(nullptr, dst, src, bytes, sms); };
  timed(copy);
  for (auto _ : state) state.SetIterationTime(timed(copy));
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(bytes) * static_cast<double>(state.iterations()) / 1e9,
                                              benchmark::Counter::kIsRate);
  cudaFree(src);
  cudaFree(dst);
}
BENCHMARK(BM_SmCopy)->Arg(4)->Arg(8)->Arg(20)->Arg(32)->Arg(132)->UseManualTime()->Unit(benchmark::kMillisecond);

// A DeepSeek-V3-like MoE layer's permutation on one GPU: 4,096 tokens, top-8 of 64 experts,
// width 2,048: route, dispatch to the experts' rows, combine back. GB/s counts the bytes the
// dispatch writes and the combine reads.
void BM_MoePermute(benchmark::State& state) {
  if (!have_gpu(state)) return;
  const int tokens = 4096, top_k = 8, experts = 64, hidden = static_cast<int>(state.range(0));
  const std::size_t slots = static_cast<std::size_t>(tokens) * top_k;
  std::vector<int> expert_of(slots);
  for (std::size_t i = 0; i < slots; ++i) expert_of[i] = static_cast<int>((i * 2654435761u) % experts);
  int *experts_d, *offsets, *position, *bad;
  float *x, *permuted, *weight, *y;
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&experts_d), slots * sizeof(int)), "cudaMalloc");
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&offsets), (experts + 1) * sizeof(int)), "cudaMalloc");
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&position), slots * sizeof(int)), "cudaMalloc");
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&bad), sizeof(int)), "cudaMalloc");
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&x), sizeof(float) * tokens * hidden), "cudaMalloc");
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&permuted), sizeof(float) * slots * hidden), "cudaMalloc");
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&weight), sizeof(float) * slots), "cudaMalloc");
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&y), sizeof(float) * tokens * hidden), "cudaMalloc");
  check_cuda(cudaMemcpy(experts_d, expert_of.data(), slots * sizeof(int), cudaMemcpyHostToDevice), "upload");
  check_cuda(cudaMemset(x, 0, sizeof(float) * tokens * hidden), "cudaMemset");
  check_cuda(cudaMemset(weight, 0, sizeof(float) * slots), "cudaMemset");
  auto layer = [&] {
    ppsim::kernels::moe_route(nullptr, tokens, top_k, experts, experts_d, offsets, position, bad);
    ppsim::kernels::moe_dispatch(nullptr, tokens, top_k, hidden, position, nullptr, x, permuted);
    ppsim::kernels::moe_combine(nullptr, tokens, top_k, hidden, position, weight, permuted, y);
  };
  timed(layer);
  for (auto _ : state) state.SetIterationTime(timed(layer));
  const double bytes = 2.0 * static_cast<double>(slots) * hidden * sizeof(float);
  state.counters["GB/s"] = benchmark::Counter(bytes * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
  for (void* p : {static_cast<void*>(experts_d), static_cast<void*>(offsets), static_cast<void*>(position),
                  static_cast<void*>(bad), static_cast<void*>(x), static_cast<void*>(permuted), static_cast<void*>(weight),
                  static_cast<void*>(y)})
    cudaFree(p);
}
BENCHMARK(BM_MoePermute)->Arg(2048)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
