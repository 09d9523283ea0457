// The stage model's elementwise kernels: bias + GELU forward and backward, bias and weight
// gradient accumulation, the squared-error loss, and FP32 -> BF16. Each matches its reference
// in reference.cpp (the same formulas; sums in a fixed order, so every run gives the same bits).
#include <cuda_bf16.h>

#include "kernels/kernels.hpp"

namespace ppsim::kernels {

namespace {

__device__ float gelu_dev(float z) {
  const float c = 0.7978845608028654f;
  return 0.5f * z * (1 + tanhf(c * (z + 0.044715f * z * z * z)));
}

__device__ float gelu_grad_dev(float z) {
  const float c = 0.7978845608028654f;
  const float t = tanhf(c * (z + 0.044715f * z * z * z));
  return 0.5f * (1 + t) + 0.5f * z * (1 - t * t) * c * (1 + 3 * 0.044715f * z * z);
}

__global__ void bias_act_kernel(long n, int cols, const float* bias, bool apply_gelu, float* z, float* a) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const float v = z[i] + bias[i % cols];
    z[i] = v;
    if (apply_gelu) a[i] = gelu_dev(v);
  }
}

__global__ void gelu_backward_kernel(long n, const float* da, const float* z, float* dz) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x)
    dz[i] = da[i] * gelu_grad_dev(z[i]);
}

// The expert of a row: experts are few (a stage holds at most a few dozen), so a scan.
__device__ int expert_of_row(int experts, const int* offsets, long row) {
  int e = 0;
  while (e + 1 < experts && row >= offsets[e + 1]) ++e;
  return e;
}

__global__ void grouped_bias_act_kernel(long n, int experts, int cols, const int* offsets, const float* const* bias,
                                        bool apply_gelu, float* z, float* a) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const float v = z[i] + bias[expert_of_row(experts, offsets, i / cols)][i % cols];
    z[i] = v;
    if (apply_gelu) a[i] = gelu_dev(v);
  }
}

// Bias gradients, a block per (32-column tile, expert): each of its 32 x 32 threads sums every
// 32nd row of the expert's rows for its column, then the tile's first row of threads adds the 32
// partial sums in order. A fixed order (the same every run, on any GPU), and 32 times the
// parallelism of a thread per column, which left most SMs idle at a stage's widths.
constexpr int kTile = 32, kRowGroups = 32;

template <bool kGrouped>
__global__ void bias_grad_kernel(int rows, int cols, const int* offsets, const float* dy, float* const* gb_of, float* gb) {
  __shared__ float part[kRowGroups][kTile + 1];
  const int e = static_cast<int>(blockIdx.y);
  const int first = kGrouped ? offsets[e] : 0, last = kGrouped ? offsets[e + 1] : rows;
  const long j = static_cast<long>(blockIdx.x) * kTile + threadIdx.x;
  float sum = 0;
  if (j < cols)
    for (int r = first + static_cast<int>(threadIdx.y); r < last; r += kRowGroups) sum += dy[static_cast<long>(r) * cols + j];
  part[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && j < cols && last > first) {
    float total = 0;
    for (int g = 0; g < kRowGroups; ++g) total += part[g][threadIdx.x];
    (kGrouped ? gb_of[e] : gb)[j] += total;
  }
}

__global__ void accumulate_kernel(long n, const float* partial, float* acc) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x)
    acc[i] += partial[i];
}

constexpr int kLossThreads = 256, kLossBlocks = 64;

// A fixed grid (not the device's): each thread sums a strided share in double, each block its
// threads by a fixed tree into partial[block]; then one thread adds the blocks in order. The same
// sum every run, on any GPU, in microseconds (one block alone took milliseconds at model widths).
__global__ void squared_error_kernel(long n, const float* y, const float* t, float* dy, double* partial) {
  __shared__ double part[kLossThreads];
  double sum = 0;
  for (long i = blockIdx.x * static_cast<long>(kLossThreads) + threadIdx.x; i < n; i += static_cast<long>(kLossBlocks) * kLossThreads) {
    const float d = y[i] - t[i];
    dy[i] = d;
    sum += static_cast<double>(d) * d;
  }
  part[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kLossThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = part[0];
}

__global__ void squared_error_total_kernel(const double* partial, double* loss) {
  double total = 0;
  for (int b = 0; b < kLossBlocks; ++b) total += partial[b];
  *loss += 0.5 * total;
}

__global__ void to_bf16_kernel(long n, const float* x, std::uint16_t* out) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x)
    out[i] = __bfloat16_as_ushort(__float2bfloat16_rn(x[i]));
}

}  // namespace

void bias_act_forward(cudaStream_t stream, int rows, int cols, const float* bias, bool apply_gelu, float* z, float* a) {
  const char* name = "bias_act_forward";
  check_count(name, "rows", rows, 1L << 30);
  check_count(name, "cols", cols, 1L << 30);
  const long n = static_cast<long>(rows) * cols;
  const LaunchShape l = plan_elementwise(name, n, current_device_limits());
  bias_act_kernel<<<l.blocks, l.threads, 0, stream>>>(n, cols, bias, apply_gelu, z, a);
  check_launch(name);
}

void gelu_backward(cudaStream_t stream, long n, const float* da, const float* z, float* dz) {
  const LaunchShape l = plan_elementwise("gelu_backward", n, current_device_limits());
  gelu_backward_kernel<<<l.blocks, l.threads, 0, stream>>>(n, da, z, dz);
  check_launch("gelu_backward");
}

namespace {
void launch_bias_grad(const char* name, cudaStream_t stream, int experts, int rows, int cols, const int* offsets,
                      const float* dy, float* const* gb_of, float* gb) {
  check_count(name, "experts", experts, 65535);  // the grid's y dimension
  check_count(name, "cols", cols, 1L << 30);
  const dim3 grid(static_cast<unsigned>((cols + kTile - 1) / kTile), static_cast<unsigned>(experts)), block(kTile, kRowGroups);
  if (offsets != nullptr) bias_grad_kernel<true><<<grid, block, 0, stream>>>(rows, cols, offsets, dy, gb_of, gb);
  else bias_grad_kernel<false><<<grid, block, 0, stream>>>(rows, cols, offsets, dy, gb_of, gb);
  check_launch(name);
}
}  // namespace

void bias_grad_accumulate(cudaStream_t stream, int rows, int cols, const float* dy, float* gb) {
  check_count("bias_grad_accumulate", "rows", rows, 1L << 30);
  launch_bias_grad("bias_grad_accumulate", stream, 1, rows, cols, nullptr, dy, nullptr, gb);
}

void accumulate(cudaStream_t stream, long n, const float* partial, float* acc) {
  const LaunchShape l = plan_elementwise("accumulate", n, current_device_limits());
  accumulate_kernel<<<l.blocks, l.threads, 0, stream>>>(n, partial, acc);
  check_launch("accumulate");
}

void grouped_bias_act_forward(cudaStream_t stream, int experts, int rows, int cols, const int* offsets,
                              const float* const* bias, bool apply_gelu, float* z, float* a) {
  const char* name = "grouped_bias_act_forward";
  check_count(name, "experts", experts, 65535);  // the grid's y dimension
  check_count(name, "rows", rows, 1L << 30);
  check_count(name, "cols", cols, 1L << 30);
  const long n = static_cast<long>(rows) * cols;
  const LaunchShape l = plan_elementwise(name, n, current_device_limits());
  grouped_bias_act_kernel<<<l.blocks, l.threads, 0, stream>>>(n, experts, cols, offsets, bias, apply_gelu, z, a);
  check_launch(name);
}

void grouped_bias_grad_accumulate(cudaStream_t stream, int experts, int cols, const int* offsets, const float* dy,
                                  float* const* gb) {
  launch_bias_grad("grouped_bias_grad_accumulate", stream, experts, 0, cols, offsets, dy, gb, nullptr);
}

void squared_error(cudaStream_t stream, long n, const float* y, const float* t, float* dy, double* loss) {
  check_count("squared_error", "n", n, 1L << 40);
  double* partial = nullptr;
  check_cuda(cudaMallocAsync(reinterpret_cast<void**>(&partial), sizeof(double) * kLossBlocks, stream), "squared_error: cudaMallocAsync");
  squared_error_kernel<<<kLossBlocks, kLossThreads, 0, stream>>>(n, y, t, dy, partial);
  squared_error_total_kernel<<<1, 1, 0, stream>>>(partial, loss);
  const cudaError_t launched = cudaGetLastError();
  cudaFreeAsync(partial, stream);
  check_cuda(launched, "squared_error: launch failed");
}

void to_bf16(cudaStream_t stream, long n, const float* x, std::uint16_t* out) {
  const LaunchShape l = plan_elementwise("to_bf16", n, current_device_limits());
  to_bf16_kernel<<<l.blocks, l.threads, 0, stream>>>(n, x, out);
  check_launch("to_bf16");
}

}  // namespace ppsim::kernels
