// The stage model's elementwise kernels: bias + GELU forward and backward, bias and weight
// gradient accumulation, the squared-error loss, and FP32 -> BF16. Each matches its reference
// in reference.cpp (the same formulas; sums in the same order where the order is fixed).
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

// One thread per column sums its rows in order, as the reference does.
__global__ void bias_grad_kernel(int rows, int cols, const float* dy, float* gb) {
  for (long j = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; j < cols; j += static_cast<long>(gridDim.x) * blockDim.x) {
    float sum = 0;
    for (int i = 0; i < rows; ++i) sum += dy[static_cast<long>(i) * cols + j];
    gb[j] += sum;
  }
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

// One thread per (expert, column) sums the expert's rows in order, as the reference does per expert.
__global__ void grouped_bias_grad_kernel(int experts, int cols, const int* offsets, const float* dy, float* const* gb) {
  const long n = static_cast<long>(experts) * cols;
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x) {
    const int e = static_cast<int>(i / cols), j = static_cast<int>(i % cols);
    float sum = 0;
    for (int r = offsets[e]; r < offsets[e + 1]; ++r) sum += dy[static_cast<long>(r) * cols + j];
    if (offsets[e + 1] > offsets[e]) gb[e][j] += sum;
  }
}

__global__ void accumulate_kernel(long n, const float* partial, float* acc) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n; i += static_cast<long>(gridDim.x) * blockDim.x)
    acc[i] += partial[i];
}

constexpr int kLossThreads = 256;

// One block: each thread sums a strided share in double, then a fixed tree: deterministic.
__global__ void squared_error_kernel(long n, const float* y, const float* t, float* dy, double* loss) {
  __shared__ double partial[kLossThreads];
  double sum = 0;
  for (long i = threadIdx.x; i < n; i += kLossThreads) {
    const float d = y[i] - t[i];
    dy[i] = d;
    sum += static_cast<double>(d) * d;
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kLossThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) *loss += 0.5 * partial[0];
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

void bias_grad_accumulate(cudaStream_t stream, int rows, int cols, const float* dy, float* gb) {
  const char* name = "bias_grad_accumulate";
  check_count(name, "rows", rows, 1L << 30);
  const LaunchShape l = plan_elementwise(name, cols, current_device_limits());
  bias_grad_kernel<<<l.blocks, l.threads, 0, stream>>>(rows, cols, dy, gb);
  check_launch(name);
}

void accumulate(cudaStream_t stream, long n, const float* partial, float* acc) {
  const LaunchShape l = plan_elementwise("accumulate", n, current_device_limits());
  accumulate_kernel<<<l.blocks, l.threads, 0, stream>>>(n, partial, acc);
  check_launch("accumulate");
}

void grouped_bias_act_forward(cudaStream_t stream, int experts, int rows, int cols, const int* offsets,
                              const float* const* bias, bool apply_gelu, float* z, float* a) {
  const char* name = "grouped_bias_act_forward";
  check_count(name, "experts", experts, 1L << 16);
  check_count(name, "rows", rows, 1L << 30);
  check_count(name, "cols", cols, 1L << 30);
  const long n = static_cast<long>(rows) * cols;
  const LaunchShape l = plan_elementwise(name, n, current_device_limits());
  grouped_bias_act_kernel<<<l.blocks, l.threads, 0, stream>>>(n, experts, cols, offsets, bias, apply_gelu, z, a);
  check_launch(name);
}

void grouped_bias_grad_accumulate(cudaStream_t stream, int experts, int cols, const int* offsets, const float* dy,
                                  float* const* gb) {
  const char* name = "grouped_bias_grad_accumulate";
  check_count(name, "experts", experts, 1L << 16);
  check_count(name, "cols", cols, 1L << 30);
  const LaunchShape l = plan_elementwise(name, static_cast<long>(experts) * cols, current_device_limits());
  grouped_bias_grad_kernel<<<l.blocks, l.threads, 0, stream>>>(experts, cols, offsets, dy, gb);
  check_launch(name);
}

void squared_error(cudaStream_t stream, long n, const float* y, const float* t, float* dy, double* loss) {
  check_count("squared_error", "n", n, 1L << 40);
  squared_error_kernel<<<1, kLossThreads, 0, stream>>>(n, y, t, dy, loss);
  check_launch("squared_error");
}

void to_bf16(cudaStream_t stream, long n, const float* x, std::uint16_t* out) {
  const LaunchShape l = plan_elementwise("to_bf16", n, current_device_limits());
  to_bf16_kernel<<<l.blocks, l.threads, 0, stream>>>(n, x, out);
  check_launch("to_bf16");
}

}  // namespace ppsim::kernels
